//go:build unix

package supervisor

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcAttrs puts the backend in a process group of its own, so that it
// and every descendant that stays in the group can be signalled as one,
// and so that a Ctrl+C at roost's terminal reaches roost alone: roost then
// stops the backend its own way.
func setProcAttrs(cmd *exec.Cmd, _ string) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(cmd.SysProcAttr)
	return nil
}

// processTree is the backend's process group.
type processTree struct {
	pgid int
}

// newProcessTree returns the group that setProcAttrs made the process
// lead. The watchdog plays no part in it on Unix.
func newProcessTree(p *os.Process, _ *Watchdog) (*processTree, error) {
	return &processTree{pgid: p.Pid}, nil
}

// interrupt asks the whole group to stop: SIGTERM.
func (t *processTree) interrupt() error {
	return ignoreGone(syscall.Kill(-t.pgid, syscall.SIGTERM))
}

// kill kills every process left in the group.
func (t *processTree) kill() error {
	return ignoreGone(syscall.Kill(-t.pgid, syscall.SIGKILL))
}

func (t *processTree) close() {}

// id identifies the tree for the watchdog: the process group id.
func (t *processTree) id() int { return t.pgid }

func ignoreGone(err error) error {
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// exitStatus describes how a process ended: its exit code, or -1 and the
// signal that killed it.
func exitStatus(ps *os.ProcessState) (code int, signal string) {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal().String()
	}
	return ps.ExitCode(), ""
}

// envKey is how environment variable names compare: exactly, on Unix.
func envKey(name string) string { return name }
