// Package supervisor owns the backend processes of one app: it picks each
// start's port, builds the environment of the hosting contract, starts the
// process with no shell, decides when it is ready, restarts it when it
// fails (with backoff and a rolling rapid-fail limit that pauses restarts
// but never gives up for good) and stops it gracefully by one deadline
// (Stop).
//
// What a process leaves behind is bounded too: on Windows a job object
// holds each backend and its descendants; on Unix each backend leads a
// process group, and a Watchdog, which the program's main starts and
// passes in Options, kills those groups if roost itself is killed.
//
// It does not forward requests: package forwarder asks Acquire where to
// send each one, and never learns about processes. It does not read
// web.config either: it is given a config.Process.
package supervisor

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

// Options are the parts of a Supervisor that do not come from web.config.
type Options struct {
	// Logger receives one line per lifecycle event. Nil discards them.
	Logger *zap.Logger

	// Environ is roost's environment, the base of every backend's
	// environment. Nil means os.Environ().
	Environ []string

	// HTTPSPort is the port of roost's https listener, passed to
	// <aspNetCore> backends in ASPNETCORE_ANCM_HTTPS_PORT. Zero: none.
	HTTPSPort int

	// Output, when set, is called for every process started with console
	// redirection, with its pid and start time. Everything the process
	// prints (stdout and stderr, in arrival order) is also written to the
	// writer it returns, which is closed once the output has ended. A nil
	// writer means nowhere. Writes run on the goroutine that drains the
	// process's pipe, so a writer must not block for long: a slow one
	// slows the process down.
	Output func(pid int, started time.Time) io.WriteCloser

	// Watchdog is told about every backend's process group, to kill the
	// groups left behind if roost is killed (see Watchdog). Nil: no
	// watchdog; on Unix the backend's children may then outlive a killed
	// roost (the backend itself dies with roost on Linux).
	Watchdog *Watchdog

	// StateChanged, when set, is called after every change of a slot's
	// state, with what changed (see StateChange), on the goroutine of the
	// slot, which waits for it: it must not block. Calls for one slot come
	// in order.
	StateChanged func(StateChange)
	// Observe, when set, is told of every backend's lifecycle events (see
	// Event), on the goroutine that runs the backend's slot, after the
	// event's log line. It must not block: it delays the slot's next step.
	Observe func(Event)

	// Held, when set, is called with +1 when a request begins to wait in
	// Acquire for a backend to become ready, and with -1 when it stops
	// waiting, whatever the outcome. Requests that find a ready backend
	// at once are not counted. It must not block.
	Held func(delta int)
}

// Supervisor keeps the backend processes of one app running. Create it
// with New, run it with Run, get a backend for each request with Acquire,
// and end it with Stop or by ending Run's context.
type Supervisor struct {
	cfg       config.Process
	log       *zap.Logger
	environ   []string
	httpsPort int
	policy    *policy // guarded by mu: failures count for the whole app
	watchdog  *Watchdog
	pickPort  func() (int, error) // chooses a port for each start; replaced in tests
	output    func(pid int, started time.Time) io.WriteCloser
	onChange  func(StateChange) // Options.StateChanged
	onEvent   func(Event)       // Options.Observe
	held      func(delta int)   // Options.Held

	stopped chan struct{} // closed by the first Stop

	mu       sync.Mutex
	slots    []*slot
	next     int           // round-robin position for Acquire
	changed  chan struct{} // closed and replaced whenever a slot changes
	stopping bool          // Stop was called
	deadline time.Time     // Stop's deadline: the soonest one given
	hurry    chan struct{} // closed and replaced when a Stop brings deadline forward
}

// slot is one of processesPerApplication places for a backend process.
// Its fields, log aside (set once by New), are guarded by Supervisor.mu.
// Only the slot's own goroutine in Run changes them, except that
// Unreachable takes current out of rotation.
type slot struct {
	log       *zap.Logger // the Supervisor's, naming the slot when there are several
	index     int         // its place among the slots, from 0
	state     State
	current   *backend  // the ready backend taking requests, or nil
	proc      *procInfo // the slot's process while it has one, for Status
	nextStart time.Time
	reason    string   // why the last start failed or restarts pause
	output    []string // the last lines of the last failed process
}

// New returns a Supervisor for the process p. It starts nothing until Run.
func New(p config.Process, opts Options) *Supervisor {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	n := max(p.ProcessesPerApplication, 1)
	s := &Supervisor{
		cfg:       p,
		log:       log.Named("supervisor"),
		environ:   environ,
		httpsPort: opts.HTTPSPort,
		policy:    newPolicy(p.RapidFailsPerMinute, p.StartupRetryCount),
		pickPort:  pickPort,
		output:    opts.Output,
		onChange:  opts.StateChanged,
		onEvent:   opts.Observe,
		held:      opts.Held,
		watchdog:  opts.Watchdog,
		changed:   make(chan struct{}),
		stopped:   make(chan struct{}),
		hurry:     make(chan struct{}),
	}
	for i := range n {
		sl := &slot{log: s.log, index: i}
		if n > 1 {
			sl.log = s.log.With(zap.Int("slot", i))
		}
		s.slots = append(s.slots, sl)
	}
	return s
}

// Run starts the backend processes and keeps them running until Stop is
// called or ctx ends, which is Stop(time.Now().Add(shutdownTimeLimit));
// then it stops them (see Stop) and returns nil. It returns only after
// every process has exited and its output has been read. Run called after
// Stop starts nothing and returns at once.
func (s *Supervisor) Run(ctx context.Context) error {
	select {
	case <-s.stopped:
		return nil
	default:
	}
	// The slots end on Stop, not on ctx: ending ctx is one way to Stop.
	slotCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	for _, sl := range s.slots {
		wg.Go(func() { s.runSlot(slotCtx, sl) })
	}
	select {
	case <-ctx.Done():
		s.Stop(time.Now().Add(s.cfg.ShutdownTimeLimit))
	case <-s.stopped:
	}
	cancel()
	wg.Wait()
	return nil
}

// Stop asks Run to stop every backend gracefully and to kill whatever is
// left of them at deadline: for <aspNetCore>, the IIS shutdown request,
// given half the time left; then SIGTERM to the process group
// (CTRL_C to its console on Windows); then, at deadline, the whole tree is killed. A
// deadline already passed kills at once. Reading what the processes
// printed last ends by then too, give or take a quarter of a second.
//
// Stop does not wait: Run returns once everything has stopped. From the
// first call on, Acquire fails at once with a stopping *UnavailableError.
// A later call with a sooner deadline brings the deadline forward, even
// in the middle of a stop (when roost itself stops during a recycle, say);
// one with a later deadline changes nothing.
func (s *Supervisor) Stop(deadline time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		if deadline.Before(s.deadline) {
			s.deadline = deadline
			close(s.hurry)
			s.hurry = make(chan struct{})
		}
		return
	}
	s.stopping, s.deadline = true, deadline
	close(s.stopped)
	s.broadcast()
}

// stopDeadline returns Stop's deadline and a channel closed when a later
// Stop brings it forward.
func (s *Supervisor) stopDeadline() (time.Time, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline, s.hurry
}

// runSlot starts, watches and restarts the backend of one slot until ctx
// ends, which means that Stop was called.
func (s *Supervisor) runSlot(ctx context.Context, sl *slot) {
	if ctx.Err() != nil {
		return // stopped before anything started
	}
	for attempt := 1; ; attempt++ {
		d, stopped := s.attempt(ctx, sl, attempt)
		if stopped {
			return
		}
		if ctx.Err() != nil || !s.pause(ctx, sl, d) {
			s.toStopped(sl, nil, "")
			return
		}
	}
}

// attempt makes one start and takes its process through readiness,
// service and exit. It returns when to start the next one, or stopped
// once ctx has ended and the process has been stopped (the slot is then
// Stopped).
func (s *Supervisor) attempt(ctx context.Context, sl *slot, n int) (d decision, stopped bool) {
	b, err := s.startBackend(sl.log)
	if err != nil {
		sl.log.Error("backend did not start", zap.Int("attempt", n), zap.Error(err))
		s.observe(Event{Kind: BackendNotStarted})
		return s.failed(sl, err.Error(), nil, false, 0), false
	}
	s.toStarting(sl, b, n)
	if err := b.waitReady(ctx, s.cfg.StartupTimeLimit); err != nil {
		if ctx.Err() != nil {
			s.stopBackend(ctx, sl, b)
			return decision{}, true
		}
		return s.startFailed(ctx, sl, b, err), false
	}
	s.toRunning(sl, b)
	return s.serve(ctx, sl, b)
}

// startFailed ends a backend that did not become ready, and records the
// failure.
func (s *Supervisor) startFailed(ctx context.Context, sl *slot, b *backend, err error) decision {
	b.tree.kill()
	s.finish(ctx, b, time.Now())
	_, code, signal := b.exitDescription()
	b.log.Error("backend failed to start", zap.Error(err), zap.Duration("after", time.Since(b.started)),
		exitFields(code, signal), zap.Strings("output", b.out.lines(20)))
	s.observe(exitEvent(BackendFailed, b))
	return s.failed(sl, err.Error(), b.out.lines(0), false, 0)
}

// serve waits while a ready backend serves: until it exits, until it
// refuses connections (see Unreachable), or until ctx ends, when it stops
// the backend. It returns as attempt does.
func (s *Supervisor) serve(ctx context.Context, sl *slot, b *backend) (d decision, stopped bool) {
	for {
		select {
		case <-b.suspect:
			if s.recheck(sl, b) {
				continue
			}
			// It refuses connections: treat it as a process that failed.
			b.tree.kill()
			<-b.exited
		case <-b.exited:
		case <-ctx.Done():
			s.stopBackend(ctx, sl, b)
			return decision{}, true
		}
		return s.exited(ctx, sl, b), false
	}
}

// exited collects a backend that was running and has exited, and records
// the failure.
func (s *Supervisor) exited(ctx context.Context, sl *slot, b *backend) decision {
	uptime := time.Since(b.readyAt)
	s.withdraw(sl)
	s.finish(ctx, b, time.Now())
	desc, code, signal := b.exitDescription()
	b.log.Error("backend exited", exitFields(code, signal), zap.Duration("uptime", uptime),
		zap.Strings("output", b.out.lines(20)))
	s.observe(exitEvent(BackendExited, b))
	return s.failed(sl, "process exited ("+desc+")", b.out.lines(0), true, uptime)
}

// recheck looks at a backend a caller could not connect to (see
// Unreachable). It reports true, and puts the backend back in rotation,
// when it accepts connections after all; false when it has exited or
// refuses them, which the caller treats as a failure.
func (s *Supervisor) recheck(sl *slot, b *backend) bool {
	select {
	case <-b.exited:
		return false
	default:
	}
	if u, err := b.probe(); err == nil && u != nil {
		s.reinstate(sl, b)
		return true
	}
	select {
	case <-b.exited:
	default:
		b.log.Error("backend stopped accepting connections; restarting it")
	}
	return false
}

// Unreachable tells the supervisor that a connection to target, a URL
// Acquire returned, was refused: the process behind it has probably just
// exited. The backend leaves the rotation at once, so that Acquire waits
// for the next one instead of handing it out again, and its slot checks
// it: a backend that still refuses connections is restarted, one that
// accepts them comes back.
func (s *Supervisor) Unreachable(target *url.URL) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.slots {
		if b := sl.current; b != nil && b.url.String() == target.String() {
			sl.current = nil
			s.broadcast()
			select {
			case b.suspect <- struct{}{}:
			default:
			}
			return
		}
	}
}

// stopBackend stops b gracefully and collects it by Stop's deadline,
// taking the slot through Stopping to Stopped. ctx has ended.
func (s *Supervisor) stopBackend(ctx context.Context, sl *slot, b *backend) {
	deadline, _ := s.stopDeadline()
	s.toStopping(sl, b, deadline)
	how := b.stop(s.cfg.Kind, s.stopDeadline)
	deadline, _ = s.stopDeadline()
	s.finish(ctx, b, deadline)
	s.toStopped(sl, b, how)
}

// finish is called once b's process has exited. It waits until killAt
// for the output pipe to close, so that children given a signal with the
// rest of the group can finish; kills whatever is left of the tree; waits
// up to orphanPipeGrace more for a descendant that left the tree and
// still holds the pipe, then stops reading; and releases the tree. Once
// ctx has ended (Stop was called), no wait goes past Stop's deadline plus
// stopMargin.
func (s *Supervisor) finish(ctx context.Context, b *backend, killAt time.Time) {
	<-b.exited
	s.waitOutput(ctx, b, killAt)
	b.tree.kill()
	if !s.waitOutput(ctx, b, time.Now().Add(orphanPipeGrace)) {
		b.closeOutput()
		<-b.outDone
	}
	b.closeOutput()
	if err := s.watchdog.remove(b.tree); err != nil {
		b.log.Warn("watchdog did not hear that the backend is gone", zap.Error(err))
	}
	b.tree.close()
}

// How long finish waits for a process's output after killing its tree.
const (
	// orphanPipeGrace bounds the wait for a descendant that left the tree
	// and still holds the output pipe.
	orphanPipeGrace = 2 * time.Second
	// stopMargin bounds it once Stop was called, after Stop's deadline.
	stopMargin = 250 * time.Millisecond
)

// waitOutput waits until b's output has been read to its end, or until
// t; once ctx has ended, no later than Stop's deadline (or now, if that
// has passed) plus stopMargin. It reports whether the output ended.
func (s *Supervisor) waitOutput(ctx context.Context, b *backend, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	stop := ctx.Done()
	var hurry <-chan struct{}
	for {
		select {
		case <-b.outDone:
			return true
		case <-timer.C:
			return false
		case <-stop:
		case <-hurry:
		}
		// Stop was called, or brought its deadline forward.
		var by time.Time
		stop = nil
		by, hurry = s.stopDeadline()
		if now := time.Now(); by.Before(now) {
			by = now
		}
		if by = by.Add(stopMargin); by.Before(t) {
			t = by
			timer.Reset(time.Until(by))
		}
	}
}

// failed records a failure with the policy and the slot, and returns when
// to start again.
func (s *Supervisor) failed(sl *slot, reason string, output []string, ready bool, uptime time.Duration) decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.policy.fail(time.Now(), ready, uptime)
	d.cause = reason
	sl.reason = reason
	sl.output = output
	s.broadcast()
	return d
}

// pause waits out a decision's delay in the Backoff or Paused state. It
// returns false if ctx has ended.
func (s *Supervisor) pause(ctx context.Context, sl *slot, d decision) bool {
	next := time.Now().Add(d.delay)
	if d.paused {
		s.toPaused(sl, d, next)
	} else {
		s.toBackoff(sl, d, next)
	}
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// UnavailableError is returned by Acquire when no backend can take the
// request: restarts are paused, no backend became ready in time, or roost
// is stopping.
type UnavailableError struct {
	reason   string        // what went wrong, for logs and detailed error pages
	retry    time.Duration // how long until a backend may be back; 0 when unknown
	output   []string      // the last lines the failed process printed
	stopping bool          // roost is stopping
}

func (e *UnavailableError) Error() string { return "backend unavailable: " + e.reason }

// RetryAfter is how long a client should wait before trying again; 0 when
// unknown.
func (e *UnavailableError) RetryAfter() time.Duration { return e.retry }

// LastOutput is what the failed backend printed last.
func (e *UnavailableError) LastOutput() []string { return e.output }

// Stopping reports whether the backend is unavailable because roost is
// stopping, rather than because it failed.
func (e *UnavailableError) Stopping() bool { return e.stopping }

// Acquire returns where to send a request: the backend's URL and the
// pairing token to send in MS-ASPNETCORE-TOKEN ("" for <httpPlatform>).
// It waits while a backend starts or restarts, up to startupTimeLimit or
// until ctx ends. It fails at once with an *UnavailableError while restarts
// are paused or roost is stopping. Call release when the request is done;
// backends are chosen round-robin when there are several.
func (s *Supervisor) Acquire(ctx context.Context) (target *url.URL, token string, release func(), err error) {
	var limit *time.Timer // made only when the request has to wait
	for {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			return nil, "", nil, &UnavailableError{reason: "roost is stopping", stopping: true}
		}
		if b := s.pickLocked(); b != nil {
			s.mu.Unlock()
			var once sync.Once
			return b.url, b.token, func() { once.Do(func() { b.inflight.Add(-1) }) }, nil
		}
		if err := s.pausedLocked(); err != nil {
			s.mu.Unlock()
			return nil, "", nil, err
		}
		changed := s.changed
		s.mu.Unlock()

		if limit == nil {
			limit = time.NewTimer(s.cfg.StartupTimeLimit)
			defer limit.Stop()
			if s.held != nil {
				s.held(1)
				defer s.held(-1)
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, "", nil, ctx.Err()
		case <-limit.C:
			s.mu.Lock()
			err := &UnavailableError{reason: fmt.Sprintf("no backend became ready within startupTimeLimit (%s)", s.cfg.StartupTimeLimit)}
			if last := s.lastFailureLocked(); last != nil {
				err.reason += ": " + last.reason
				err.output = last.output
			}
			s.mu.Unlock()
			return nil, "", nil, err
		}
	}
}

// pickLocked returns the next ready backend round-robin, counting the
// request as in flight, or nil.
func (s *Supervisor) pickLocked() *backend {
	for range s.slots {
		sl := s.slots[s.next%len(s.slots)]
		s.next++
		if b := sl.current; b != nil {
			b.inflight.Add(1)
			return b
		}
	}
	return nil
}

// pausedLocked returns an *UnavailableError when every slot is paused. A
// slot whose pause is over is about to start a process, which Acquire may
// wait for.
func (s *Supervisor) pausedLocked() error {
	var soonest *slot
	now := time.Now()
	for _, sl := range s.slots {
		if sl.state != Paused || !now.Before(sl.nextStart) {
			return nil
		}
		if soonest == nil || sl.nextStart.Before(soonest.nextStart) {
			soonest = sl
		}
	}
	return &UnavailableError{reason: soonest.reason, retry: max(time.Until(soonest.nextStart), time.Second), output: soonest.output}
}

func (s *Supervisor) lastFailureLocked() *slot {
	for _, sl := range s.slots {
		if sl.reason != "" {
			return sl
		}
	}
	return nil
}

func exitFields(code int, signal string) zap.Field {
	if signal != "" {
		return zap.String("signal", signal)
	}
	return zap.Int("exit_code", code)
}
