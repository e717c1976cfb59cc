package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Notifier tells systemd what roost is doing, by systemd's notification
// protocol (sd_notify(3)): one datagram per notification, of NAME=value
// lines, sent to the unix socket that NOTIFY_SOCKET names (a path, or an
// abstract name starting with '@'). A unit with Type=notify, which roost
// service install writes, waits for READY=1 before it counts roost as
// started.
//
// A nil *Notifier does nothing: NewNotifier returns nil where no service
// manager listens. The methods never block for long, and a notification
// that cannot be sent is logged once and otherwise dropped: it must not
// stop the app.
type Notifier struct {
	conn     io.WriteCloser
	log      *zap.Logger
	watchdog time.Duration // how often to send WATCHDOG=1; 0: never
	failed   atomic.Bool   // a send failed and was logged
}

// The variables of the protocol. NewNotifier removes them from roost's
// environment once read, so that the app does not inherit them (the
// app's own notifications would be refused under NotifyAccess=main).
const (
	notifySocketEnv = "NOTIFY_SOCKET"
	watchdogUsecEnv = "WATCHDOG_USEC"
	watchdogPidEnv  = "WATCHDOG_PID"
)

// NewNotifier returns a Notifier for the socket in NOTIFY_SOCKET, or nil
// when the variable is not set. The watchdog (see RunWatchdog) is on when
// WATCHDOG_USEC is set and WATCHDOG_PID is unset or roost's pid. The
// three variables are removed from roost's environment. An unusable
// NOTIFY_SOCKET is an error, and then no Notifier is returned.
func NewNotifier(log *zap.Logger) (*Notifier, error) {
	n, err := newNotifier(os.Getenv, os.Getpid(), log)
	for _, name := range []string{notifySocketEnv, watchdogUsecEnv, watchdogPidEnv} {
		os.Unsetenv(name)
	}
	return n, err
}

// newNotifier is NewNotifier reading the variables with getenv, for a
// process whose pid is pid.
func newNotifier(getenv func(string) string, pid int, log *zap.Logger) (*Notifier, error) {
	addr := getenv(notifySocketEnv)
	if addr == "" {
		return nil, nil
	}
	if !strings.HasPrefix(addr, "/") && !strings.HasPrefix(addr, "@") {
		return nil, fmt.Errorf("%s=%q: want the path of a unix socket or an abstract name starting with @", notifySocketEnv, addr)
	}
	interval, err := watchdogInterval(getenv(watchdogUsecEnv), getenv(watchdogPidEnv), pid)
	if err != nil {
		return nil, err
	}
	conn, err := openNotifySocket(addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", notifySocketEnv, addr, err)
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Notifier{conn: conn, log: log.Named("systemd"), watchdog: interval}, nil
}

// watchdogInterval is how often to send WATCHDOG=1: half of usec
// microseconds (WATCHDOG_USEC), as sd_watchdog_enabled(3) advises, or 0
// when there is no watchdog or it watches another process (pidVar,
// WATCHDOG_PID, names one other than pid).
func watchdogInterval(usec, pidVar string, pid int) (time.Duration, error) {
	if usec == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number of microseconds", watchdogUsecEnv, usec)
	}
	if pidVar != "" {
		p, err := strconv.Atoi(pidVar)
		if err != nil || p <= 0 {
			return 0, fmt.Errorf("%s=%q: want a process id", watchdogPidEnv, pidVar)
		}
		if p != pid {
			return 0, nil
		}
	}
	return time.Duration(n) * time.Microsecond / 2, nil
}

// timeoutMargin is added to each time roost announces in
// EXTEND_TIMEOUT_USEC: time for roost itself to get there.
const timeoutMargin = 10 * time.Second

// Ready sends READY=1 with status: roost serves, or has done all it can
// (the app cannot start, or is offline; status says so).
func (n *Notifier) Ready(status string) {
	n.send("READY=1", status, 0)
}

// Reloading sends RELOADING=1, with the time of the monotonic clock that
// systemd 253 and later want beside it, and status; the next Ready comes
// within the given time.
func (n *Notifier) Reloading(status string, within time.Duration) {
	state := "RELOADING=1"
	if usec, ok := monotonicUsec(); ok {
		state += "\nMONOTONIC_USEC=" + strconv.FormatUint(usec, 10)
	}
	n.send(state, status, within)
}

// Stopping sends STOPPING=1 and status; roost will be gone within the
// given time.
func (n *Notifier) Stopping(status string, within time.Duration) {
	n.send("STOPPING=1", status, within)
}

// Status sends status alone. A nonzero within says that the next
// notification comes within that time: while roost is starting (before
// Ready), systemd then waits that long beyond TimeoutStartSec, so that a
// slow app's startupTimeLimit, not the unit's timeout, decides.
func (n *Notifier) Status(status string, within time.Duration) {
	n.send("", status, within)
}

// RunWatchdog sends WATCHDOG=1 at the interval NewNotifier found, until
// ctx ends. Without a watchdog it returns at once.
func (n *Notifier) RunWatchdog(ctx context.Context) {
	if n == nil || n.watchdog <= 0 {
		return
	}
	t := time.NewTicker(n.watchdog)
	defer t.Stop()
	for {
		n.send("WATCHDOG=1", "", 0)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Close closes the socket. Call it once nothing sends any more.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	return n.conn.Close()
}

// send sends one notification: state (lines, or ""), STATUS=status when
// status is not empty, and EXTEND_TIMEOUT_USEC when within is not zero.
func (n *Notifier) send(state, status string, within time.Duration) {
	if n == nil {
		return
	}
	msg := message(state, status, within)
	if _, err := io.WriteString(n.conn, msg); err != nil {
		if n.failed.CompareAndSwap(false, true) {
			n.log.Warn("cannot notify systemd; later failures are not logged", zap.Error(err))
		}
		return
	}
	n.log.Debug("notified systemd", zap.String("message", strings.ReplaceAll(msg, "\n", " ")))
}

// message composes a notification (see send). A status is one line: each
// run of white space in it, line breaks included, becomes one space.
func message(state, status string, within time.Duration) string {
	var lines []string
	if state != "" {
		lines = append(lines, state)
	}
	if status != "" {
		lines = append(lines, "STATUS="+strings.Join(strings.Fields(status), " "))
	}
	if within > 0 {
		lines = append(lines, "EXTEND_TIMEOUT_USEC="+strconv.FormatInt((within+timeoutMargin).Microseconds(), 10))
	}
	return strings.Join(lines, "\n")
}

// errNoSystemd is openNotifySocket's answer where there is no systemd.
var errNoSystemd = errors.New("systemd notifications are sent on Linux only")
