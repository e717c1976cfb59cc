package test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A stop that comes while a recycle waits for a new backend that never
// becomes ready does not wait for it: roost stops within one deadline,
// shutdownDelay + shutdownTimeLimit, and leaves no backend behind, the
// new one (which ignores SIGTERM) and its child included.
func TestStopDuringRecycleKeepsOneDeadline(t *testing.T) {
	const (
		delay = 500 * time.Millisecond // shutdownDelay
		limit = 2 * time.Second        // shutdownTimeLimit
	)
	app := fakeApp(t, `shutdownTimeLimit="2"`)
	rewriteConfig(t, app, "</aspNetCore>", `<handlerSettings><handlerSetting name="shutdownDelay" value="500" /></handlerSettings></aspNetCore>`)
	r := startRoost(t, app)
	_, oldPid := r.get("/pid")
	l := startLoad(r, "/pid")

	// The new backend never listens, ignores SIGTERM and starts a child;
	// it writes "PID CHILDPID" once it ignores SIGTERM.
	pidFile := filepath.Join(t.TempDir(), "pids")
	rewriteConfig(t, app, "<aspNetCore ", `<aspNetCore startupTimeLimit="120" `,
		"<environmentVariables>", `<environmentVariables><environmentVariable name="FAKE_LISTEN" value="no" />`+
			`<environmentVariable name="FAKE_TERM" value="ignore" /><environmentVariable name="FAKE_CHILD" value="`+pidFile+`" />`)
	r.waitLog("web.config changed; recycling the app", 30*time.Second)
	pids := readPidFile(t, pidFile)
	pids = append(pids, oldPid)

	l.finish(t, http.StatusOK) // the old backend served throughout
	begin := time.Now()
	code := r.stop()
	took := time.Since(begin)
	if code != 0 {
		t.Errorf("roost exited with %d, want 0:\n%s", code, r.stderr())
	}
	if bound := delay + limit + time.Second; took > bound {
		t.Errorf("roost took %s to stop, want at most shutdownDelay + shutdownTimeLimit + 1 s = %s:\n%s", took, bound, r.stderr())
	}
	if !strings.Contains(r.stderr(), "recycle abandoned: roost is stopping") {
		t.Errorf("no line says the recycle was abandoned:\n%s", r.stderr())
	}
	// A killed child is reaped by init, a moment after roost has gone.
	waitGone(t, 2*time.Second, pids...)
}

// readPidFile waits until the fake backend has written "PID CHILDPID" to
// path, and returns both.
func readPidFile(t *testing.T, path string) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		data, _ := os.ReadFile(path)
		if pids := strings.Fields(string(data)); len(pids) == 2 {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pids in %s within 30 s", path)
		}
		time.Sleep(10 * time.Millisecond) // the file is written by another process
	}
}

// waitGone waits up to limit for each of pids to be gone.
func waitGone(t *testing.T, limit time.Duration, pids ...string) {
	t.Helper()
	for _, pid := range pids {
		for gone := time.Now().Add(limit); pidAlive(t, pid); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(gone) {
				t.Errorf("process %s still runs after %s", pid, limit)
				break
			}
		}
	}
}

// roost killed with SIGKILL takes the backend and its child with it: the
// watchdog that roost run starts kills the backend's process group.
func TestKilledRoostLeavesNoBackend(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	r := startRoost(t, fakeApp(t, "", "FAKE_CHILD", pidFile))
	r.get("/pid")
	pids := readPidFile(t, pidFile)
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.done
	waitGone(t, 5*time.Second, pids...)
}
