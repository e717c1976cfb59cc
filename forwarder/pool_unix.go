//go:build unix && !linux

package forwarder

import (
	"golang.org/x/sys/unix"
)

// peekClosed is peerClosed's look at c.raw: a recvfrom that peeks and
// never waits finds the connection closed, reset or sent on.
func (c *upConn) peekClosed() bool {
	closed := false
	err := c.raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = n > 0 || err == nil || (err != unix.EAGAIN && err != unix.EWOULDBLOCK && err != unix.EINTR)
		return true
	})
	return closed || err != nil
}
