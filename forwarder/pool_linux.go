package forwarder

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// peekClosed is peerClosed's look at c.raw: one recvfrom that peeks and
// never waits, through a func made once per connection, so that it
// allocates nothing.
func (c *upConn) peekClosed() bool {
	if c.peekFn == nil {
		c.peekFn = c.peek
	}
	if err := c.raw.Read(c.peekFn); err != nil {
		return true
	}
	return c.peerGone
}

// peek is the raw read of peerClosed.
func (c *upConn) peek(fd uintptr) bool {
	var b [1]byte
	_, _, errno := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case unix.EAGAIN, unix.EINTR:
		c.peerGone = false // nothing to read: open and quiet
	case 0:
		c.peerGone = true // 0 bytes: closed; 1: sent unasked
	default:
		c.peerGone = true // reset
	}
	return true
}
