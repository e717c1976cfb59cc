package forwarder

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// peerClosed reports whether the backend has closed c, or sent on it
// unasked, while it sat idle in the pool: a peek that never waits.
// Backends close idle keep-alive connections after a few seconds (Node's
// default is 5), and a request written to such a connection would fail
// after it was sent, when it may no longer be sent again. It makes one
// recvfrom call and allocates nothing.
func peerClosed(c *upConn) bool {
	if c.raw == nil {
		raw, ok, err := rawConn(c.Conn)
		switch {
		case !ok:
			return false
		case err != nil:
			return true
		}
		c.raw, c.peekFn = raw, c.peek
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

var _ net.Conn = (*upConn)(nil)
