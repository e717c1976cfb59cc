package host

import (
	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/service/host/metrics"
)

// requestObserver is the forwarder's Observer: it tells the metrics of
// every request and WebSocket, on either front path.
type requestObserver struct {
	metrics *metrics.Metrics
}

var _ forwarder.Observer = (*requestObserver)(nil)

func (o *requestObserver) Request(r *forwarder.Record) {
	o.metrics.Request(r.Method, r.Status, r.HeadersAfter, r.BodyBytes)
}

func (o *requestObserver) WebSocket(open bool) {
	if open {
		o.metrics.WebSocketOpened()
	} else {
		o.metrics.WebSocketClosed()
	}
}
