package supervisor

import (
	"strconv"
	"time"
)

// EventKind says what happened to a backend process.
type EventKind int

const (
	// BackendStarted: a process was started; it does not listen yet.
	BackendStarted EventKind = iota + 1
	// BackendNotStarted: a start could not run the program at all (it is
	// missing, or not executable); there is no process.
	BackendNotStarted
	// BackendReady: the process listens and takes requests.
	BackendReady
	// BackendFailed: the process exited, or was killed, before it became
	// ready (it exited early, or startupTimeLimit passed).
	BackendFailed
	// BackendExited: the process exited by itself after it had become
	// ready, or was killed because it stopped accepting connections.
	BackendExited
	// BackendStopped: roost stopped the process (a recycle,
	// app_offline.htm, or roost stopping).
	BackendStopped
)

var eventNames = [...]string{"", "started", "not started", "ready", "failed", "exited", "stopped"}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one step in a backend process's life, as Options.Observe is
// told of it. Each event comes after its log line.
type Event struct {
	Kind EventKind
	PID  int // the process; 0 for BackendNotStarted
	Port int // its port; 0 for BackendNotStarted

	// TimeToReady is, for BackendReady, how long the process took to
	// listen from its start.
	TimeToReady time.Duration

	// ExitCode and Signal say, for BackendFailed, BackendExited and
	// BackendStopped, how the process ended: its exit code, or the signal
	// that ended it (then ExitCode is -1; never on Windows).
	ExitCode int
	Signal   string
}

// observe hands ev to Options.Observe, if set.
func (s *Supervisor) observe(ev Event) {
	if s.onEvent != nil {
		s.onEvent(ev)
	}
}

// exitEvent is the event of b's end, which must have happened.
func exitEvent(kind EventKind, b *backend) Event {
	_, code, signal := b.exitDescription()
	return Event{Kind: kind, PID: b.pid, Port: b.port, ExitCode: code, Signal: signal}
}

// BackendStatus is what one backend slot (one of processesPerApplication)
// is doing, as Status reports it.
type BackendStatus struct {
	State State
	// PID and Port are those of the slot's process while it has one
	// (Starting, Running, Stopping); zero otherwise.
	PID, Port int
	// Started is when that process was started; ReadyAt when it became
	// ready (zero until it has).
	Started, ReadyAt time.Time
	// NextStart is, in Backoff and Paused, when the next start comes.
	NextStart time.Time
	// Reason is why the last start failed or restarts pause; empty once a
	// process has become ready since.
	Reason string
}

// Status reports what each backend slot is doing, in slot order. It is
// a snapshot, for status pages and probes: by the time it returns, a
// slot may have moved on.
func (s *Supervisor) Status() []BackendStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]BackendStatus, len(s.slots))
	for i, sl := range s.slots {
		st := BackendStatus{State: sl.state, Reason: sl.reason}
		if sl.proc != nil {
			st.PID, st.Port, st.Started, st.ReadyAt = sl.proc.pid, sl.proc.port, sl.proc.started, sl.proc.readyAt
		}
		if sl.state == Backoff || sl.state == Paused {
			st.NextStart = sl.nextStart
		}
		out[i] = st
	}
	return out
}

// procInfo is what Status tells of a slot's process, copied under the
// Supervisor's lock by the transitions.
type procInfo struct {
	pid, port        int
	started, readyAt time.Time
}
