package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/roosthq/roost/config"
)

// harness runs a Supervisor for one test and stops it in Cleanup.
type harness struct {
	t      *testing.T
	s      *Supervisor
	logs   *observer.ObservedLogs
	ran    chan struct{} // closed when Run has returned
	runErr error         // what Run returned; read once ran is closed
	stop   func()        // cancels Run and waits for it; safe to call twice
}

func start(t *testing.T, p config.Process, opts Options, tweak ...func(*Supervisor)) *harness {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	// Development: an illegal state transition panics.
	opts.Logger = zap.New(core, zap.Development())
	if opts.Watchdog == nil {
		// As roost run has one: on Windows it is what sends CTRL_C.
		wd, err := StartWatchdog()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wd.Close() }) // after h.stop, registered below
		opts.Watchdog = wd
	}
	s := New(p, opts)
	for _, f := range tweak {
		f(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, s: s, logs: logs, ran: make(chan struct{})}
	go func() {
		h.runErr = s.Run(ctx)
		close(h.ran)
	}()
	stopped := false
	h.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-h.ran:
			if h.runErr != nil {
				t.Errorf("Run returned %v", h.runErr)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return within 30 s of cancel")
		}
	}
	t.Cleanup(h.stop)
	return h
}

// slotView is what the tests read of a slot.
type slotView struct {
	State     State
	Port      int       // the port of the backend taking requests, or 0
	InFlight  int       // its requests acquired and not yet released
	NextStart time.Time // when a backing-off or paused slot starts again
	Reason    string    // why the last start failed, or why restarts pause
}

// slot returns a snapshot of slot i.
func (h *harness) slot(i int) slotView {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	sl := h.s.slots[i]
	v := slotView{State: sl.state, NextStart: sl.nextStart, Reason: sl.reason}
	if b := sl.current; b != nil {
		v.Port, v.InFlight = b.port, int(b.inflight.Load())
	}
	return v
}

// slots returns a snapshot of every slot.
func (h *harness) slots() []slotView {
	var views []slotView
	for i := range h.s.slots {
		views = append(views, h.slot(i))
	}
	return views
}

// waitUntil waits, event by event, until cond holds.
func (h *harness) waitUntil(timeout time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond) // log entries do not signal
	defer tick.Stop()
	for {
		h.s.mu.Lock()
		changed := h.s.changed
		h.s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline.C:
			h.t.Fatalf("timed out after %s waiting for %s; slots %+v; logs:\n%s", timeout, what, h.slots(), h.dumpLogs())
		}
	}
}

func (h *harness) dumpLogs() string {
	var b strings.Builder
	for _, e := range h.logs.All() {
		b.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			b.WriteString(" " + k + "=" + strings.ReplaceAll(toString(v), "\n", "\\n"))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func toString(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// entries returns the logged entries with message msg.
func (h *harness) entries(msg string) []observer.LoggedEntry {
	return h.logs.FilterMessage(msg).AllUntimed()
}

func (h *harness) logged(msg string) func() bool {
	return func() bool { return len(h.entries(msg)) > 0 }
}

// get sends a GET through Acquire, as the forwarder will.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target, token, release, err := h.s.Acquire(ctx)
	if err != nil {
		h.t.Fatalf("Acquire: %v\nlogs:\n%s", err, h.dumpLogs())
	}
	defer release()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target.String()+path, nil)
	if token != "" {
		req.Header.Set("MS-ASPNETCORE-TOKEN", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (h *harness) pid() int {
	h.t.Helper()
	_, body := h.get("/pid")
	pid, err := strconv.Atoi(body)
	if err != nil {
		h.t.Fatalf("/pid = %q", body)
	}
	return pid
}

// fakeReport is what the fake backend's /env returns.
type fakeReport struct {
	Env  []string
	Args []string
	Dir  string
}

func (r fakeReport) lookup(name string) (string, bool) {
	for _, kv := range r.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

func (h *harness) report() fakeReport {
	h.t.Helper()
	status, body := h.get("/env")
	var r fakeReport
	if status != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
		h.t.Fatalf("/env = %d %q", status, body)
	}
	return r
}

func TestEnvironmentContractAspNetCore(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Arguments = mustTemplate("--port %ASPNETCORE_PORT% --also %PORT%")
	p.Env = append(p.Env, fakeEnv(
		"ASPNETCORE_ENVIRONMENT", "Staging",
		"FROM_ROOST", "overridden",
		"SERVER_PORT", "%ASPNETCORE_PORT%",
		"ASPNETCORE_APPL_PATH", "/ignored",
		"ASPNETCORE_IIS_HTTPAUTH", "windows;",
	)...)
	dir := t.TempDir()
	p.Dir = dir
	h := start(t, p, Options{
		Environ:   []string{"FROM_ROOST=roost", "ONLY_ROOST=kept", "PORT=9999", "PATH=" + os.Getenv("PATH")},
		HTTPSPort: 8443,
	})
	r := h.report()
	port, _ := r.lookup("ASPNETCORE_PORT")
	if n, err := strconv.Atoi(port); err != nil || n < 10000 || n > 48000 {
		t.Fatalf("ASPNETCORE_PORT = %q, want a port in 10000-48000", port)
	}
	token, _ := r.lookup("ASPNETCORE_TOKEN")
	want := map[string]string{
		"ASPNETCORE_PORT":            port,
		"PORT":                       port, // roost's own PORT is replaced
		"SERVER_PORT":                port, // placeholder filled
		"ASPNETCORE_APPL_PATH":       "/",
		"ASPNETCORE_IIS_HTTPAUTH":    "anonymous;",
		"ASPNETCORE_ANCM_HTTPS_PORT": "8443",
		"ASPNETCORE_ENVIRONMENT":     "Staging",
		"FROM_ROOST":                 "overridden", // web.config wins
		"ONLY_ROOST":                 "kept",
	}
	for name, v := range want {
		if got, ok := r.lookup(name); !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", name, got, ok, v)
		}
	}
	if len(token) != 36 || strings.ToLower(token) != token || strings.Count(token, "-") != 4 {
		t.Errorf("ASPNETCORE_TOKEN = %q, want a lower-case GUID", token)
	}
	if got := r.Args; !slices.Equal(got, []string{"--port", port, "--also", port}) {
		t.Errorf("args = %q, want the port filled in", got)
	}
	if real, _ := filepath.EvalSymlinks(dir); r.Dir != dir && r.Dir != real {
		t.Errorf("working directory = %q, want the app folder %q", r.Dir, dir)
	}

	// The backend refuses requests without the token, so Acquire's token
	// is the one the backend got.
	target, _, release, err := h.s.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	resp, err := http.Get(target.String() + "/pid")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("request without the token: status %d, want 400", resp.StatusCode)
	}
}

func TestEnvironmentContractHTTPPlatform(t *testing.T) {
	p := testProcess(config.HTTPPlatform)
	p.Arguments = mustTemplate("%HTTP_PLATFORM_PORT%")
	p.Env = append(p.Env, fakeEnv("FAKE_PORT_VAR", "HTTP_PLATFORM_PORT", "PORT", "%HTTP_PLATFORM_PORT%")...)
	h := start(t, p, Options{Environ: []string{"ASPNETCORE_TOKEN=", "PATH=" + os.Getenv("PATH")}, HTTPSPort: 8443})
	r := h.report()
	port, _ := r.lookup("HTTP_PLATFORM_PORT")
	if got, _ := r.lookup("PORT"); got != port || port == "" {
		t.Errorf("PORT = %q, HTTP_PLATFORM_PORT = %q; want the same port", got, port)
	}
	if !slices.Equal(r.Args, []string{port}) {
		t.Errorf("args = %q, want [%s]", r.Args, port)
	}
	for _, name := range []string{"ASPNETCORE_PORT", "ASPNETCORE_APPL_PATH", "ASPNETCORE_IIS_HTTPAUTH", "ASPNETCORE_ANCM_HTTPS_PORT"} {
		if v, ok := r.lookup(name); ok {
			t.Errorf("%s = %q, want it unset for <httpPlatform>", name, v)
		}
	}
}

func TestFixedPortAndUserToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := testProcess(config.AspNetCore)
	p.Port = port
	p.Env = append(p.Env, fakeEnv("ASPNETCORE_PORT", strconv.Itoa(port), "ASPNETCORE_TOKEN", "my-token")...)
	h := start(t, p, Options{})
	r := h.report()
	if got, _ := r.lookup("ASPNETCORE_PORT"); got != strconv.Itoa(port) {
		t.Errorf("ASPNETCORE_PORT = %q, want the fixed %d", got, port)
	}
	if got, _ := r.lookup("ASPNETCORE_TOKEN"); got != "my-token" {
		t.Errorf("ASPNETCORE_TOKEN = %q, want the one web.config sets", got)
	}
	if st := h.slot(0); st.Port != port || st.State != Running {
		t.Errorf("slot = %+v, want running on %d", st, port)
	}
}

func TestReadyAfterSlowStart(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN_DELAY", "300")...)
	h := start(t, p, Options{})
	// Acquire waits for the slow start instead of failing.
	if status, _ := h.get("/pid"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	e := h.entries("backend ready")
	if len(e) != 1 {
		t.Fatalf("%d 'backend ready' lines, want 1", len(e))
	}
	if d, ok := e[0].ContextMap()["time_to_ready"].(time.Duration); !ok || d < 300*time.Millisecond {
		t.Errorf("time_to_ready = %v, want at least the 300 ms the backend waited", e[0].ContextMap()["time_to_ready"])
	}
}

func TestIPv6OnlyBackend(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		ln.Close()
	}
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN_HOST", "::1")...)
	h := start(t, p, Options{})
	target, _, release, err := h.s.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
	if target.Hostname() != "::1" {
		t.Errorf("target = %s, want the [::1] address the backend listens on", target)
	}
}

// A process that exits cleanly before it listens most likely started
// the server in the background: the error says that the app must stay in
// the foreground. Other exits do not get the hint.
func TestExitZeroBeforeReadySuggestsForeground(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.StartupTimeLimit = time.Hour
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN", "no", "FAKE_EXIT", "0:0")...)
	h := start(t, p, Options{})
	h.waitUntil(20*time.Second, "a failed start", h.logged("backend failed to start"))
	e := h.entries("backend failed to start")[0].ContextMap()
	if got := toString(e["error"]); !strings.Contains(got, "process exited (exit code 0) before listening") ||
		!strings.Contains(got, "must stay in the foreground") {
		t.Errorf("error = %v, want the exit and the foreground hint", got)
	}
}

func TestExitBeforeReadyFailsFast(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.StartupTimeLimit = time.Hour // failing fast must not depend on it
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN", "no", "FAKE_EXIT", "0:3", "FAKE_PRINT", "3")...)
	h := start(t, p, Options{})
	h.waitUntil(20*time.Second, "a failed start", h.logged("backend failed to start"))
	e := h.entries("backend failed to start")[0].ContextMap()
	if got := toString(e["error"]); !strings.Contains(got, "process exited (exit code 3) before listening") || strings.Contains(got, "foreground") {
		t.Errorf("error = %v, want the exit without the foreground hint", got)
	}
	if got := e["exit_code"]; got != int64(3) {
		t.Errorf("exit_code = %v, want 3", got)
	}
	// The last lines the process printed, stdout and stderr together.
	if got := toString(e["output"]); !strings.Contains(got, `"line 1","line 2","line 3"`) {
		t.Errorf("output = %s, want the three lines printed", got)
	}
}

func TestStartupTimeoutKillsTree(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.StartupTimeLimit = time.Second
	pidFile := filepath.Join(t.TempDir(), "pids")
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN", "no", "FAKE_CHILD", pidFile, "FAKE_TERM", "ignore")...)
	h := start(t, p, Options{})
	h.waitUntil(20*time.Second, "a start timeout", h.logged("backend failed to start"))
	pids := readPids(t, pidFile)
	e := h.entries("backend failed to start")[0].ContextMap()
	if got := toString(e["error"]); !strings.Contains(got, "did not listen on port") || !strings.Contains(got, "within startupTimeLimit (1s)") {
		t.Errorf("error = %s", got)
	}
	for _, pid := range pids {
		waitGone(t, pid, 5*time.Second)
	}
}

func TestRestartAfterCrashWithBackoff(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_EXIT", "150:7")...)
	h := start(t, p, Options{})
	h.waitUntil(30*time.Second, "four restarts", func() bool { return len(h.entries("restart scheduled")) >= 4 })
	var delays []time.Duration
	for _, e := range h.entries("restart scheduled")[:4] {
		delays = append(delays, e.ContextMap()["delay"].(time.Duration))
	}
	if want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}; !slices.Equal(delays, want) {
		t.Errorf("restart delays = %v, want %v", delays, want)
	}
	if n := len(h.entries("backend started")); n < 4 {
		t.Errorf("%d starts, want at least 4", n)
	}
	exits := h.entries("backend exited")
	if len(exits) < 4 {
		t.Errorf("%d exits, want at least 4", len(exits))
	}
	for i, e := range exits {
		if got := e.ContextMap()["exit_code"]; got != int64(7) {
			t.Errorf("exit %d: exit_code = %v, want 7 each time", i+1, got)
		}
	}
}

// TestStateChanged follows a backend's life through
// Options.StateChanged: started, ready, exited and restarted, paused, then
// stopped; each change names the process where there is one.
func TestStateChanged(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.RapidFailsPerMinute = 1
	var mu sync.Mutex
	var events []StateChange
	h := start(t, p, Options{StateChanged: func(e StateChange) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}})
	seen := func(want ...State) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			var got []State
			for _, e := range events {
				got = append(got, e.State)
			}
			return slices.Equal(got, want)
		}
	}
	crash := func() {
		target, token, release, err := h.s.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		req, _ := http.NewRequest(http.MethodGet, target.String()+"/crash", nil)
		req.Header.Set("MS-ASPNETCORE-TOKEN", token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	h.waitUntil(20*time.Second, "started, then running", seen(Starting, Running))
	pid := h.pid()
	crash()
	h.waitUntil(20*time.Second, "a restart", seen(Starting, Running, Backoff, Starting, Running))
	crash()
	h.waitUntil(20*time.Second, "a pause", seen(Starting, Running, Backoff, Starting, Running, Paused))
	h.stop()
	h.waitUntil(20*time.Second, "stopped", seen(Starting, Running, Backoff, Starting, Running, Paused, Stopped))

	mu.Lock()
	defer mu.Unlock()
	if e := events[1]; e.PID != pid || e.Port == 0 || e.Slot != 0 {
		t.Errorf("running event %+v, want pid %d and a port", e, pid)
	}
	if e := events[2]; !strings.Contains(e.Reason, "exit code 1") || e.Next.IsZero() {
		t.Errorf("backoff event %+v, want the exit and the next start", e)
	}
	if e := events[5]; !strings.Contains(e.Reason, "restarts paused by rapidFailsPerMinute") || !e.Next.After(time.Now()) {
		t.Errorf("paused event %+v, want the limit and a later next start", e)
	}
}

func TestRapidFailsPauseThenRecover(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := testProcess(config.AspNetCore)
	p.RapidFailsPerMinute = 2
	p.Env = append(p.Env, fakeEnv("FAKE_CRASH_IF", broken, "FAKE_PRINT", "1")...)
	h := start(t, p, Options{}, func(s *Supervisor) { s.policy.window = 3 * time.Second })
	h.waitUntil(20*time.Second, "restarts to pause", h.logged("restarts paused"))
	if n := len(h.entries("backend started")); n != 3 {
		t.Errorf("%d starts before the pause, want 3 (the third failure is more than 2)", n)
	}

	_, _, _, err := h.s.Acquire(context.Background())
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("Acquire while paused = %v, want *UnavailableError", err)
	}
	if ue.RetryAfter() <= 0 || ue.RetryAfter() > 3*time.Second || !strings.Contains(ue.Error(), "rapidFailsPerMinute") || !slices.Contains(ue.LastOutput(), "line 1") {
		t.Errorf("UnavailableError = %+v", ue)
	}
	if st := h.slot(0); st.State != Paused || st.NextStart.IsZero() {
		t.Errorf("slot = %+v, want paused with a next start", st)
	}

	// The app is fixed during the pause: once the window allows, the
	// supervisor starts it again by itself and it serves.
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	h.waitUntil(20*time.Second, "the backend to run again", func() bool { return h.slot(0).State == Running })
	if status, _ := h.get("/pid"); status != http.StatusOK {
		t.Errorf("status %d after recovery", status)
	}
}

func TestStartupRetryCountPauses(t *testing.T) {
	p := testProcess(config.HTTPPlatform)
	p.StartupRetryCount = 1
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN", "no", "FAKE_EXIT", "0:1")...)
	h := start(t, p, Options{})
	h.waitUntil(20*time.Second, "restarts to pause", h.logged("restarts paused"))
	if got := h.entries("restarts paused")[0].ContextMap()["limit"]; got != "startupRetryCount" {
		t.Errorf("limit = %v, want startupRetryCount", got)
	}
	if n := len(h.entries("backend started")); n != 2 {
		t.Errorf("%d starts before the pause, want 2 (one retry)", n)
	}
}

func TestProgramNotFound(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Path = filepath.Join(t.TempDir(), "missing.exe")
	p.StartupTimeLimit = 500 * time.Millisecond
	h := start(t, p, Options{})
	_, _, _, err := h.s.Acquire(context.Background())
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Error(), "no such file") || !strings.Contains(ue.Error(), "missing.exe") {
		t.Errorf("Acquire = %v, want an *UnavailableError naming the program", err)
	}
	h.waitUntil(10*time.Second, "the failure logged", h.logged("backend did not start"))
}

func TestGracefulStopLadder(t *testing.T) {
	tests := []struct {
		name  string
		kind  config.Kind
		env   []string
		limit time.Duration
		want  stopHow
	}{
		{"shutdown request accepted", config.AspNetCore, []string{"FAKE_SHUTDOWN", "accept", "FAKE_TERM", "ignore"}, 10 * time.Second, stoppedByRequest},
		{"no shutdown endpoint: SIGTERM", config.AspNetCore, nil, 10 * time.Second, stoppedBySignal},
		{"accepted but still running: SIGTERM", config.AspNetCore, []string{"FAKE_SHUTDOWN", "stay"}, 2 * time.Second, stoppedBySignal},
		{"httpPlatform: SIGTERM", config.HTTPPlatform, nil, 10 * time.Second, stoppedBySignal},
		{"ignores everything: killed", config.AspNetCore, []string{"FAKE_TERM", "ignore"}, time.Second, stoppedByKill},
		{"no time at all: killed", config.AspNetCore, nil, 0, stoppedByKill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testProcess(tt.kind)
			p.ShutdownTimeLimit = tt.limit
			p.Env = append(p.Env, fakeEnv(tt.env...)...)
			h := start(t, p, Options{})
			pid := h.pid()
			h.stop()
			e := h.entries("backend stopped")
			if len(e) != 1 {
				t.Fatalf("%d 'backend stopped' lines, want 1\n%s", len(e), h.dumpLogs())
			}
			if got := e[0].ContextMap()["how"]; got != string(tt.want) {
				t.Errorf("stopped by %v, want %v", got, tt.want)
			}
			waitGone(t, pid, 5*time.Second)
			if st := h.slot(0); st.State != Stopped {
				t.Errorf("state after Run = %v, want stopped", st.State)
			}
		})
	}
}

func TestAcquireWhileStopping(t *testing.T) {
	p := testProcess(config.AspNetCore)
	h := start(t, p, Options{})
	h.pid()
	h.stop()
	_, _, _, err := h.s.Acquire(context.Background())
	var ue *UnavailableError
	if !errors.As(err, &ue) || !ue.Stopping() {
		t.Errorf("Acquire after stop = %v, want a stopping *UnavailableError", err)
	}
}

// TestStopDeadline stops backends that ignore SIGTERM, and start a child,
// with Stop: each is killed at the deadline (at once when it has passed),
// child and all, and Run returns within a second of it, although
// shutdownTimeLimit is a minute. A backend still starting is stopped the
// same way.
func TestStopDeadline(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		state   State         // wait for it before Stop
		timeout time.Duration // from Stop to the deadline
		first   bool          // an earlier Stop, a minute away, is under way
	}{
		{"running, 300 ms", nil, Running, 300 * time.Millisecond, false},
		{"running, deadline passed", nil, Running, -time.Second, false},
		{"still starting, 300 ms", []string{"FAKE_LISTEN", "no"}, Starting, 300 * time.Millisecond, false},
		{"brought forward to 300 ms", nil, Running, 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testProcess(config.AspNetCore)
			p.ShutdownTimeLimit = time.Minute
			pidFile := filepath.Join(t.TempDir(), "pids")
			p.Env = append(p.Env, fakeEnv(append([]string{"FAKE_TERM", "ignore", "FAKE_CHILD", pidFile}, tt.env...)...)...)
			h := start(t, p, Options{})
			h.waitUntil(20*time.Second, "a "+tt.state.String()+" backend with its child", func() bool {
				data, _ := os.ReadFile(pidFile)
				return h.slot(0).State == tt.state && len(strings.Fields(string(data))) == 2
			})
			pids := readPids(t, pidFile)
			if tt.first {
				h.s.Stop(time.Now().Add(time.Minute))
				h.waitUntil(20*time.Second, "the first stop under way", func() bool { return h.slot(0).State == Stopping })
			}

			stopped := time.Now()
			deadline := stopped.Add(tt.timeout)
			h.s.Stop(deadline)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, _, _, err := h.s.Acquire(ctx)
			var ue *UnavailableError
			if !errors.As(err, &ue) || !ue.Stopping() {
				t.Errorf("Acquire after Stop = %v, want a stopping *UnavailableError at once", err)
			}

			bound := deadline
			if bound.Before(stopped) {
				bound = stopped
			}
			bound = bound.Add(time.Second)
			select {
			case <-h.ran:
			case <-time.After(time.Until(bound)):
				t.Fatalf("Run had not returned a second after the deadline\n%s", h.dumpLogs())
			}
			if returned := time.Now(); returned.Before(deadline) {
				t.Errorf("Run returned %s before the deadline: the backend was not given its time", deadline.Sub(returned))
			}
			e := h.entries("backend stopped")
			if len(e) != 1 || e[0].ContextMap()["how"] != string(stoppedByKill) {
				t.Errorf("'backend stopped' lines %v, want one saying it was killed\n%s", e, h.dumpLogs())
			}
			for _, pid := range pids {
				waitGone(t, pid, time.Second)
			}
			if st := h.slot(0); st.State != Stopped {
				t.Errorf("state after Run = %v, want stopped", st.State)
			}
		})
	}
}

// TestOutputWaitBoundedByStop: waiting for a process's output ends at
// the time asked for, or, once Stop was called, by its deadline (or now,
// if that has passed) plus stopMargin.
func TestOutputWaitBoundedByStop(t *testing.T) {
	const slack = 500 * time.Millisecond // for a loaded machine
	tests := []struct {
		name     string
		stop     bool
		deadline time.Duration // from now, when stop
		wait     time.Duration // asked for
		want     time.Duration // about when it gives up
	}{
		{"no stop", false, 0, 200 * time.Millisecond, 200 * time.Millisecond},
		{"stop before the time asked", true, 100 * time.Millisecond, time.Minute, 100*time.Millisecond + stopMargin},
		{"stop after the time asked", true, time.Minute, 200 * time.Millisecond, 200 * time.Millisecond},
		{"deadline passed", true, -time.Minute, time.Minute, stopMargin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(testProcess(config.AspNetCore), Options{})
			b := &backend{outDone: make(chan struct{})} // output that never ends
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			began := time.Now()
			if tt.stop {
				s.Stop(began.Add(tt.deadline))
				cancel()
			}
			if s.waitOutput(ctx, b, began.Add(tt.wait)) {
				t.Fatal("waitOutput reported the output ended")
			}
			if took := time.Since(began); took < tt.want || took > tt.want+slack {
				t.Errorf("gave up after %s, want about %s", took, tt.want)
			}
		})
	}
}

// TestStopBeforeRun: Run after Stop starts nothing and returns at once.
func TestStopBeforeRun(t *testing.T) {
	s := New(testProcess(config.AspNetCore), Options{})
	s.Stop(time.Now().Add(time.Minute))
	s.Stop(time.Now()) // changes nothing
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run after Stop did not return")
	}
	if s.slots[0].state != Stopped {
		t.Errorf("state = %v, want stopped", s.slots[0].state)
	}
}

func TestAcquireHonoursContext(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN", "no")...)
	h := start(t, p, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, _, err := h.s.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire = %v, want the context's deadline", err)
	}
}

func TestInFlightAndRelease(t *testing.T) {
	h := start(t, testProcess(config.AspNetCore), Options{})
	h.pid()
	_, _, release, err := h.s.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := h.slot(0).InFlight; got != 1 {
		t.Errorf("InFlight = %d, want 1", got)
	}
	release()
	release() // a second call is harmless
	if got := h.slot(0).InFlight; got != 0 {
		t.Errorf("InFlight after release = %d, want 0", got)
	}
}

func TestSeveralProcesses(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.ProcessesPerApplication = 2
	h := start(t, p, Options{})
	h.waitUntil(20*time.Second, "two running backends", func() bool {
		return h.slot(0).State == Running && h.slot(1).State == Running
	})
	pids := map[int]bool{}
	for range 4 {
		pids[h.pid()] = true
	}
	if len(pids) != 2 {
		t.Errorf("requests reached %d processes, want both", len(pids))
	}
}

// TestNoConsoleRedirection: without console redirection the backend runs
// and serves, and roost reads nothing of what it prints: the Output hook is
// never called and no line is kept.
func TestNoConsoleRedirection(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.ConsoleRedirection = false
	p.Env = append(p.Env, fakeEnv("FAKE_PRINT", "5")...)
	var mu sync.Mutex
	calls := 0
	h := start(t, p, Options{Output: func(int, time.Time) io.WriteCloser {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return &recorder{}
	}})
	if status, _ := h.get("/pid"); status != http.StatusOK {
		t.Errorf("status %d", status)
	}
	h.s.mu.Lock()
	b := h.s.slots[0].current
	h.s.mu.Unlock()
	if b == nil {
		t.Fatal("no backend in rotation after a request it served")
	}
	if lines := b.out.lines(0); lines != nil {
		t.Errorf("kept output %q, want none", lines)
	}
	h.stop()
	mu.Lock()
	defer mu.Unlock()
	if calls != 0 {
		t.Errorf("Output called %d times, want never", calls)
	}
}

func readPids(t *testing.T, file string) []int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pid file %q", data)
		}
		pids = append(pids, pid)
	}
	return pids
}

// recorder is an Output writer that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	pid    int
	data   strings.Builder
	closed bool
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data.Write(p)
}

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

func TestOutputSink(t *testing.T) {
	var mu sync.Mutex
	var recs []*recorder
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_PRINT", "4")...)
	h := start(t, p, Options{Output: func(pid int, started time.Time) io.WriteCloser {
		mu.Lock()
		defer mu.Unlock()
		r := &recorder{pid: pid}
		recs = append(recs, r)
		return r
	}})
	pid := h.pid()
	h.stop()
	mu.Lock()
	defer mu.Unlock()
	if len(recs) != 1 {
		t.Fatalf("Output called %d times, want once", len(recs))
	}
	if recs[0].pid != pid || !recs[0].closed {
		t.Fatalf("Output called for pid %d, closed %v; want it for %d, closed", recs[0].pid, recs[0].closed, pid)
	}
	if got := recs[0].data.String(); !strings.Contains(got, "line 1\nline 2\nline 3\nline 4\n") {
		t.Errorf("Output got %q, want the four lines in order", got)
	}
}

// TestOneWatchdogForTwoSupervisors runs two supervisors at once with one
// watchdog, as a recycle does, and checks that the watchdog is told about
// both backends and forgets each once it has stopped. The watchdog's pipe
// is read by the test instead of a watchdog process.
func TestOneWatchdogForTwoSupervisors(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wd := &Watchdog{pipe: w}
	a := start(t, testProcess(config.AspNetCore), Options{Watchdog: wd})
	b := start(t, testProcess(config.AspNetCore), Options{Watchdog: wd})
	pids := []int{a.pid(), b.pid()}
	a.stop()
	b.stop()
	if err := wd.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(got) == 0 || got[len(got)-1] != "disarm" {
		t.Fatalf("watchdog orders = %q, want them to end with disarm", got)
	}
	got = got[:len(got)-1]
	slices.Sort(got)
	want := []string{"+" + strconv.Itoa(pids[0]), "+" + strconv.Itoa(pids[1]), "-" + strconv.Itoa(pids[0]), "-" + strconv.Itoa(pids[1])}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("watchdog orders = %q, want %q and disarm", got, want)
	}
}

// TestUnreachableTakesBackendOut: Unreachable takes the backend behind
// the URL out of rotation at once, wakes Acquire's waiters and asks its
// slot to check it; a URL of no backend in rotation changes nothing.
func TestUnreachableTakesBackendOut(t *testing.T) {
	p := testProcess(config.AspNetCore)
	p.ProcessesPerApplication = 2
	s := New(p, Options{})
	var backends []*backend
	for i, sl := range s.slots {
		b := &backend{url: &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(10001+i)}, suspect: make(chan struct{}, 1)}
		sl.state, sl.current = Running, b
		backends = append(backends, b)
	}

	changed := s.changed
	s.Unreachable(&url.URL{Scheme: "http", Host: "127.0.0.1:9"})
	if s.slots[0].current == nil || s.slots[1].current == nil || len(backends[0].suspect)+len(backends[1].suspect) != 0 {
		t.Fatal("an unknown URL took a backend out of rotation")
	}
	select {
	case <-changed:
		t.Error("an unknown URL woke Acquire's waiters")
	default:
	}

	s.Unreachable(&url.URL{Scheme: "http", Host: "127.0.0.1:10002"})
	if s.slots[1].current != nil || len(backends[1].suspect) != 1 {
		t.Errorf("the unreachable backend: in rotation %v, %d checks asked; want out, one", s.slots[1].current != nil, len(backends[1].suspect))
	}
	if s.slots[0].current != backends[0] || len(backends[0].suspect) != 0 {
		t.Error("the other backend was touched")
	}
	select {
	case <-changed:
	default:
		t.Error("Acquire's waiters were not woken")
	}
	if s.slots[1].state != Running {
		t.Errorf("state = %v, want running until its slot has checked it", s.slots[1].state)
	}
}

// TestUnreachable: a backend reported unreachable leaves the rotation; if
// it accepts connections after all it comes back, and if it refuses them
// it is restarted.
func TestUnreachable(t *testing.T) {
	h := start(t, testProcess(config.AspNetCore), Options{})
	pid := h.pid()
	target, _, release, err := h.s.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()

	h.s.Unreachable(target) // a false alarm: it still listens
	h.waitUntil(10*time.Second, "the backend back in rotation", func() bool {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		return h.s.slots[0].current != nil
	})
	if got := h.pid(); got != pid || len(h.entries("backend exited")) != 0 {
		t.Fatalf("after a false alarm: pid %d (was %d), exits %d; want the same process", got, pid, len(h.entries("backend exited")))
	}

	h.get("/unlisten")
	h.s.Unreachable(target)
	h.waitUntil(20*time.Second, "a restart", h.logged("backend stopped accepting connections; restarting it"))
	if got := h.pid(); got == pid {
		t.Errorf("the deaf backend %d still serves", pid)
	}
	waitGone(t, pid, 5*time.Second)
}
