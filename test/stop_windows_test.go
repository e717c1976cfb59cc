package test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/roosthq/roost/supervisor"
)

// stoppable gives cmd a console of its own, without a window, so that
// stop can send it CTRL_C alone.
func stoppable(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NO_WINDOW}
}

// stop asks p, started stoppable, to stop as Ctrl+C in its console would.
// A process sends console events only to its own console, so roost's own
// watchdog mode, which is how roost stops a backend, sends it: a copy of
// roost with no console attaches to p's and sends CTRL_C there.
func stop(p *os.Process) error {
	cmd := exec.Command(roostBin)
	cmd.Env = append(os.Environ(), supervisor.WatchdogEnv+"=1")
	cmd.Stdin = strings.NewReader("interrupt " + strconv.Itoa(p.Pid) + "\n")
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.DETACHED_PROCESS}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("CTRL_C to process %d: %w: %s", p.Pid, err, out)
	}
	return nil
}
