package supervisor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roosthq/roost/config"
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

// TestPortTakenByAnotherProcess gives the first start a port that this
// test process holds. The backend cannot listen there, but a connection
// succeeds, so only the ownership check can tell: that start must fail,
// naming the holder, and the next one must run on another port.
func TestPortTakenByAnotherProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_BIND", "retry")...)
	first := true
	h := start(t, p, Options{}, func(s *Supervisor) {
		s.pickPort = func() (int, error) {
			if first {
				first = false
				return taken, nil
			}
			return pickPort()
		}
	})
	if status, _ := h.get("/pid"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	failures := h.entries("backend failed to start")
	if len(failures) != 1 {
		t.Fatalf("%d failed starts, want 1\n%s", len(failures), h.dumpLogs())
	}
	want := fmt.Sprintf("port %d is held by process %d, not by the backend", taken, os.Getpid())
	if got := toString(failures[0].ContextMap()["error"]); !strings.Contains(got, want) {
		t.Errorf("error = %s, want %q", got, want)
	}
	if st := h.slot(0); st.State != Running || st.Port == 0 || st.Port == taken {
		t.Errorf("slot = %+v, want running on another port than %d", st, taken)
	}
}
