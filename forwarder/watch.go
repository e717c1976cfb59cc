package forwarder

import (
	"sync"
	"time"
)

// watchAfter is how long a request on roost's own HTTP/1.x path waits
// (for a backend, or for its response head) before roost starts watching
// the client for leaving, as net/http's server watches every request: a
// request answered sooner costs no goroutine.
const watchAfter = 100 * time.Millisecond

// clientWatch notices a client that closes its connection while its
// request waits: it ends the connection's context (Acquire returns) and
// closes the backend connection (the backend sees its request end, as
// with net/http's path). It reads the client's buffer, so it runs only
// while nothing else does: between the request's head and its response
// head, and not while a pump copies the body.
type clientWatch struct {
	cc    *clientConn
	timer *time.Timer

	mu       sync.Mutex
	armed    bool
	running  bool
	stopping bool
	done     chan struct{}
	up       *upConn // the backend connection to close if the client leaves
	left     bool    // the client left
}

func newClientWatch(cc *clientConn) *clientWatch {
	w := &clientWatch{cc: cc}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}

// arm starts the wait after which the client is watched.
func (w *clientWatch) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed, w.left, w.up = true, false, nil
	w.timer.Reset(watchAfter)
}

// backend names the backend connection to close if the client leaves.
func (w *clientWatch) backend(up *upConn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.up = up
	if w.left && up != nil {
		up.Close()
	}
}

func (w *clientWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.armed || w.running {
		return
	}
	w.running, w.stopping = true, false
	w.done = make(chan struct{})
	w.cc.nc.SetReadDeadline(timeZero)
	go w.run()
}

// run waits for the client to send or close; what it sends stays
// buffered for the next request.
func (w *clientWatch) run() {
	defer close(w.done)
	_, err := w.cc.br.Peek(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && !w.stopping {
		w.left = true
		w.cc.cancel()
		if w.up != nil {
			w.up.Close()
		}
	}
}

// disarm stops watching, waiting for the watcher to end; it reports
// whether the client left.
func (w *clientWatch) disarm() bool {
	w.mu.Lock()
	w.armed = false
	w.timer.Stop()
	if !w.running {
		left := w.left
		w.mu.Unlock()
		return left
	}
	w.stopping = true
	w.cc.nc.SetReadDeadline(time.Now())
	done := w.done
	w.mu.Unlock()
	<-done
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = false
	return w.left
}
