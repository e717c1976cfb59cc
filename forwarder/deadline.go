package forwarder

import (
	"net"
	"sync/atomic"
	"time"
)

// lazyDeadline is a connection's read or write deadline, moved only when
// it must: a deadline of d from now is left as it is when the one set is
// no later than that and at most d/10 earlier. A busy connection then
// touches its timer about once every d/10 instead of for every request;
// the limit it enforces is between 0.9 d and d.
type lazyDeadline struct {
	at atomic.Int64 // the deadline set, in Unix nanoseconds; 0 for none
}

// extend makes c's read (or write) deadline about d from now.
func (l *lazyDeadline) extend(c net.Conn, read bool, d time.Duration) {
	target := time.Now().Add(d).UnixNano()
	if at := l.at.Load(); at != 0 && at <= target && target-at <= int64(d/10) {
		return
	}
	l.set(c, read, time.Unix(0, target))
}

// set sets c's read (or write) deadline to t exactly; the zero t lifts it.
func (l *lazyDeadline) set(c net.Conn, read bool, t time.Time) {
	if t.IsZero() {
		l.at.Store(0)
	} else {
		l.at.Store(t.UnixNano())
	}
	if read {
		c.SetReadDeadline(t)
	} else {
		c.SetWriteDeadline(t)
	}
}
