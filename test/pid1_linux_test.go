package test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needPIDNamespace skips t unless unshare can make a PID namespace here
// (it takes root, or user namespaces).
func needPIDNamespace(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs roost in a PID namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare (util-linux) to make a PID namespace")
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare cannot make a PID namespace here (it takes root): %v: %s", err, out)
	}
	return unshare
}

// childOf returns the one child of process pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	data := mustRead(t, fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	fields := strings.Fields(string(data))
	if len(fields) != 1 {
		t.Fatalf("process %d has children %q, want one", pid, fields)
	}
	child, _ := strconv.Atoi(fields[0])
	return child
}

// psLine returns the line of /ps (the fake's view of the processes) for
// pid, or "".
func psLine(ps, pid string) string {
	for _, line := range strings.Split(ps, "\n") {
		if strings.HasPrefix(line, pid+" ") {
			return line
		}
	}
	return ""
}

// TestPID1 runs roost as PID 1 of a PID namespace, as in a container
// without an pid1: an orphan the app leaves is reaped once it exits, the
// backend's own exit status still reaches roost, requests are served,
// and SIGTERM stops roost with exit code 0.
func TestPID1(t *testing.T) {
	unshare := needPIDNamespace(t)
	app := fakeApp(t, "")
	// --kill-child: should the test end early, killing unshare ends the
	// namespace. unshare does not pass SIGTERM on; the test sends it to
	// the namespace's PID 1 itself.
	args := append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", roostBin}, runArgs()...)
	r := startRoostCmd(t, exec.Command(unshare, append(args, app)...))
	pid1 := childOf(t, r.cmd.Process.Pid)
	t.Cleanup(func() { syscall.Kill(pid1, syscall.SIGTERM) }) // before startRoostCmd's cleanup
	if status := string(mustRead(t, fmt.Sprintf("/proc/%d/status", pid1))); !strings.Contains(status, "\nNSpid:\t"+strconv.Itoa(pid1)+"\t1\n") {
		t.Fatalf("roost is not PID 1 of its namespace:\n%s", status)
	}

	_, orphan := r.get("/orphan?ms=100")
	if _, err := strconv.Atoi(orphan); err != nil {
		t.Fatalf("/orphan = %q", orphan)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, ps := r.get("/ps")
		if !strings.HasPrefix(psLine(ps, "1"), "1 S roost") {
			t.Fatalf("/ps does not show roost as PID 1:\n%s", ps)
		}
		line := psLine(ps, orphan)
		if line == "" {
			break // exited and reaped
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %s is still there 20 s after it was to exit: %q\nprocesses:\n%s", orphan, line, ps)
		}
		time.Sleep(20 * time.Millisecond) // another process's exit has no event to wait on here
	}

	// roost still learns how its backend ended.
	r.get("/pid")
	if resp, err := http.Get(r.url("/crash")); err == nil {
		resp.Body.Close()
	}
	r.waitLog(`"exit_code": 1`, 20*time.Second)
	if resp, _ := r.get("/pid"); resp.StatusCode != 200 {
		t.Errorf("after the crash: status %d\n%s", resp.StatusCode, r.stderr())
	}
	if _, ps := r.get("/ps"); strings.Contains(ps, " Z ") {
		t.Errorf("zombies left:\n%s", ps)
	}

	if err := syscall.Kill(pid1, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("roost did not stop within 30 s of SIGTERM to PID 1:\n%s", r.stderr())
	}
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0\n%s", code, r.stderr())
	}
	if !strings.Contains(r.stderr(), `"how": "shutdown request"`) {
		t.Errorf("the backend was not stopped gracefully:\n%s", r.stderr())
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid1)); err == nil {
		t.Errorf("PID 1 (%d) still runs", pid1)
	}
}
