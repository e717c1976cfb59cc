//go:build unix

package supervisor

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// startWatchdog starts a copy of roost's own executable as the watchdog,
// in a process group of its own so that signals sent to roost's group do
// not reach it.
func startWatchdog() (*Watchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	defer r.Close() // the watchdog has its copy
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), WatchdogEnv+"=1")
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return &Watchdog{cmd: cmd, pipe: w}, nil
}

// runWatchdog kills, when r ends without a "disarm" order (roost died),
// the process groups still registered. SIGINT, SIGTERM, SIGHUP and SIGQUIT
// are ignored from the start: only roost's death may stop the watchdog,
// not a signal meant for roost's terminal or service.
func runWatchdog(r io.Reader) int {
	ignoreStopSignals()
	for id := range readWatchdogOrders(r) {
		killGroup(id)
	}
	return 0
}

// ignoreStopSignals keeps the watchdog alive through the signals that stop
// roost.
func ignoreStopSignals() {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
}

// killGroup kills process group id.
func killGroup(id int) { syscall.Kill(-id, syscall.SIGKILL) }
