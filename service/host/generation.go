package host

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/supervisor"
)

// generation is one configuration of the app at work: its supervisor, its
// forwarder and the requests it is serving. A recycle starts a new
// generation beside the old one and retires the old one once the new one
// is ready.
type generation struct {
	n    int // 1 for the first, one more for each after it
	cfg  *config.Config
	sup  *supervisor.Supervisor
	fwd  *forwarder.Forwarder
	done chan struct{} // closed when the supervisor's Run has returned

	active   atomic.Int64  // requests being served
	inflight *atomic.Int64 // the handler's count of them across generations
	draining atomic.Bool   // retire is waiting for active to reach zero
	idle     chan struct{} // size 1: active reached zero while draining
}

// run runs the generation's supervisor until it is stopped.
func (g *generation) run() {
	defer close(g.done)
	g.sup.Run(context.Background())
}

// stop stops the generation's backend gracefully, killing what is left at
// deadline, and waits until it is gone.
func (g *generation) stop(deadline time.Time) {
	g.sup.Stop(deadline)
	<-g.done
	g.fwd.Close()
}

// enter counts a request, in the generation and in all (inflight);
// leave uncounts it.
func (g *generation) enter() {
	g.active.Add(1)
	g.inflight.Add(1)
}

// Leave ends a request's Lease: it is leave.
func (g *generation) Leave() { g.leave() }

func (g *generation) leave() {
	g.inflight.Add(-1)
	if g.active.Add(-1) == 0 && g.draining.Load() {
		select {
		case g.idle <- struct{}{}:
		default:
		}
	}
}

// drain waits until no request is being served, or until deadline. When
// stopping is closed first, the deadline becomes the sooner of deadline
// and stopDeadline(). It reports whether the generation drained.
func (g *generation) drain(deadline time.Time, stopping <-chan struct{}, stopDeadline func() time.Time) bool {
	g.draining.Store(true)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for g.active.Load() > 0 {
		select {
		case <-g.idle:
		case <-stopping:
			stopping = nil
			if d := stopDeadline(); d.Before(deadline) {
				deadline = d
				t.Reset(time.Until(deadline))
			}
		case <-t.C:
			return g.active.Load() == 0
		}
	}
	return true
}

// handler is the handler of every listener. It serves the offline page
// while app_offline.htm is present, and otherwise hands each request to the
// current generation, counting it there so that a generation being retired
// is stopped only once its last request has finished. roost's own
// HTTP/1.x server asks it through Dispatch; net/http's server calls
// ServeHTTP.
type handler struct {
	current  atomic.Pointer[generation]
	offline  atomic.Pointer[[]byte] // the page while offline, else nil
	inflight atomic.Int64           // requests forwarded and not yet done, in every generation: for /status and the metrics
}

// Dispatch picks the Forwarder of one request and counts the request in
// its generation until the Lease is ended.
func (h *handler) Dispatch() (*forwarder.Forwarder, forwarder.Lease, []byte) {
	for {
		if page := h.offline.Load(); page != nil {
			return nil, nil, *page
		}
		g := h.current.Load()
		if g == nil {
			// The controller publishes a generation before it clears the
			// offline page and sets the page before it retires the
			// generation, so this happens only while roost stops.
			return nil, nil, nil
		}
		g.enter()
		if h.current.Load() != g {
			// Retired between the load and the count: use the new one.
			g.leave()
			continue
		}
		return g.fwd, g, nil
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fwd, lease, page := h.Dispatch()
	switch {
	case fwd != nil:
		defer lease.Leave()
		fwd.ServeHTTP(w, r)
	case page != nil:
		forwarder.ServeOffline(w, r, page)
	default:
		forwarder.ServeStopping(w, r)
	}
}
