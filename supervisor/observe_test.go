package supervisor

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roosthq/roost/config"
)

// events records what Options.Observe and Options.Held are told.
type events struct {
	mu    sync.Mutex
	list  []Event
	held  int // requests waiting now
	peak  int // the most that waited at once
	helds int // calls to Held
}

func (e *events) observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) hold(delta int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.held += delta
	e.peak = max(e.peak, e.held)
	e.helds++
}

func (e *events) kinds() []EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var kinds []EventKind
	for _, ev := range e.list {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func (e *events) options() Options { return Options{Observe: e.observe, Held: e.hold} }

// A backend that starts, serves and is stopped is told as started, ready
// and stopped, each with its pid and port; Status says what runs.
func TestObserveStartReadyStop(t *testing.T) {
	var ev events
	h := start(t, testProcess(config.AspNetCore), ev.options())
	pid := h.pid()
	st := h.s.Status()
	if len(st) != 1 || st[0].State != Running || st[0].PID != pid || st[0].Port == 0 ||
		st[0].Started.IsZero() || st[0].ReadyAt.Before(st[0].Started) {
		t.Errorf("Status = %+v, want running pid %d with its port and times", st, pid)
	}
	h.stop()
	if got, want := ev.kinds(), []EventKind{BackendStarted, BackendReady, BackendStopped}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for _, e := range ev.all() {
		if e.PID != pid || e.Port != st[0].Port {
			t.Errorf("%s: pid %d port %d, want %d %d", e.Kind, e.PID, e.Port, pid, st[0].Port)
		}
	}
	if ready := ev.all()[1]; ready.TimeToReady <= 0 || ready.TimeToReady != st[0].ReadyAt.Sub(st[0].Started) {
		t.Errorf("TimeToReady = %s, want the time from start to ready", ready.TimeToReady)
	}
	if st := h.s.Status(); st[0].State != Stopped || st[0].PID != 0 {
		t.Errorf("Status after Stop = %+v, want stopped with no process", st)
	}
}

// A process that exits after it became ready is told as exited, with its
// exit code; one that exits before as failed.
func TestObserveExits(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_EXIT", "300:7")...)
	var ev events
	h := start(t, p, ev.options())
	h.waitUntil(20*time.Second, "an exit", h.logged("backend exited"))
	got := ev.all()
	i := slices.IndexFunc(got, func(e Event) bool { return e.Kind == BackendExited })
	if i < 2 || got[i].ExitCode != 7 || got[i].Signal != "" || got[i-1].Kind != BackendReady {
		t.Errorf("events %+v, want started, ready, exited with code 7", got)
	}

	h.stop()

	p = testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN", "no", "FAKE_EXIT", "0:3")...)
	var ev2 events
	h = start(t, p, ev2.options())
	h.waitUntil(20*time.Second, "a failed start", h.logged("backend failed to start"))
	got = ev2.all()
	if len(got) < 2 || got[0].Kind != BackendStarted || got[1].Kind != BackendFailed || got[1].ExitCode != 3 {
		t.Errorf("events %+v, want started, failed with code 3", got)
	}
}

// A program that cannot be run is told as not started, and Status says
// why the slot waits and until when.
func TestObserveNotStarted(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Path = filepath.Join(t.TempDir(), "missing.exe")
	var ev events
	h := start(t, p, ev.options())
	h.waitUntil(10*time.Second, "two failures", func() bool { return len(h.entries("backend did not start")) >= 2 })
	if got := ev.kinds(); len(got) < 2 || got[0] != BackendNotStarted || got[1] != BackendNotStarted {
		t.Errorf("events %v, want not started, twice at least", got)
	}
	h.waitUntil(10*time.Second, "a backoff", func() bool { return h.slot(0).State == Backoff })
	st := h.s.Status()[0]
	if st.PID != 0 || st.Reason == "" || st.NextStart.IsZero() {
		t.Errorf("Status = %+v, want no process, a reason and a next start", st)
	}
}

// Held counts the requests that wait for a backend, and only those.
func TestHeld(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN_DELAY", "500")...)
	var ev events
	h := start(t, p, ev.options())
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			_, _, release, err := h.s.Acquire(context.Background())
			if err == nil {
				release()
			}
		})
	}
	wg.Wait()
	h.pid() // ready now: not held
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.held != 0 || ev.peak < 1 || ev.helds != 6 {
		t.Errorf("held %d, peak %d, %d calls; want back to 0, at least 1 at once, 3 waits counted in and out", ev.held, ev.peak, ev.helds)
	}
}
