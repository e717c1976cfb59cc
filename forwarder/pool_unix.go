//go:build unix && !linux

package forwarder

import (
	"golang.org/x/sys/unix"
)

// peerClosed reports whether the backend has closed c, or sent on it
// unasked, while it sat idle in the pool: a peek that never waits.
// Backends close idle keep-alive connections after a few seconds (Node's
// default is 5), and a request written to such a connection would fail
// after it was sent, when it may no longer be sent again.
func peerClosed(c *upConn) bool {
	raw, ok, err := rawConn(c.Conn)
	switch {
	case !ok:
		return false
	case err != nil:
		return true
	}
	closed := false
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = n > 0 || err == nil || (err != unix.EAGAIN && err != unix.EWOULDBLOCK && err != unix.EINTR)
		return true
	})
	return closed || err != nil
}
