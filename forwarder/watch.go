package forwarder

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchAfter is how long a request on roost's own HTTP/1.x path waits
// (for a backend, or for its response head) before roost watches its
// client for leaving, as net/http's server watches every request: a
// request answered sooner costs no goroutine and no timer.
const watchAfter = 100 * time.Millisecond

// clientWatch notices a client that closes its connection while its
// request waits: it ends the connection's context (Acquire returns) and
// closes the backend connection (the backend sees its request end, as on
// net/http's path). It reads the client's buffer, so it runs only while
// nothing else does: between the request's head and its response head,
// and not while a pump copies the body. The Server's watchLoop starts it
// for requests that have waited watchAfter.
type clientWatch struct {
	cc    *clientConn
	since atomic.Int64           // when the wait began, in Unix nanoseconds; 0 when not waiting
	up    atomic.Pointer[upConn] // the backend connection to close if the client leaves
	left  atomic.Bool            // the client left

	mu       sync.Mutex
	running  bool
	stopping bool
	done     chan struct{}
}

// arm begins a wait.
func (w *clientWatch) arm() {
	w.left.Store(false)
	w.up.Store(nil)
	w.since.Store(time.Now().UnixNano())
}

// backend names the backend connection to close if the client leaves.
func (w *clientWatch) backend(up *upConn) {
	w.up.Store(up)
	if w.left.Load() {
		up.Close()
	}
}

// fire starts watching if the wait has lasted watchAfter by now.
func (w *clientWatch) fire(now int64) {
	if s := w.since.Load(); s == 0 || now-s < int64(watchAfter) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running || w.since.Load() == 0 {
		return
	}
	w.running, w.stopping = true, false
	w.done = make(chan struct{})
	w.cc.rdl.set(w.cc.nc, true, timeZero)
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
		w.left.Store(true)
		w.cc.cancel()
		if up := w.up.Load(); up != nil {
			up.Close()
		}
	}
}

// disarm ends the wait, waiting for a watcher to end; it reports whether
// the client left.
func (w *clientWatch) disarm() bool {
	w.since.Store(0)
	w.mu.Lock()
	if !w.running {
		w.mu.Unlock()
		return w.left.Load()
	}
	w.stopping = true
	w.cc.rdl.set(w.cc.nc, true, time.Now())
	done := w.done
	w.mu.Unlock()
	<-done
	w.mu.Lock()
	w.running = false
	w.mu.Unlock()
	return w.left.Load()
}

// watchLoop starts the watches of requests that have waited watchAfter,
// checking every connection twice per watchAfter, until the Server is
// closed.
func (s *Server) watchLoop() {
	t := time.NewTicker(watchAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case now := <-t.C:
			s.mu.Lock()
			for cc := range s.conns {
				cc.watch.fire(now.UnixNano())
			}
			s.mu.Unlock()
		}
	}
}
