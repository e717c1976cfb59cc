package forwarder

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var procSelect = windows.NewLazySystemDLL("ws2_32.dll").NewProc("select")

// fdSet and timeval are Winsock's fd_set (of one socket) and timeval.
type fdSet struct {
	count uint32
	fds   [1]windows.Handle
}

type timeval struct{ sec, usec int32 }

// peekClosed is peerClosed's look at c.raw: select with a zero timeout
// says whether the socket is readable, which an idle connection never is
// unless it has been closed, reset or sent on.
func (c *upConn) peekClosed() bool {
	closed := false
	err := c.raw.Control(func(fd uintptr) {
		set := fdSet{count: 1, fds: [1]windows.Handle{windows.Handle(fd)}}
		var zero timeval
		r, _, _ := procSelect.Call(0, uintptr(unsafe.Pointer(&set)), 0, 0, uintptr(unsafe.Pointer(&zero)))
		closed = int32(r) != 0 // readable (1), or an error (-1)
	})
	return closed || err != nil
}
