package host

import (
	"context"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/logs/access"
	"github.com/roosthq/roost/service/host/metrics"
)

// requestObserver is the forwarder's Observer: it tells the metrics and
// the access log (when there is one) of every request, and the metrics
// of every WebSocket, on either front path.
type requestObserver struct {
	metrics *metrics.Metrics
	access  *access.Log // nil: no access log
}

var _ forwarder.Observer = (*requestObserver)(nil)

func (o *requestObserver) Request(r *forwarder.Record) {
	o.metrics.Request(r.Method, r.Status, r.HeadersAfter, r.BodyBytes)
	if o.access != nil {
		// Write formats the entry before it returns: r's strings are not
		// kept.
		o.access.Write(&access.Entry{
			Time: r.Start.Add(r.Duration), ServerAddr: addrPort(r.LocalAddr),
			Method: r.Method, Target: r.Target, ClientAddr: r.RemoteAddr,
			UserAgent: r.UserAgent, Referer: r.Referer,
			Status: r.Status, Substatus: r.Substatus, TimeTaken: r.Duration,
		})
	}
}

func (o *requestObserver) WebSocket(open bool) {
	if open {
		o.metrics.WebSocketOpened()
	} else {
		o.metrics.WebSocketClosed()
	}
}

// addrPort is a listener's address as the access log writes it; the zero
// value for an address that is not TCP's.
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	return netip.AddrPort{}
}

// openAccessLog opens the access log of opts, if any, counting its lost
// lines in m.
func openAccessLog(opts Options, m *metrics.Metrics) (*access.Log, error) {
	if opts.AccessLog == nil {
		return nil, nil
	}
	l, err := opts.AccessLog(m.AccessLogLinesDropped)
	if err != nil {
		return nil, &OptionError{err}
	}
	return l, nil
}

// closeAccessLog writes what the access log has queued and closes it, by
// deadline at the latest.
func (o *requestObserver) closeAccessLog(deadline time.Time, log *zap.Logger) {
	if o.access == nil {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := o.access.Close(ctx); err != nil {
		log.Warn("cannot close the access log", zap.Error(err))
	}
}
