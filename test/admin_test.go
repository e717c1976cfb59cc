package test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// adminLine matches the line roost logs for its admin listener.
var adminLine = regexp.MustCompile(`\tadmin listening\t\{"url": "([^"]+)"`)

// adminURL returns the URL of roost's admin listener, from its log.
func (r *roostRun) adminURL() string {
	r.t.Helper()
	m := adminLine.FindStringSubmatch(r.waitLog("admin listening", 30*time.Second))
	if m == nil {
		r.t.Fatalf("no admin URL in roost's log:\n%s", r.stderr())
	}
	return m[1]
}

// adminGet fetches path from the admin listener at admin.
func adminGet(t *testing.T, admin, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(admin + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", admin, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// scrape is one reading of /metrics: each sample's value by its name and
// labels as written (`roost_recycles_total{result="recycled"}`), and each
// metric's type by its name.
type scrape struct {
	values map[string]float64
	types  map[string]string
	text   string
}

func scrapeMetrics(t *testing.T, admin string) scrape {
	t.Helper()
	status, body := adminGet(t, admin, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: status %d\n%s", status, body)
	}
	s := scrape{values: map[string]float64{}, types: map[string]string{}, text: body}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			s.types[f[2]] = f[3]
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: bad sample line %q", line)
		}
		s.values[line[:i]] = v
	}
	return s
}

// value returns a sample's value, failing the test when it is missing.
func (s scrape) value(t *testing.T, sample string) float64 {
	t.Helper()
	v, ok := s.values[sample]
	if !ok {
		t.Fatalf("/metrics has no sample %s:\n%s", sample, s.text)
	}
	return v
}

// waitMetric scrapes until sample has value want.
func waitMetric(t *testing.T, admin, sample string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := scrapeMetrics(t, admin)
		if v, ok := s.values[sample]; ok && v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v after 30 s, want %v:\n%s", sample, s.values[sample], want, s.text)
		}
		time.Sleep(20 * time.Millisecond) // the change happens in another process
	}
}

// waitAdmin gets path from the admin listener until it answers want.
func waitAdmin(t *testing.T, admin, path string, want int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := adminGet(t, admin, path)
		if status == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %d (%q) after 30 s, want %d", path, status, body, want)
		}
		time.Sleep(20 * time.Millisecond) // the change happens in another process
	}
}

func TestAdminMetricsAndProbes(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)
	admin := r.adminURL()
	_, pid := r.get("/pid")

	s := scrapeMetrics(t, admin)
	for name, typ := range map[string]string{
		"roost_http_request_duration_seconds": "histogram",
		"roost_http_requests_in_flight":       "gauge",
		"roost_http_response_bytes_total":     "counter",
		"roost_websockets_open":               "gauge",
		"roost_requests_held":                 "gauge",
		"roost_backend_up":                    "gauge",
		"roost_backend_starts_total":          "counter",
		"roost_backend_exits_total":           "counter",
		"roost_backend_restart_paused":        "gauge",
		"roost_backend_time_to_ready_seconds": "histogram",
		"roost_recycles_total":                "counter",
		"roost_app_offline":                   "gauge",
		"roost_stdout_lines_dropped_total":    "counter",
		"go_goroutines":                       "gauge",
	} {
		if got := s.types[name]; got != typ {
			t.Errorf("# TYPE %s is %q, want %s", name, got, typ)
		}
	}
	if s.value(t, "roost_backend_up") != 1 || s.value(t, "roost_backend_starts_total") != 1 ||
		s.value(t, "roost_backend_time_to_ready_seconds_count") != 1 || s.value(t, "roost_app_offline") != 0 {
		t.Errorf("after the start: up, starts, time to ready, offline = %v %v %v %v; want 1 1 1 0",
			s.value(t, "roost_backend_up"), s.value(t, "roost_backend_starts_total"),
			s.value(t, "roost_backend_time_to_ready_seconds_count"), s.value(t, "roost_app_offline"))
	}
	if status, body := adminGet(t, admin, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz: %d %q", status, body)
	}
	waitAdmin(t, admin, "/readyz", http.StatusOK)

	// A crash: the backend exits by itself, and another one starts.
	if resp, err := http.Post(r.url("/crash"), "text/plain", nil); err == nil {
		resp.Body.Close()
	}
	waitMetric(t, admin, `roost_backend_exits_total{reason="exited"}`, 1)
	waitMetric(t, admin, "roost_backend_starts_total", 2)
	if _, pid2 := r.get("/pid"); pid2 == pid {
		t.Errorf("the crashed backend %s still answers", pid)
	}

	// A web.config change recycles the app.
	rewriteConfig(t, app, "<aspNetCore ", `<aspNetCore requestTimeout="00:01:00" `)
	waitMetric(t, admin, `roost_recycles_total{result="recycled"}`, 1)
	waitMetric(t, admin, `roost_backend_exits_total{reason="stopped"}`, 1)

	// app_offline.htm: offline, not ready, no backend up; then back.
	offline := filepath.Join(app, "app_offline.htm")
	writeFile(t, offline, "down")
	body := waitAdmin(t, admin, "/readyz", http.StatusServiceUnavailable)
	if !strings.Contains(body, "app_offline.htm") {
		t.Errorf("/readyz while offline: %q, want the reason", body)
	}
	waitMetric(t, admin, "roost_app_offline", 1)
	waitMetric(t, admin, "roost_backend_up", 0)
	if status, _ := adminGet(t, admin, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz while offline: %d, want 200: roost runs", status)
	}
	mustRemove(t, offline)
	waitAdmin(t, admin, "/readyz", http.StatusOK)
	waitMetric(t, admin, "roost_app_offline", 0)
	waitMetric(t, admin, "roost_backend_up", 1)

	if status, _ := adminGet(t, admin, "/nothing"); status != http.StatusNotFound {
		t.Errorf("/nothing: %d, want 404", status)
	}
	if resp, err := http.Post(admin+"/readyz", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: %v %v, want 405", resp, err)
	}
}

// roostStatus runs `roost status args...` and returns its stdout, its
// stderr and its exit code.
func roostStatus(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(roostBin, append([]string{"status"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// statusJSON is what the tests read of roost status --json.
type statusJSON struct {
	AppDir, File, Element string
	Roost                 struct{ PID int }
	Ready                 bool
	Reason, State         string
	Offline, Stopping     bool
	Generation, Starts    int
	LastExit              *struct {
		PID      int
		ExitCode *int
		Reason   string
	}
	Backends []struct {
		State     string
		PID, Port int
	}
	Listeners []string
	Admin     string
	InFlight  int
}

// waitStatusCmd runs roost status --json APP until it exits with want.
func waitStatusCmd(t *testing.T, app string, want int) statusJSON {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errOut, code := roostStatus(t, "--json", app)
		if code == want {
			var st statusJSON
			if want != 3 {
				if err := json.Unmarshal([]byte(out), &st); err != nil {
					t.Fatalf("roost status --json: %v\n%s", err, out)
				}
			}
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("roost status exits %d after 30 s, want %d\n%s%s", code, want, out, errOut)
		}
		time.Sleep(50 * time.Millisecond) // the change happens in another process
	}
}

func TestStatusCommand(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)
	_, pid := r.get("/pid")

	st := waitStatusCmd(t, app, 0)
	if st.AppDir != app || st.File != filepath.Join(app, "web.config") || st.Element != "aspNetCore" ||
		!st.Ready || st.State != "running" || st.Offline || st.Generation != 1 || st.Starts != 1 ||
		st.LastExit != nil || st.Roost.PID != r.cmd.Process.Pid || st.Admin != r.adminURL() ||
		len(st.Listeners) != 1 || st.Listeners[0] != r.url("") || st.InFlight != 0 {
		t.Errorf("roost status --json: %+v", st)
	}
	if len(st.Backends) != 1 || strconv.Itoa(st.Backends[0].PID) != pid || st.Backends[0].Port == 0 || st.Backends[0].State != "running" {
		t.Errorf("backends: %+v, want pid %s running", st.Backends, pid)
	}
	out, _, code := roostStatus(t, app)
	if code != 0 || !strings.Contains(out, "ready:      yes") || !strings.Contains(out, "pid "+pid) {
		t.Errorf("roost status: exit %d\n%s", code, out)
	}

	// A crash is the last exit, and the restart one more start.
	if resp, err := http.Post(r.url("/crash"), "text/plain", nil); err == nil {
		resp.Body.Close()
	}
	r.waitLog("backend exited", 30*time.Second)
	r.get("/pid")
	st = waitStatusCmd(t, app, 0)
	if e := st.LastExit; e == nil || strconv.Itoa(e.PID) != pid || e.ExitCode == nil || *e.ExitCode != 1 || e.Reason != "exited" || st.Starts != 2 {
		t.Errorf("after a crash: last exit %+v, starts %d; want pid %s, exit code 1, exited; 2 starts", e, st.Starts, pid)
	}

	// Offline: roost runs, the backend is not ready.
	writeFile(t, filepath.Join(app, "app_offline.htm"), "")
	st = waitStatusCmd(t, app, 1)
	if st.Ready || !st.Offline || st.State != "offline" || !strings.Contains(st.Reason, "app_offline.htm") {
		t.Errorf("offline: %+v", st)
	}
	mustRemove(t, filepath.Join(app, "app_offline.htm"))
	waitStatusCmd(t, app, 0)

	// Stopped cleanly: no roost, and no stale state file either.
	if code := r.stop(); code != 0 {
		t.Fatalf("exit code %d\n%s", code, r.stderr())
	}
	_, errOut, code := roostStatus(t, app)
	if code != 3 || !strings.Contains(errOut, "no roost runs") || strings.Contains(errOut, "stale") {
		t.Errorf("after roost stopped: exit %d, %q; want 3, no roost runs, nothing stale", code, errOut)
	}
}

func TestStatusOfAKilledRoost(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)
	r.adminURL()
	r.cmd.Process.Kill()
	<-r.done
	_, errOut, code := roostStatus(t, app)
	if code != 3 || !strings.Contains(errOut, "stale state file") {
		t.Errorf("roost killed: exit %d, %q; want 3 and the stale state file named", code, errOut)
	}
}

func TestAdminOff(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, "--admin", "off", app)
	r.get("/pid")
	if _, _, code := roostStatus(t, app); code != 3 {
		t.Errorf("roost status of a roost with --admin off: exit %d, want 3", code)
	}
	if strings.Contains(r.stderr(), "admin listening") {
		t.Errorf("an admin listener with --admin off:\n%s", r.stderr())
	}
}

func TestAdminAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := exec.Command(roostBin, "run", "--listen", "127.0.0.1:0", "--admin", ln.Addr().String(), fakeApp(t, "")).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("roost run on a busy admin address: %v, want exit code 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "cannot listen") || !strings.Contains(string(out), `"flag": "--admin"`) ||
		!strings.Contains(string(out), ln.Addr().String()) {
		t.Errorf("output does not say it cannot listen, naming --admin and the address:\n%s", out)
	}
	if strings.Contains(string(out), "backend started") {
		t.Errorf("a backend was started although the admin address is busy:\n%s", out)
	}
	for _, bad := range []string{"nonsense", "127.0.0.1:99999"} {
		out, err := exec.Command(roostBin, "run", "--admin", bad, fakeApp(t, "")).CombinedOutput()
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--admin") {
			t.Errorf("--admin %s: %v, want exit code 2 naming --admin\n%s", bad, err, out)
		}
	}
}

// While shutdownDelay keeps serving requests, /readyz already says that
// roost is leaving, and /healthz that it runs.
func TestReadyzDuringShutdownDelay(t *testing.T) {
	app := fakeApp(t, "")
	rewriteConfig(t, app, "<environmentVariables>",
		`<handlerSettings><handlerSetting name="shutdownDelay" value="3000" /></handlerSettings><environmentVariables>`)
	r := startRoost(t, app)
	admin := r.adminURL()
	r.get("/pid")
	waitAdmin(t, admin, "/readyz", http.StatusOK)
	if err := stop(r.cmd.Process); err != nil {
		t.Fatal(err)
	}
	r.waitLog("still serving for shutdownDelay", 10*time.Second)
	if body := waitAdmin(t, admin, "/readyz", http.StatusServiceUnavailable); body != "roost is stopping\n" {
		t.Errorf("/readyz while stopping: %q", body)
	}
	if status, _ := adminGet(t, admin, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz while stopping: %d, want 200", status)
	}
	if st := waitStatusCmd(t, app, 1); !st.Stopping || st.Ready || st.Reason != "roost is stopping" {
		t.Errorf("roost status while stopping: %+v", st)
	}
	if resp, _ := r.get("/pid"); resp.StatusCode != http.StatusOK {
		t.Errorf("a request during shutdownDelay: status %d, want 200", resp.StatusCode)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d\n%s", code, r.stderr())
	}
}

// TestAdminRequestMetrics: the request series move with every request,
// on roost's own HTTP/1.x server and on net/http's (ROOST_TEST_HTTP1).
func TestAdminRequestMetrics(t *testing.T) {
	r := startRoost(t, fakeApp(t, ""))
	admin := r.adminURL()
	for range 2 {
		if res, _ := r.get("/pid"); res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if res, err := http.Get(r.url("/web.config")); err == nil { // request filtering: 404.8
		res.Body.Close()
	}
	waitMetric(t, admin, `roost_http_requests_total{code="200",method="GET"}`, 2)
	waitMetric(t, admin, `roost_http_requests_total{code="404",method="GET"}`, 1)
	s := scrapeMetrics(t, admin)
	if n := s.value(t, "roost_http_request_duration_seconds_count"); n != 3 {
		t.Errorf("request duration count %v, want 3", n)
	}
	if n := s.value(t, "roost_http_response_bytes_total"); n <= 0 {
		t.Errorf("response bytes %v, want some", n)
	}
	if n := s.value(t, "roost_http_requests_in_flight"); n != 0 {
		t.Errorf("in flight %v after every response, want 0", n)
	}
}

// TestAdminReadyzOnCrash: a backend that crashes and cannot come back
// (rapid-fail protection pauses its restarts) makes /readyz 503, saying
// why, while /healthz stays 200.
func TestAdminReadyzOnCrash(t *testing.T) {
	crashFile := filepath.Join(t.TempDir(), "crash")
	r := startRoost(t, fakeApp(t, `rapidFailsPerMinute="1"`, "FAKE_CRASH_IF", crashFile))
	admin := r.adminURL()
	waitAdmin(t, admin, "/readyz", http.StatusOK)
	if err := os.WriteFile(crashFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Post(r.url("/crash"), "text/plain", nil); err == nil {
		resp.Body.Close()
	}
	waitMetric(t, admin, "roost_backend_restart_paused", 1)
	waitMetric(t, admin, "roost_backend_up", 0)
	if status, body := adminGet(t, admin, "/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "paused") {
		t.Errorf("/readyz: %d %q; want 503 saying why: restarts paused", status, body)
	}
	if status, _ := adminGet(t, admin, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz with the backend down: %d, want 200: roost runs", status)
	}
}
