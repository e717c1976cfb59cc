//go:build unix

package test

import (
	"os"
	"os/exec"
	"syscall"
)

// stoppable prepares cmd so that stop can end it the system's way.
// Nothing is needed on Unix.
func stoppable(cmd *exec.Cmd) {}

// stop asks p to stop as a service manager or a terminal would: SIGTERM.
func stop(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
