package supervisor

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/roosthq/roost/config"
)

var allStates = []State{Stopped, Starting, Running, Backoff, Paused, Stopping}

// move makes the transition into state to, with made-up arguments.
func move(s *Supervisor, sl *slot, b *backend, to State) {
	switch to {
	case Stopped:
		s.toStopped(sl, nil, "")
	case Starting:
		s.toStarting(sl, b, 1)
	case Running:
		s.toRunning(sl, b)
	case Backoff:
		s.toBackoff(sl, decision{delay: time.Second, cause: "test"}, time.Now().Add(time.Second))
	case Paused:
		s.toPaused(sl, decision{delay: time.Minute, paused: true, reason: "test limit", cause: "test"}, time.Now().Add(time.Minute))
	case Stopping:
		s.toStopping(sl, b, time.Now())
	default:
		panic("no transition into " + to.String())
	}
}

// transitionLine is the line each transition logs.
var transitionLine = map[State]string{
	Stopped:  "restart cancelled: stopping",
	Starting: "backend started",
	Running:  "backend ready",
	Backoff:  "restart scheduled",
	Paused:   "restarts paused",
	Stopping: "stopping backend",
}

// newMoveTest returns a Supervisor with its one slot in state from, and a
// made-up ready backend.
func newMoveTest(from State, opts ...zap.Option) (*Supervisor, *slot, *backend, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	s := New(testProcess(config.AspNetCore), Options{Logger: zap.New(core, opts...)})
	sl := s.slots[0]
	sl.state = from
	now := time.Now()
	b := &backend{log: sl.log, url: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, started: now, readyAt: now}
	return s, sl, b, logs
}

// TestTransitions walks the table of allowed moves: every move it allows
// succeeds, and every other one is caught.
func TestTransitions(t *testing.T) {
	for _, from := range allStates {
		for _, to := range transitions[from] {
			if !slices.Contains(allStates, to) {
				t.Errorf("the table allows %v -> %v, an unknown state", from, to)
			}
		}
		for _, to := range allStates {
			allowed := slices.Contains(transitions[from], to)
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				s, sl, b, logs := newMoveTest(from, zap.Development())
				var changes []StateChange
				s.onChange = func(c StateChange) { changes = append(changes, c) }
				changed := s.changed
				var caught any
				func() {
					defer func() { caught = recover() }()
					move(s, sl, b, to)
				}()
				illegal := logs.FilterMessage("illegal state transition").Len() > 0
				if !allowed {
					if caught == nil || !illegal {
						t.Fatalf("disallowed move: panic %v, illegal logged %v; want both", caught, illegal)
					}
					return
				}
				if caught != nil || illegal {
					t.Fatalf("allowed move: panic %v, illegal logged %v; want neither", caught, illegal)
				}
				if sl.state != to {
					t.Errorf("state = %v, want %v", sl.state, to)
				}
				if inRotation := sl.current != nil; inRotation != (to == Running) {
					t.Errorf("backend in rotation = %v, want it only when running", inRotation)
				}
				select {
				case <-changed:
				default:
					t.Error("Acquire's waiters were not woken")
				}
				if n := logs.FilterMessage(transitionLine[to]).Len(); n != 1 {
					t.Errorf("%d %q lines, want 1", n, transitionLine[to])
				}
				if len(changes) != 1 || changes[0].State != to {
					t.Errorf("state changes reported: %+v, want one into %v", changes, to)
				}
			})
		}
	}
}

// TestIllegalTransitionInProduction: without a development logger, an
// illegal move is logged at DPanic level and made all the same.
func TestIllegalTransitionInProduction(t *testing.T) {
	s, sl, b, logs := newMoveTest(Stopping)
	move(s, sl, b, Running)
	e := logs.FilterMessage("illegal state transition").All()
	if len(e) != 1 || e[0].Level != zapcore.DPanicLevel {
		t.Fatalf("illegal move logged %v, want one DPanic line", e)
	}
	if got := e[0].ContextMap(); got["from"] != "stopping" || got["to"] != "running" {
		t.Errorf("fields %v, want from stopping to running", got)
	}
	if sl.state != Running || sl.current != b {
		t.Errorf("state %v, current %p; want the move made", sl.state, sl.current)
	}
}
