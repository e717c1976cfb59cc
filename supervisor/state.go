package supervisor

import (
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
)

// State is where a backend slot is in its life.
type State int

const (
	// Stopped: no process, and none will be started (before Run, after it).
	Stopped State = iota
	// Starting: a process was started and is not listening yet.
	Starting
	// Running: the process listens on its port and takes requests.
	Running
	// Backoff: the last process failed; the next start waits a short delay.
	Backoff
	// Paused: too many failures; restarts wait until the rapid-fail window
	// or startupRetryCount allows one again.
	Paused
	// Stopping: the process is being stopped gracefully.
	Stopping
)

var stateNames = [...]string{"stopped", "starting", "running", "backoff", "paused", "stopping"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// transitions is a slot's state machine: from each state, the states it
// may move to. Every move is made by the method named after the state it
// enters (toStarting, toRunning, ...), and every other move is a bug.
//
// A failure (a start that could not run the program, a process that did
// not become ready, one that exited) leads to Backoff or Paused, from
// whatever state the slot was in; one that comes with a stop leads to
// Stopped instead. Stopping is entered only with a process to stop.
var transitions = map[State][]State{
	Stopped:  {Starting, Backoff, Paused},
	Starting: {Running, Backoff, Paused, Stopping, Stopped},
	Running:  {Backoff, Paused, Stopping, Stopped},
	Backoff:  {Starting, Backoff, Paused, Stopped},
	Paused:   {Starting, Backoff, Paused, Stopped},
	Stopping: {Stopped},
}

// StateChange is a change of a slot's state, as Options.StateChanged
// hears of it.
type StateChange struct {
	Slot  int   // which of the processesPerApplication slots, from 0
	State State // the state the slot entered
	PID   int   // Starting, Running, Stopping, Stopped: the process; 0 when there is none
	Port  int   // its port, likewise

	// Reason is, for Backoff, why the last process failed; for Paused,
	// what Acquire's callers are told: the limit, until when, and the
	// failure.
	Reason string
	// Next is, for Backoff and Paused, when the next start comes.
	Next time.Time
}

// The transitions. Each one checks its move against the table, makes its
// change under the lock, wakes Acquire's waiters, logs its one line and
// reports the change to Options.StateChanged.
// Only the slot's own goroutine in Run calls them. Each says what becomes
// of sl.current, the backend in rotation: only toRunning sets it.

// toStarting records that b, the process of the given start attempt, was
// started.
func (s *Supervisor) toStarting(sl *slot, b *backend, attempt int) {
	s.mu.Lock()
	s.moveLocked(sl, Starting)
	sl.current = nil
	sl.proc = &procInfo{pid: b.pid, port: b.port, started: b.started}
	s.mu.Unlock()
	b.log.Info("backend started", zap.Int("attempt", attempt))
	s.reportChange(StateChange{Slot: sl.index, State: Starting, PID: b.pid, Port: b.port})
	s.observe(Event{Kind: BackendStarted, PID: b.pid, Port: b.port})
}

// toRunning puts b, ready, in rotation, and forgets the last failure.
func (s *Supervisor) toRunning(sl *slot, b *backend) {
	took := b.readyAt.Sub(b.started)
	b.log.Info("backend ready", zap.Duration("time_to_ready", took), zap.String("url", b.url.String()))
	// Observed before it is published, so that whoever sees the backend
	// in rotation (a request, a metrics scrape) sees its event counted.
	s.observe(Event{Kind: BackendReady, PID: b.pid, Port: b.port, TimeToReady: took})
	s.mu.Lock()
	s.moveLocked(sl, Running)
	sl.current, sl.reason = b, ""
	sl.proc = &procInfo{pid: b.pid, port: b.port, started: b.started, readyAt: b.readyAt}
	s.mu.Unlock()
	s.reportChange(StateChange{Slot: sl.index, State: Running, PID: b.pid, Port: b.port})
}

// toBackoff records that after failure d the next start comes at next.
func (s *Supervisor) toBackoff(sl *slot, d decision, next time.Time) {
	s.mu.Lock()
	s.moveLocked(sl, Backoff)
	sl.current, sl.proc, sl.nextStart = nil, nil, next
	s.mu.Unlock()
	sl.log.Info("restart scheduled", zap.Duration("delay", d.delay), zap.String("reason", d.cause))
	s.reportChange(StateChange{Slot: sl.index, State: Backoff, Reason: d.cause, Next: next})
}

// toPaused records that after failure d restarts pause until next; the
// reason is what Acquire's callers are told meanwhile.
func (s *Supervisor) toPaused(sl *slot, d decision, next time.Time) {
	s.mu.Lock()
	s.moveLocked(sl, Paused)
	sl.current, sl.proc, sl.nextStart = nil, nil, next
	reason := fmt.Sprintf("restarts paused by %s until %s after: %s", d.reason, next.Format(time.TimeOnly), d.cause)
	sl.reason = reason
	s.mu.Unlock()
	sl.log.Warn("restarts paused", zap.String("limit", d.reason), zap.Time("until", next), zap.Duration("for", d.delay))
	s.reportChange(StateChange{Slot: sl.index, State: Paused, Reason: reason, Next: next})
}

// toStopping takes b out of rotation, to be stopped by deadline.
func (s *Supervisor) toStopping(sl *slot, b *backend, deadline time.Time) {
	s.mu.Lock()
	s.moveLocked(sl, Stopping)
	sl.current = nil
	s.mu.Unlock()
	b.log.Debug("stopping backend", zap.Time("deadline", deadline))
	s.reportChange(StateChange{Slot: sl.index, State: Stopping, PID: b.pid, Port: b.port})
}

// toStopped records that the slot is done. b is the backend that was
// stopped and how says how it ended; b is nil when the slot had no process
// left to stop (its last one failed), and the restart it would have made
// is cancelled.
func (s *Supervisor) toStopped(sl *slot, b *backend, how stopHow) {
	s.mu.Lock()
	s.moveLocked(sl, Stopped)
	sl.current, sl.proc = nil, nil
	s.mu.Unlock()
	if b == nil {
		sl.log.Debug("restart cancelled: stopping")
		s.reportChange(StateChange{Slot: sl.index, State: Stopped})
		return
	}
	_, code, signal := b.exitDescription()
	fields := []zap.Field{zap.String("how", string(how)), exitFields(code, signal)}
	if !b.readyAt.IsZero() {
		fields = append(fields, zap.Duration("uptime", time.Since(b.readyAt)))
	}
	b.log.Info("backend stopped", fields...)
	s.observe(exitEvent(BackendStopped, b))
	s.reportChange(StateChange{Slot: sl.index, State: Stopped, PID: b.pid, Port: b.port})
}

// reportChange reports c to Options.StateChanged, if set. Call without mu
// held.
func (s *Supervisor) reportChange(c StateChange) {
	if s.onChange != nil {
		s.onChange(c)
	}
}

// moveLocked moves sl to state to and wakes Acquire's waiters, who look
// once mu is released. Call with mu held.
//
// A move the table does not allow is a bug in this package. It is logged
// at DPanic level, which panics under a development logger (the tests use
// one) and logs an error in production, and the move is made all the
// same: the state must say what the slot's goroutine is doing, and a
// bookkeeping mistake must not take down roost and the app with it.
func (s *Supervisor) moveLocked(sl *slot, to State) {
	if !slices.Contains(transitions[sl.state], to) {
		sl.log.DPanic("illegal state transition", zap.Stringer("from", sl.state), zap.Stringer("to", to))
	}
	sl.state = to
	s.broadcast()
}

// withdraw takes sl's backend out of rotation without a change of state:
// its process has exited, or a caller could not connect to it.
func (s *Supervisor) withdraw(sl *slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.current = nil
	s.broadcast()
}

// reinstate puts b back in rotation after a false alarm, if its slot still
// runs it.
func (s *Supervisor) reinstate(sl *slot, b *backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl.state == Running {
		sl.current = b
		s.broadcast()
	}
}

// broadcast wakes everyone waiting in Acquire. Call with mu held.
func (s *Supervisor) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}
