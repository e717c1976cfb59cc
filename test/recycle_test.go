package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roosthq/roost/test/fakebackend"

	"github.com/roosthq/roost/test/testenv"
)

// load sends requests to path through roost from a few clients until
// stopped, and counts the statuses and errors.
type load struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	statuses map[int]int
	bodies   map[string]int // of 200 responses
	errs     []error
}

func startLoad(r *roostRun, path string) *load {
	l := &load{stop: make(chan struct{}), statuses: map[int]int{}, bodies: map[string]int{}}
	for range 4 {
		l.wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := client.Get(r.url(path))
				l.mu.Lock()
				if err != nil {
					l.errs = append(l.errs, err)
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					l.statuses[resp.StatusCode]++
					if resp.StatusCode == http.StatusOK {
						l.bodies[string(body)]++
					}
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

// finish stops the load and fails the test on any status not in allowed
// or any connection error.
func (l *load) finish(t *testing.T, allowed ...int) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	for status, n := range l.statuses {
		if !slices.Contains(allowed, status) {
			t.Errorf("%d responses with status %d under load; want only %v (all: %v)", n, status, allowed, l.statuses)
		}
	}
	if len(l.errs) > 0 {
		t.Errorf("%d request errors under load, first: %v", len(l.errs), l.errs[0])
	}
	if l.statuses[http.StatusOK] == 0 {
		t.Errorf("no successful request under load: %v", l.statuses)
	}
}

// waitStatus retries GET path until it answers want, and returns the body.
func (r *roostRun) waitStatus(path string, want int, timeout time.Duration) (*http.Response, string) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, body := r.get(path)
		if resp.StatusCode == want {
			return resp, body
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("GET %s: status %d (%q), want %d within %s\n%s", path, resp.StatusCode, body, want, timeout, r.stderr())
		}
		time.Sleep(10 * time.Millisecond) // the change happens in another process
	}
}

// mustRemove deletes path, which roost may be reading: as a deploy tool
// does, it must succeed then too.
func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatalf("removing %s while roost runs: %v", path, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAppOfflineUnderLoad(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)
	_, pid := r.get("/pid")
	l := startLoad(r, "/pid")

	offline := filepath.Join(app, "App_Offline.htm") // any letter case
	writeFile(t, offline, "The app is offline.")
	resp, body := r.waitStatus("/pid", http.StatusServiceUnavailable, 20*time.Second)
	if body != "The app is offline." || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("offline response: body %q, headers %v", body, resp.Header)
	}
	r.waitLog(`"how": "shutdown request"`, 20*time.Second)
	if pidAlive(t, pid) {
		t.Errorf("backend %s still running while offline", pid)
	}

	// A new page is served as soon as it is written.
	writeFile(t, offline, "Back soon.")
	if _, body := r.waitStatusBody("/pid", "Back soon.", 20*time.Second); body != "Back soon." {
		t.Errorf("offline page after a change: %q", body)
	}

	mustRemove(t, offline)
	_, pid2 := r.waitStatus("/pid", http.StatusOK, 20*time.Second)
	if pid2 == pid {
		t.Errorf("the same backend %s serves after going online; want a new start", pid)
	}
	writeFile(t, offline, "The app is offline.")
	r.waitStatus("/pid", http.StatusServiceUnavailable, 20*time.Second)
	mustRemove(t, offline)
	r.waitStatus("/pid", http.StatusOK, 20*time.Second)
	l.finish(t, http.StatusOK, http.StatusServiceUnavailable)
}

// waitStatusBody retries GET path until its body is want.
func (r *roostRun) waitStatusBody(path, want string, timeout time.Duration) (*http.Response, string) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, body := r.get(path)
		if body == want || time.Now().After(deadline) {
			return resp, body
		}
		time.Sleep(10 * time.Millisecond) // the change happens in another process
	}
}

// pidAlive reports whether process pid (a number, as /pid answers it) is
// running; see testenv.ProcessAlive.
func pidAlive(t *testing.T, pid string) bool {
	t.Helper()
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		// Not only bad input: on Unix, signals to 0 or -1 reach groups.
		t.Fatalf("pid %q is not a process id", pid)
	}
	alive, err := testenv.ProcessAlive(n)
	if err != nil {
		t.Fatalf("is process %d alive: %v", n, err)
	}
	return alive
}

func TestAppOfflineAtStart(t *testing.T) {
	app := fakeApp(t, "")
	writeFile(t, filepath.Join(app, "app_offline.htm"), "")
	r := startRoost(t, app)
	resp, body := r.get("/pid")
	if resp.StatusCode != http.StatusServiceUnavailable || body != "" {
		t.Errorf("status %d, body %q; want 503 with the (empty) file", resp.StatusCode, body)
	}
	if strings.Contains(r.stderr(), "backend started") {
		t.Errorf("the backend was started although app_offline.htm was present:\n%s", r.stderr())
	}
	mustRemove(t, filepath.Join(app, "app_offline.htm"))
	r.waitStatus("/pid", http.StatusOK, 20*time.Second)
}

func TestAppOfflineWinsOverAFailingStart(t *testing.T) {
	app := writeApp(t, `<configuration><system.webServer>
<aspNetCore processPath=".\missing.exe" startupTimeLimit="1" />
</system.webServer></configuration>`)
	r := startRoost(t, app)
	if resp, _ := r.get("/"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want the 502.5 of a failing start", resp.StatusCode)
	}
	writeFile(t, filepath.Join(app, "app_offline.htm"), "maintenance")
	if _, body := r.waitStatus("/", http.StatusServiceUnavailable, 20*time.Second); body != "maintenance" {
		t.Errorf("offline body %q", body)
	}
}

// rewriteConfig replaces each old string with its new one in the app's
// web.config, writing a temporary file and renaming it over web.config in
// one step, as editors and deploy tools do.
func rewriteConfig(t *testing.T, app string, oldNew ...string) {
	t.Helper()
	path := filepath.Join(app, "web.config")
	content := mustReadString(t, path)
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(content, oldNew[i]) {
			t.Fatalf("web.config has no %q", oldNew[i])
		}
		content = strings.Replace(content, oldNew[i], oldNew[i+1], 1)
	}
	tmp := filepath.Join(app, ".web.config.tmp")
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestTouchingWebConfigRecyclesUnderLoad(t *testing.T) {
	testenv.SkipUnderWine(t, "does not report a change of a file's times alone to a folder watch")
	app := fakeApp(t, "")
	r := startRoost(t, app)
	_, pid := r.get("/pid")
	l := startLoad(r, "/pid")
	path := filepath.Join(app, "web.config")
	// Roost acts on a change once the folder has been quiet for its
	// debounce (100 ms), so each run of touches without such a pause is at
	// most one recycle. The pauses below are shorter: all 100 touches are one
	// burst. A pause that the machine stretches past half the debounce is
	// counted as the start of another: events reach roost with delays of
	// their own.
	const debounce = 100 * time.Millisecond
	bursts := 1
	last := time.Now()
	for i := range 100 {
		if time.Since(last) > debounce/2 {
			bursts++
		}
		now := time.Now().Add(time.Duration(i) * time.Millisecond)
		if err := os.Chtimes(path, now, now); err != nil {
			t.Fatal(err)
		}
		last = time.Now()
		if i%10 == 9 {
			time.Sleep(30 * time.Millisecond) // a deploy touching files over a while
		}
	}
	r.waitLog("app recycled", 30*time.Second)
	_, pid2 := r.waitStatusBodyNot("/pid", pid, 20*time.Second)
	l.finish(t, http.StatusOK)
	if pid2 == pid {
		t.Errorf("pid %s did not change after touching web.config", pid)
	}
	// One more for a late event, or a stall of roost's watcher, splitting
	// a burst.
	if n := strings.Count(r.stderr(), "app recycled"); n > bursts+1 {
		t.Errorf("%d recycles for 100 touches in %d bursts; want them coalesced, at most %d", n, bursts, bursts+1)
	}
}

// waitStatusBodyNot retries GET path until its body differs from old.
func (r *roostRun) waitStatusBodyNot(path, old string, timeout time.Duration) (*http.Response, string) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, body := r.get(path)
		if (resp.StatusCode == http.StatusOK && body != old) || time.Now().After(deadline) {
			return resp, body
		}
		time.Sleep(10 * time.Millisecond) // the change happens in another process
	}
}

func TestRecycleAppliesNewSettings(t *testing.T) {
	app := fakeApp(t, "", "GREETING", "first")
	r := startRoost(t, app)
	if env := backendEnv(t, r); !slices.Contains(env, "GREETING=first") {
		t.Fatalf("GREETING not first: %v", env)
	}
	l := startLoad(r, "/pid")
	rewriteConfig(t, app, `value="first"`, `value="second"`,
		"</aspNetCore>", `</aspNetCore><security><requestFiltering><requestLimits maxAllowedContentLength="100" /></requestFiltering></security>`)
	r.waitLog("app recycled", 30*time.Second)
	l.finish(t, http.StatusOK)
	if env := backendEnv(t, r); !slices.Contains(env, "GREETING=second") {
		t.Errorf("after the rename-over save, GREETING is not second: %v", env)
	}
	// The forwarder's settings change too.
	resp, err := http.Post(r.url("/sha256"), "text/plain", strings.NewReader(strings.Repeat("x", 200)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("200 bytes after lowering maxAllowedContentLength to 100: status %d, want 413", resp.StatusCode)
	}
}

func backendEnv(t *testing.T, r *roostRun) []string {
	t.Helper()
	_, body := r.get("/env")
	var report fakebackend.Report
	if err := json.Unmarshal([]byte(body), &report); err != nil {
		t.Fatalf("/env: %v: %q", err, body)
	}
	return report.Env
}

func TestInvalidWebConfigKeepsTheAppRunning(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)
	_, pid := r.get("/pid")
	l := startLoad(r, "/pid")
	rewriteConfig(t, app, "<aspNetCore ", `<aspNetCore startupTimeLimit="soon" `)
	line := r.waitLog("web.config changed but is invalid", 30*time.Second)
	if !strings.Contains(line, `web.config:2: aspNetCore startupTimeLimit: \"soon\" is not a number of seconds`) {
		t.Errorf("the error does not name the line and attribute: %s", line)
	}
	l.finish(t, http.StatusOK)
	if _, pid2 := r.get("/pid"); pid2 != pid {
		t.Errorf("pid changed from %s to %s after an invalid web.config", pid, pid2)
	}
}

func TestRecycleThatCannotStartKeepsTheOldApp(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)
	_, pid := r.get("/pid")
	l := startLoad(r, "/pid")
	// The new backend would listen only after a minute: longer than its
	// startupTimeLimit.
	rewriteConfig(t, app, "<aspNetCore ", `<aspNetCore startupTimeLimit="1" `,
		"<environmentVariables>", `<environmentVariables><environmentVariable name="FAKE_LISTEN_DELAY" value="60000" />`)
	r.waitLog("the recycled app did not start; the old one keeps serving", 30*time.Second)
	l.finish(t, http.StatusOK)
	if _, pid2 := r.get("/pid"); pid2 != pid {
		t.Errorf("pid changed from %s to %s although the new backend never started", pid, pid2)
	}
}

func TestDisallowRotationOnConfigChange(t *testing.T) {
	app := fakeApp(t, "")
	rewriteConfig(t, app, "</aspNetCore>", `<handlerSettings><handlerSetting name="disallowRotationOnConfigChange" value="true" /></handlerSettings></aspNetCore>`)
	r := startRoost(t, app)
	_, pid := r.get("/pid")
	rewriteConfig(t, app, "<configuration>", "<configuration><!-- changed -->")
	r.waitLog("ignored (disallowRotationOnConfigChange)", 30*time.Second)
	if _, pid2 := r.get("/pid"); pid2 != pid {
		t.Errorf("pid changed from %s to %s with disallowRotationOnConfigChange", pid, pid2)
	}
}
