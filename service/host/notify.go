package host

import (
	"fmt"
	"sync"
	"time"

	"github.com/roosthq/roost/supervisor"
)

// Notifier hears of the app's life in a service manager's terms; package
// service's Notifier tells systemd (sd_notify). Run calls Ready once the
// listeners are bound and the app first serves or cannot (its first
// backend is ready, restarts are paused, or app_offline.htm is present);
// Reloading, then Ready, around each recycle; Stopping once roost begins to
// stop; and Status for every other change. status is a short sentence for
// people (systemctl status shows it). A nonzero within says that the next
// call comes within that time, while roost starts, recycles or stops. The
// methods may be called from several goroutines and must not block.
type Notifier interface {
	Ready(status string)
	Reloading(status string, within time.Duration)
	Status(status string, within time.Duration)
	Stopping(status string, within time.Duration)
}

// announcer keeps the order that Notifier promises, whoever calls it:
// Ready once the app first settles, Reloading only after that and Ready
// again when the recycle settles, and only Status once stopping.
type announcer struct {
	n Notifier // nil: announce nothing

	mu        sync.Mutex
	ready     bool // Ready was sent
	reloading bool // Reloading was sent, and its Ready not yet
	stopping  bool // Stopping was sent
}

// status announces a change that does not settle anything. within is
// passed on only while roost starts or recycles, when the service manager
// is waiting.
func (a *announcer) status(status string, within time.Duration) {
	if a.n == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ready && !a.reloading || a.stopping {
		within = 0
	}
	a.n.Status(status, within)
}

// settled announces that the app serves, or cannot: the first time, and
// at the end of a recycle, with Ready; otherwise as a status.
func (a *announcer) settled(status string) {
	if a.n == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.stopping:
		return
	case !a.ready || a.reloading:
		a.ready, a.reloading = true, false
		a.n.Ready(status)
	default:
		a.n.Status(status, 0)
	}
}

// reload announces a recycle that settles within the given time. Before
// the app first settled, it is only a status: Ready is still to come.
func (a *announcer) reload(status string, within time.Duration) {
	if a.n == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.stopping:
	case a.ready:
		a.reloading = true
		a.n.Reloading(status, within)
	default:
		a.n.Status(status, within)
	}
}

// reloadFailed ends a recycle that did not happen: the app goes on as it
// was, which settled already when Reloading was sent.
func (a *announcer) reloadFailed(status string) {
	if a.n == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.stopping:
	case a.reloading:
		a.reloading = false
		a.n.Ready(status)
	default:
		a.n.Status(status, 0)
	}
}

// stop announces that roost is stopping, within the given time.
func (a *announcer) stop(status string, within time.Duration) {
	if a.n == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopping = true
	a.n.Stopping(status, within)
}

// backendChanged announces a change of a backend of the current
// generation g: a start, ready, a failure or a pause. Stops are announced
// by what caused them (a recycle, app_offline.htm, roost stopping).
func (a *announcer) backendChanged(g *generation, e supervisor.StateChange) {
	p := g.cfg.Process
	slot := ""
	if p.ProcessesPerApplication > 1 {
		slot = fmt.Sprintf("process %d of %d: ", e.Slot+1, p.ProcessesPerApplication)
	}
	switch e.State {
	case supervisor.Starting:
		a.status(fmt.Sprintf("%sstarting the app (pid %d, port %d)", slot, e.PID, e.Port), p.StartupTimeLimit)
	case supervisor.Running:
		a.settled(fmt.Sprintf("%sserving (pid %d, port %d)", slot, e.PID, e.Port))
	case supervisor.Backoff:
		delay := max(time.Until(e.Next), 0)
		a.status(fmt.Sprintf("%sthe app failed (%s); restarting in %s", slot, e.Reason, delay.Round(time.Millisecond)), delay)
	case supervisor.Paused:
		a.settled(fmt.Sprintf("%snot serving: %s", slot, e.Reason))
	}
}
