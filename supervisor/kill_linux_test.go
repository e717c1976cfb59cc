package supervisor

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid is a live process: it exists and is not a
// zombie waiting for a parent that is gone.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) {
		return data[i+2] != 'Z'
	}
	return err == nil
}

// waitGone waits until pid is no longer alive.
func waitGone(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond) // nothing signals another process's death
	defer tick.Stop()
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after %s", pid, timeout)
		}
		<-tick.C
	}
}

// TestNoOrphanWhenRoostIsKilled kills the supervising process with SIGKILL
// and checks that the backend and the child it started die with it.
func TestNoOrphanWhenRoostIsKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	roost := exec.Command(exe)
	roost.Env = append(os.Environ(), "FAKE_ROOST=1", "FAKE_ROOST_PIDFILE="+pidFile)
	stdin, err := roost.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := roost.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := roost.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { roost.Process.Kill(); roost.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("fake roost said %q, %v", line, err)
	}
	pids := readPids(t, pidFile)
	if len(pids) != 2 || !alive(pids[0]) || !alive(pids[1]) {
		t.Fatalf("backend and child = %v, want two live processes", pids)
	}

	if err := roost.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	roost.Wait()
	for _, pid := range pids {
		waitGone(t, pid, time.Second)
	}
}
