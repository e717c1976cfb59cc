package host

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/roosthq/roost/service/host/metrics"
	"github.com/roosthq/roost/supervisor"
)

// Status is what the admin listener's /status answers, as JSON, and what
// `roost status` prints. Times are UTC.
type Status struct {
	AppDir  string `json:"appDir"`  // the app folder
	File    string `json:"file"`    // the web.config roost runs from
	Element string `json:"element"` // aspNetCore or httpPlatform

	Roost RoostStatus `json:"roost"`

	// Ready is what /readyz says: a backend is ready and the app is not
	// offline; Reason says why not.
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
	// State is the backend's state (starting, running, backoff, paused,
	// stopping, stopped; with several processes, the most alive of
	// theirs), or offline.
	State    string `json:"state"`
	Offline  bool   `json:"offline"`  // app_offline.htm is present
	Stopping bool   `json:"stopping"` // roost is stopping

	// Generation counts the app's configurations at work: 1 at the start,
	// one more at each recycle and each return from offline. 0 while
	// offline.
	Generation int `json:"generation"`
	// Starts counts the backend processes started since roost started.
	Starts int `json:"starts"`
	// LastExit is how the last backend process that ended did, if one has.
	LastExit *ExitStatus `json:"lastExit"`
	// RestartsPausedUntil is set while rapid-fail protection pauses
	// restarts.
	RestartsPausedUntil *time.Time `json:"restartsPausedUntil"`

	Backends  []BackendStatus `json:"backends"`  // one per process (processesPerApplication)
	Listeners []string        `json:"listeners"` // the app's, as URLs
	Admin     string          `json:"admin"`     // the admin listener's URL
	InFlight  int64           `json:"inFlight"`  // requests being served
}

// RoostStatus is about roost itself.
type RoostStatus struct {
	PID           int       `json:"pid"`
	Version       string    `json:"version"`
	StartedAt     time.Time `json:"startedAt"`
	UptimeSeconds float64   `json:"uptimeSeconds"`
}

// BackendStatus is one backend process's place.
type BackendStatus struct {
	State         string     `json:"state"`
	PID           int        `json:"pid,omitempty"`
	Port          int        `json:"port,omitempty"`
	StartedAt     *time.Time `json:"startedAt,omitempty"`
	ReadyAt       *time.Time `json:"readyAt,omitempty"`
	UptimeSeconds float64    `json:"uptimeSeconds,omitempty"` // since ready
	NextStartAt   *time.Time `json:"nextStartAt,omitempty"`   // backoff, paused
	Reason        string     `json:"reason,omitempty"`        // why the last start failed, or restarts pause
}

// ExitStatus is how a backend process ended.
type ExitStatus struct {
	PID      int    `json:"pid"`
	ExitCode *int   `json:"exitCode,omitempty"` // unless a signal ended it
	Signal   string `json:"signal,omitempty"`
	// Reason is exited (by itself, once ready), start_failed (before it
	// was ready) or stopped (by roost), as in roost_backend_exits_total.
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// record keeps what the backends' events tell that /status reports:
// how many started, and how the last one ended.
type record struct {
	mu       sync.Mutex
	starts   int
	lastExit *ExitStatus
}

// observe takes a backend's event, from any generation, into the record
// and the metrics.
func (c *controller) observe(ev supervisor.Event) {
	m := c.metrics
	var reason metrics.ExitReason
	switch ev.Kind {
	case supervisor.BackendStarted:
		m.BackendStarted()
		c.record.mu.Lock()
		c.record.starts++
		c.record.mu.Unlock()
		return
	case supervisor.BackendReady:
		m.BackendReady(ev.TimeToReady)
		return
	case supervisor.BackendNotStarted:
		m.BackendEnded(metrics.NotStarted)
		return
	case supervisor.BackendFailed:
		reason = metrics.StartFailed
	case supervisor.BackendExited:
		reason = metrics.Exited
	case supervisor.BackendStopped:
		reason = metrics.Stopped
	default:
		return
	}
	m.BackendEnded(reason)
	exit := &ExitStatus{PID: ev.PID, Signal: ev.Signal, Reason: string(reason), At: time.Now().UTC()}
	if ev.Signal == "" {
		code := ev.ExitCode
		exit.ExitCode = &code
	}
	c.record.mu.Lock()
	c.record.lastExit = exit
	c.record.mu.Unlock()
}

// readiness says whether requests would be served now, and why not.
func (c *controller) readiness() (ready bool, reason string) {
	select {
	case <-c.stopping:
		return false, "roost is stopping"
	default:
	}
	if c.handler.offline.Load() != nil {
		return false, "the app is offline: app_offline.htm is present"
	}
	g := c.handler.current.Load()
	if g == nil {
		return false, "no backend"
	}
	return backendsReady(g.sup.Status())
}

// backendsReady says whether one of the backends is ready, and if none
// is, what the first one does.
func backendsReady(st []supervisor.BackendStatus) (bool, string) {
	for _, b := range st {
		if b.State == supervisor.Running {
			return true, ""
		}
	}
	if len(st) == 0 {
		return false, "no backend"
	}
	b := st[0]
	switch b.State {
	case supervisor.Starting:
		return false, fmt.Sprintf("the backend is starting (pid %d, since %s)", b.PID, b.Started.UTC().Format(time.RFC3339))
	case supervisor.Backoff:
		return false, fmt.Sprintf("the backend failed (%s); it starts again at %s", b.Reason, b.NextStart.UTC().Format(time.RFC3339))
	case supervisor.Paused:
		return false, b.Reason
	}
	return false, "the backend is " + b.State.String()
}

// metricsState is the state the metrics' gauges report.
func (c *controller) metricsState() metrics.State {
	s := metrics.State{Offline: c.handler.offline.Load() != nil, InFlight: c.handler.inflight.Load()}
	if g := c.handler.current.Load(); g != nil {
		for _, b := range g.sup.Status() {
			s.BackendUp = s.BackendUp || b.State == supervisor.Running
			s.RestartPaused = s.RestartPaused || b.State == supervisor.Paused
		}
	}
	return s
}

// stateRank orders states from the most alive, for Status.State.
var stateRank = []supervisor.State{supervisor.Running, supervisor.Starting, supervisor.Backoff,
	supervisor.Paused, supervisor.Stopping, supervisor.Stopped}

// status is what /status answers now.
func (c *controller) status() *Status {
	cfg := c.cfg.Load()
	now := time.Now()
	file, err := filepath.Abs(cfg.File)
	if err != nil {
		file = cfg.File
	}
	st := &Status{
		AppDir: cfg.Dir, File: file, Element: cfg.Kind.String(),
		Roost: RoostStatus{PID: os.Getpid(), Version: c.info.version, StartedAt: c.info.started.UTC(),
			UptimeSeconds: now.Sub(c.info.started).Seconds()},
		Offline:   c.handler.offline.Load() != nil,
		Listeners: c.info.listeners,
		Admin:     c.info.admin,
		InFlight:  c.handler.inflight.Load(),
		Backends:  []BackendStatus{},
		State:     "stopped",
	}
	st.Ready, st.Reason = c.readiness()
	select {
	case <-c.stopping:
		st.Stopping = true
	default:
	}
	c.record.mu.Lock()
	st.Starts, st.LastExit = c.record.starts, c.record.lastExit
	c.record.mu.Unlock()
	if g := c.handler.current.Load(); g != nil {
		st.Generation = g.n
		st.Backends, st.State, st.RestartsPausedUntil = backendsStatus(g.sup.Status(), now)
	}
	if st.Offline {
		st.State = "offline"
	}
	return st
}

// backendsStatus turns the supervisor's view of its backends into
// Status's: each backend, the most alive state, and until when restarts
// pause, if they do.
func backendsStatus(sup []supervisor.BackendStatus, now time.Time) ([]BackendStatus, string, *time.Time) {
	out := make([]BackendStatus, 0, len(sup))
	best := len(stateRank)
	var pausedUntil *time.Time
	for _, b := range sup {
		bs := BackendStatus{State: b.State.String(), PID: b.PID, Port: b.Port, Reason: b.Reason,
			StartedAt: utcOrNil(b.Started), ReadyAt: utcOrNil(b.ReadyAt), NextStartAt: utcOrNil(b.NextStart)}
		if !b.ReadyAt.IsZero() {
			bs.UptimeSeconds = now.Sub(b.ReadyAt).Seconds()
		}
		if b.State == supervisor.Paused && (pausedUntil == nil || b.NextStart.Before(*pausedUntil)) {
			pausedUntil = bs.NextStartAt
		}
		for i, s := range stateRank {
			if s == b.State && i < best {
				best = i
			}
		}
		out = append(out, bs)
	}
	state := "stopped"
	if best < len(stateRank) {
		state = stateRank[best].String()
	}
	return out, state, pausedUntil
}

func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
