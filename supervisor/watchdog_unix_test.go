//go:build unix

package supervisor

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// waiter is a fake backend that only waits, ignoring SIGTERM, in a
// process group of its own.
type waiter struct {
	cmd    *exec.Cmd
	tree   *processTree
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's result
}

func startWaiter(t *testing.T) *waiter {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	w := &waiter{cmd: exec.Command(exe), exited: make(chan struct{})}
	w.cmd.Env = append(os.Environ(), "FAKE_BACKEND=1", "FAKE_WAIT=1")
	if err := setProcAttrs(w.cmd, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() { w.cmd.Process.Kill(); <-w.exited })
	if w.tree, err = newProcessTree(w.cmd.Process, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// assertEndedBy waits for w to end and checks that signal sig ended it.
func (w *waiter) assertEndedBy(t *testing.T, sig syscall.Signal) {
	t.Helper()
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("process %d still running 10 s later", w.cmd.Process.Pid)
	}
	var ee *exec.ExitError
	if !errors.As(w.err, &ee) {
		t.Fatalf("process %d: Wait = %v, want it ended by %v", w.cmd.Process.Pid, w.err, sig)
	}
	if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
		t.Errorf("process %d ended with %v, want %v", w.cmd.Process.Pid, ee, sig)
	}
}

// TestWatchdogKillsWhenRoostDies closes the watchdog's pipe without
// disarming it, as roost's death does, and checks that the group it was
// told about is killed and the one it was told to forget is not.
func TestWatchdogKillsWhenRoostDies(t *testing.T) {
	wd, err := StartWatchdog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wd.Close() })
	doomed, spared := startWaiter(t), startWaiter(t)
	for _, err := range []error{wd.add(doomed.tree), wd.add(spared.tree), wd.remove(spared.tree)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	wd.mu.Lock()
	wd.pipe.Close() // what the kernel does when roost dies
	wd.pipe = nil
	wd.mu.Unlock()
	if err := wd.cmd.Wait(); err != nil {
		t.Fatalf("watchdog: %v", err)
	}
	doomed.assertEndedBy(t, syscall.SIGKILL)
	spared.cmd.Process.Signal(syscall.SIGHUP)
	spared.assertEndedBy(t, syscall.SIGHUP)
}

// TestWatchdogCloseDisarms checks that Close lets the watchdog exit
// without killing the groups it knows.
func TestWatchdogCloseDisarms(t *testing.T) {
	wd, err := StartWatchdog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wd.Close() })
	w := startWaiter(t)
	if err := wd.add(w.tree); err != nil {
		t.Fatal(err)
	}
	if err := wd.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := wd.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := wd.add(w.tree); err != nil {
		t.Errorf("add after Close = %v, want it ignored", err)
	}
	// Had the watchdog sent SIGKILL before exiting, the process would
	// already be doomed, and would not end by this later signal.
	w.cmd.Process.Signal(syscall.SIGHUP)
	w.assertEndedBy(t, syscall.SIGHUP)
}
