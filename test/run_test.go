package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roosthq/roost/test/fakebackend"
)

// roostRun is a `roost run` started by a test.
type roostRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string // where its first listener listens, host:port
	done    chan struct{}
	mu      sync.Mutex
	log     bytes.Buffer  // its stderr so far
	newLine chan struct{} // closed and replaced at every line
	urls    []string      // what it listens on, from its log, in order
}

// waitLog waits until roost's log has a line containing substr, and
// returns that line.
func (r *roostRun) waitLog(substr string, timeout time.Duration) string {
	r.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ch := r.newLine
		for _, line := range strings.Split(r.log.String(), "\n") {
			if strings.Contains(line, substr) {
				r.mu.Unlock()
				return line
			}
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-r.done:
			r.t.Fatalf("roost exited without logging %q:\n%s", substr, r.stderr())
		case <-deadline.C:
			r.t.Fatalf("roost did not log %q within %s:\n%s", substr, timeout, r.stderr())
		}
	}
}

// writeApp writes a web.config into a new app folder and returns the folder.
func writeApp(t *testing.T, webConfig string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.config"), []byte(webConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeApp returns a web.config that hosts the fake backend (package
// fakebackend) with the given extra environment variables and <aspNetCore>
// attributes. The fake accepts the IIS shutdown request, as an ASP.NET
// Core app does.
func fakeApp(t *testing.T, attrs string, env ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var vars strings.Builder
	env = append([]string{fakebackend.Env, "1", "FAKE_SHUTDOWN", "accept", "GORACE", "atexit_sleep_ms=0"}, env...)
	for i := 0; i+1 < len(env); i += 2 {
		fmt.Fprintf(&vars, "<environmentVariable name=%q value=%q />\n", env[i], env[i+1])
	}
	return writeApp(t, fmt.Sprintf(`<configuration><system.webServer>
<aspNetCore processPath=%q %s>
<environmentVariables>
%s</environmentVariables>
</aspNetCore>
</system.webServer></configuration>
`, exe, attrs, vars.String()))
}

// listeningLine matches the line roost logs for each listener it opens,
// such as `listening {"url": "http://127.0.0.1:41234"}`.
var listeningLine = regexp.MustCompile(`\tlistening\t\{"url": "([^"]+)"`)

// listenURLs returns the URLs of the listeners that roost's log reports.
func listenURLs(log string) []string {
	var urls []string
	for _, m := range listeningLine.FindAllStringSubmatch(log, -1) {
		urls = append(urls, m[1])
	}
	return urls
}

// runArgs starts the arguments of a roost run: one listener on a free
// loopback port, and --http1 from ROOST_TEST_HTTP1 when it is set, so
// that the suite runs against either server of HTTP/1.x connections.
func runArgs() []string {
	args := []string{"run", "--listen", "127.0.0.1:0"}
	if e := os.Getenv("ROOST_TEST_HTTP1"); e != "" {
		args = append(args, "--http1", e)
	}
	return args
}

// startRoost runs `roost run --listen 127.0.0.1:0 args...` and waits until
// roost listens there and on every other --listen in args. The ports are
// roost's choice, read from its log, so no other process can take them
// first. Roost is interrupted and waited for when the test ends.
func startRoost(t *testing.T, args ...string) *roostRun {
	t.Helper()
	return startRoostCmd(t, exec.Command(roostBin, append(runArgs(), args...)...))
}

// startRoostCmd is startRoost for cmd, a roost run with runArgs first, or
// a command that runs one (its arguments follow the command's own), with
// the environment and attributes the test set.
func startRoostCmd(t *testing.T, cmd *exec.Cmd) *roostRun {
	t.Helper()
	r := &roostRun{t: t, cmd: cmd, done: make(chan struct{}), newLine: make(chan struct{})}
	listeners := 0
	for _, a := range cmd.Args {
		if a == "--listen" {
			listeners++
		}
	}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stoppable(r.cmd)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			close(r.newLine)
			r.newLine = make(chan struct{})
			if urls := listenURLs(sc.Text()); len(urls) > 0 {
				r.urls = append(r.urls, urls...)
				if len(r.urls) == listeners {
					close(listening)
				}
			}
			r.mu.Unlock()
		}
		r.cmd.Wait()
	}()
	t.Cleanup(func() {
		stop(r.cmd.Process)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	select {
	case <-listening:
	case <-r.done:
		t.Fatalf("roost exited before listening:\n%s", r.stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("roost did not listen within 30 s:\n%s", r.stderr())
	}
	r.addr = strings.TrimPrefix(r.listenURL("http"), "http://")
	return r
}

// listenURL returns the URL of roost's first listener with scheme.
func (r *roostRun) listenURL(scheme string) string {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.urls {
		if strings.HasPrefix(u, scheme+"://") {
			return u
		}
	}
	r.t.Fatalf("roost listens on %q, none of them %s", r.urls, scheme)
	return ""
}

func (r *roostRun) stderr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// stop asks roost to stop as the system does (SIGTERM; CTRL_C on
// Windows) and returns its exit code.
func (r *roostRun) stop() int {
	r.t.Helper()
	if err := stop(r.cmd.Process); err != nil {
		r.t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("roost did not stop within 30 s of being asked to:\n%s", r.stderr())
	}
	return r.cmd.ProcessState.ExitCode()
}

func (r *roostRun) url(path string) string { return "http://" + r.addr + path }

// get fetches path through roost.
func (r *roostRun) get(path string) (*http.Response, string) {
	r.t.Helper()
	resp, err := http.Get(r.url(path))
	if err != nil {
		r.t.Fatalf("GET %s: %v\nroost:\n%s", path, err, r.stderr())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestRunServesAndStopsGracefully(t *testing.T) {
	app := fakeApp(t, "")
	r := startRoost(t, app)

	req, _ := http.NewRequest("GET", r.url("/headers?x=%3F"), nil)
	req.Host = "example.test"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("MS-ASPNETCORE-TOKEN", "spoofed")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		URI    string
		Host   string
		Header http.Header
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	// The backend refuses a wrong token, so 200 means roost replaced the
	// spoofed one with the real one.
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, r.stderr())
	}
	if got.URI != "/headers?x=%3F" || got.Host != "example.test" {
		t.Errorf("backend saw URI %q, Host %q", got.URI, got.Host)
	}
	// No --trusted-proxies: the client's X-Forwarded-For is replaced.
	if xff := got.Header.Get("X-Forwarded-For"); xff != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", xff)
	}
	if xfp := got.Header.Get("X-Forwarded-Proto"); xfp != "http" {
		t.Errorf("X-Forwarded-Proto = %q", xfp)
	}

	_, body := r.get("/pid")
	pid, _ := strconv.Atoi(body)
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d, want 0\n%s", code, r.stderr())
	}
	if !strings.Contains(r.stderr(), `"how": "shutdown request"`) {
		t.Errorf("the backend was not stopped by the IIS shutdown request:\n%s", r.stderr())
	}
	if pid == 0 || pidAlive(t, strconv.Itoa(pid)) {
		t.Errorf("backend %d still alive after roost stopped", pid)
	}
}

func TestRunHoldsRequestsDuringStartup(t *testing.T) {
	r := startRoost(t, fakeApp(t, "", "FAKE_LISTEN_DELAY", "1500"))
	if resp, _ := r.get("/pid"); resp.StatusCode != http.StatusOK {
		t.Errorf("status %d during a slow start, want 200 after waiting\n%s", resp.StatusCode, r.stderr())
	}
}

func TestRunStartupFailurePage(t *testing.T) {
	app := writeApp(t, `<configuration><system.webServer>
<aspNetCore processPath=".\missing-program.exe" startupTimeLimit="1" />
</system.webServer></configuration>`)
	r := startRoost(t, app)
	resp, body := r.get("/")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "HTTP Error 502.5 - Process Failure") {
		t.Errorf("status %d, body %q; want the 502.5 page", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if strings.Contains(body, "missing-program") {
		t.Error("the page shows internals without detailed errors")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestRunBackendKilledMidRequest(t *testing.T) {
	r := startRoost(t, fakeApp(t, ""))
	_, body := r.get("/pid")
	// A POST, which is never sent twice: the backend dies while it has it.
	resp, err := http.Post(r.url("/crash"), "text/plain", strings.NewReader("x"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("request whose backend died: status %d, want 502 or an aborted connection", resp.StatusCode)
		}
	}
	// The next request waits for the restart and succeeds.
	resp, body2 := r.get("/pid")
	if resp.StatusCode != http.StatusOK || body2 == body {
		r.stop() // so that the log below is complete
		t.Errorf("after the crash: status %d, pid %.20q (before %s); want 200 from a new process\n%s", resp.StatusCode, body2, body, r.stderr())
	}
}

func TestRunSIGTERMLetsRequestsFinish(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "slow.log")
	r := startRoost(t, fakeApp(t, "", "FAKE_LOG", logFile))
	r.get("/pid")
	const n = 10
	results := make(chan error, n)
	for range n {
		go func() {
			resp, err := http.Get(r.url("/slow?ms=1000"))
			if err != nil {
				results <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "done" {
				err = fmt.Errorf("status %d, body %q", resp.StatusCode, body)
			}
			results <- err
		}()
	}
	// Wait until the backend has every request, then ask roost to stop.
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(logFile)
		if bytes.Count(data, []byte("slow\n")) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backend got %d of %d requests", bytes.Count(data, []byte("slow\n")), n)
		}
		time.Sleep(10 * time.Millisecond) // another process's progress has no event to wait on
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d, want 0\n%s", code, r.stderr())
	}
	for range n {
		if err := <-results; err != nil {
			t.Errorf("in-flight request: %v", err)
		}
	}
}

func TestRunListenAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := exec.Command(roostBin, "run", "--listen", ln.Addr().String(), fakeApp(t, "")).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("roost run on a busy address: %v, want exit code 1\n%s", err, out)
	}
	// The rest of the line is the system's own words, which differ.
	if !strings.Contains(string(out), "cannot listen") || !strings.Contains(string(out), ln.Addr().String()) {
		t.Errorf("output does not say it cannot listen, naming the address:\n%s", out)
	}
}

func TestRunInvalidConfig(t *testing.T) {
	app := writeApp(t, "<configuration><system.webServer>\n<aspNetCore processPath=\"x\" startupTimeLimit=\"abc\" />\n</system.webServer></configuration>\n")
	out, err := exec.Command(roostBin, "run", "--listen", "127.0.0.1:0", app).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("roost run with a bad web.config: %v, want exit code 2\n%s", err, out)
	}
	if !strings.Contains(string(out), `web.config:2: aspNetCore startupTimeLimit: "abc" is not a number of seconds (0-3600)`) {
		t.Errorf("output does not name the error:\n%s", out)
	}
}

func TestRunUsageErrors(t *testing.T) {
	app := fakeApp(t, "")
	for _, args := range [][]string{
		{"run", "--listen", "ftp://127.0.0.1:1", app},
		{"run", "--listen", "127.0.0.1", app},
		{"run", "--listen", "https://127.0.0.1:0", app},
		{"run", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem", "--tls-key", "k.pem", app},
		{"run", "--tls-client-certs", app},
		{"run", "--log-format", "xml", app},
		{"run", "--log-level", "loud", app},
	} {
		out, err := exec.Command(roostBin, args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("roost %q: %v, want exit code 2\n%s", args, err, out)
		}
	}
}

// TestRunPythonHTTPServer hosts a program none of us wrote, the
// HttpPlatformHandler way: the port reaches it through the arguments.
func TestRunPythonHTTPServer(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	app := writeApp(t, `<configuration><system.webServer>
<httpPlatform processPath="python3" arguments="-m http.server %HTTP_PLATFORM_PORT% --bind 127.0.0.1" startupTimeLimit="20" />
</system.webServer></configuration>`)
	os.WriteFile(filepath.Join(app, "hello.txt"), []byte("hello from python"), 0o644)
	r := startRoost(t, app)
	resp, body := r.get("/hello.txt")
	if resp.StatusCode != http.StatusOK || body != "hello from python" {
		t.Errorf("status %d, body %q", resp.StatusCode, body)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d\n%s", code, r.stderr())
	}
}

// TestRunDemo runs the README's demo: web.config.example hosting
// test/apps/hello through `go run`.
func TestRunDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the demo app")
	}
	needGo(t) // web.config.example runs the demo with go run
	r := startRoost(t, filepath.Join(repoRoot, "web.config.example"))
	resp, body := r.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello from behind roost") {
		t.Errorf("status %d, body %q\n%s", resp.StatusCode, body, r.stderr())
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d\n%s", code, r.stderr())
	}
}

// TestRunWritesStdoutLogFiles checks that roost run hands the app's output
// to the stdout log files, named after the app process, and that roost
// logs reads them.
func TestRunWritesStdoutLogFiles(t *testing.T) {
	app := fakeApp(t, `stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout"`)
	r := startRoost(t, app)
	_, pid := r.get("/pid")
	if code := r.stop(); code != 0 {
		t.Fatalf("exit code %d\n%s", code, r.stderr())
	}
	files, _ := filepath.Glob(filepath.Join(app, "logs", "stdout_*_"+pid+".log"))
	if len(files) != 1 {
		t.Fatalf("stdout log files for pid %s: %v", pid, files)
	}
	content := mustReadString(t, files[0])
	if !strings.Contains(content, "fake: listening on 127.0.0.1:") || !strings.Contains(content, "fake: pid "+pid) {
		t.Errorf("the log file lacks the app's stdout and stderr lines:\n%s", content)
	}
	if runtime.GOOS != "windows" { // Windows: the folder's ACL applies
		for _, path := range []string{files[0], filepath.Dir(files[0])} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm()&0o007 != 0 {
				t.Errorf("%s: mode %v; want nothing for others", path, fi.Mode().Perm())
			}
		}
	}
	out, err := exec.Command(roostBin, "logs", "-n", "5", app).Output()
	if err != nil || !strings.Contains(string(out), "fake: pid "+pid) {
		t.Errorf("roost logs -n 5: %v\n%s", err, out)
	}
}
