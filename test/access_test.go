package test

import (
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// w3cFields are the fields of roost's W3C access log lines, in order.
var w3cFields = strings.Fields("date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken")

// accessRequests sends the requests whose lines the access log tests
// check: a GET with a query, a user agent and a referer with spaces; a
// request that request filtering denies (404.8); and, through a raw
// connection, a user agent with a tab and a space.
func accessRequests(t *testing.T, r *roostRun) {
	t.Helper()
	req, _ := http.NewRequest("GET", r.url("/pid?x=1&y=a%20b"), nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) roost-test/1.0")
	req.Header.Set("Referer", "http://example.com/from here")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /pid: status %d", resp.StatusCode)
	}
	if res, _ := r.get("/web.config"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /web.config: status %d, want 404", res.StatusCode)
	}
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /pid HTTP/1.1\r\nHost: x\r\nUser-Agent: a\tb c\r\nConnection: close\r\n\r\n")
	if reply, _ := io.ReadAll(c); !bytes.HasPrefix(reply, []byte("HTTP/1.1 200 ")) {
		t.Fatalf("raw GET /pid: %q", reply)
	}
}

// wantEntry is what a test expects of a line, by field name.
type wantEntry map[string]string

// accessWants are the lines accessRequests makes, as W3C fields.
func accessWants(r *roostRun) []wantEntry {
	host, port, _ := net.SplitHostPort(r.addr)
	base := wantEntry{"s-ip": host, "s-port": port, "cs-method": "GET", "cs-username": "-", "c-ip": "127.0.0.1", "sc-win32-status": "0"}
	with := func(m wantEntry) wantEntry {
		for k, v := range base {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m
	}
	return []wantEntry{
		with(wantEntry{"cs-uri-stem": "/pid", "cs-uri-query": "x=1&y=a%20b",
			"cs(User-Agent)": "Mozilla/5.0+(X11;+Linux+x86_64)+roost-test/1.0", "cs(Referer)": "http://example.com/from+here",
			"sc-status": "200", "sc-substatus": "0"}),
		with(wantEntry{"cs-uri-stem": "/web.config", "cs-uri-query": "-", "cs(User-Agent)": "Go-http-client/1.1", "cs(Referer)": "-",
			"sc-status": "404", "sc-substatus": "8"}),
		with(wantEntry{"cs-uri-stem": "/pid", "cs-uri-query": "-", "cs(User-Agent)": "a%09b+c", "cs(Referer)": "-",
			"sc-status": "200", "sc-substatus": "0"}),
	}
}

// checkEntry compares a line's fields with want, and checks its time.
func checkEntry(t *testing.T, i int, got map[string]string, want wantEntry, before, after time.Time) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("line %d: %s = %q, want %q", i+1, k, got[k], v)
		}
	}
	at, err := time.Parse("2006-01-02 15:04:05", got["date"]+" "+got["time"])
	if err != nil || at.Before(before.Truncate(time.Second)) || at.After(after) {
		t.Errorf("line %d: date and time %q %q, want UTC between %v and %v", i+1, got["date"], got["time"], before.UTC(), after.UTC())
	}
	if ms, err := strconv.Atoi(got["time-taken"]); err != nil || ms < 0 || ms > 30000 {
		t.Errorf("line %d: time-taken %q", i+1, got["time-taken"])
	}
}

func TestAccessLogW3C(t *testing.T) {
	file := filepath.Join(t.TempDir(), "logs", "access.log")
	before := time.Now()
	r := startRoost(t, "--access-log", file, fakeApp(t, ""))
	accessRequests(t, r)
	waitMetric(t, r.adminURL(), "roost_access_log_lines_dropped_total", 0)
	if code := r.stop(); code != 0 {
		t.Fatalf("roost exited %d:\n%s", code, r.stderr())
	}
	after := time.Now()
	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(content), "\n"), "\n")
	if len(lines) != 4+3 {
		t.Fatalf("%d lines, want 4 directives and 3 requests:\n%s", len(lines), content)
	}
	if want := "#Software: roost "; !strings.HasPrefix(lines[0], want) {
		t.Errorf("line 1 %q, want %q…", lines[0], want)
	}
	if lines[1] != "#Version: 1.0" {
		t.Errorf("line 2 %q, want #Version: 1.0", lines[1])
	}
	if d, err := time.Parse("#Date: 2006-01-02 15:04:05", lines[2]); err != nil || d.Before(before.Add(-time.Second)) || d.After(after) {
		t.Errorf("line 3 %q: want #Date: and the UTC time roost started (%v)", lines[2], err)
	}
	if want := "#Fields: " + strings.Join(w3cFields, " "); lines[3] != want {
		t.Errorf("line 4 %q, want %q", lines[3], want)
	}
	var gots []map[string]string
	for _, line := range lines[4:] {
		values := strings.Split(line, " ")
		if len(values) != len(w3cFields) {
			t.Errorf("line %q: %d fields, want %d", line, len(values), len(w3cFields))
			continue
		}
		got := make(map[string]string)
		for j, name := range w3cFields {
			got[name] = values[j]
		}
		gots = append(gots, got)
	}
	for i, want := range accessWants(r) {
		checkEntry(t, i, lineFor(t, gots, want), want, before, after)
	}
}

// lineFor is the line of gots for the request want describes: lines come
// in the order responses end, which a client that has its response may
// overtake with its next request.
func lineFor(t *testing.T, gots []map[string]string, want wantEntry) map[string]string {
	t.Helper()
	for _, got := range gots {
		if got["cs-uri-stem"] == want["cs-uri-stem"] && got["cs(User-Agent)"] == want["cs(User-Agent)"] {
			return got
		}
	}
	t.Errorf("no line for %s with user agent %q", want["cs-uri-stem"], want["cs(User-Agent)"])
	return map[string]string{}
}

// lockedBuffer is a bytes.Buffer for a process's output, read while the
// process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestAccessLogJSON: --access-log - writes to stdout; JSON lines carry the
// same fields in camelCase, their values not IIS-encoded.
func TestAccessLogJSON(t *testing.T) {
	var stdout lockedBuffer
	cmd := exec.Command(roostBin, append(runArgs(), "--access-log", "-", "--access-log-format", "json", fakeApp(t, ""))...)
	cmd.Stdout = &stdout
	before := time.Now()
	r := startRoostCmd(t, cmd)
	accessRequests(t, r)
	if code := r.stop(); code != 0 {
		t.Fatalf("roost exited %d:\n%s", code, r.stderr())
	}
	after := time.Now()
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	wants := accessWants(r)
	if len(lines) != len(wants) {
		t.Fatalf("%d lines on stdout, want %d (JSON has no directives):\n%s", len(lines), len(wants), stdout.String())
	}
	// The W3C encoding undone: what the JSON line holds.
	decoded := map[string]string{"Mozilla/5.0+(X11;+Linux+x86_64)+roost-test/1.0": "Mozilla/5.0 (X11; Linux x86_64) roost-test/1.0",
		"http://example.com/from+here": "http://example.com/from here", "a%09b+c": "a\tb c", "-": "", "Go-http-client/1.1": "Go-http-client/1.1"}
	var gots []map[string]string
	for _, line := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got := make(map[string]string)
		for _, name := range w3cFields {
			v, ok := obj[camelCase(name)]
			if !ok {
				t.Errorf("line %q: no %s", line, camelCase(name))
			}
			got[name] = fmt.Sprint(v)
		}
		gots = append(gots, got)
	}
	for i, want := range wants {
		for _, k := range []string{"cs(User-Agent)", "cs(Referer)", "cs-uri-query", "cs-username"} {
			if d, ok := decoded[want[k]]; ok {
				want[k] = d
			}
		}
		checkEntry(t, i, lineFor(t, gots, want), want, before, after)
	}
}

// camelCase is a W3C field's name in JSON: cs(User-Agent) is csUserAgent.
func camelCase(name string) string {
	var b strings.Builder
	upper := false
	for _, c := range name {
		switch {
		case c == '-' || c == '(' || c == ')':
			upper = true
		case upper && b.Len() > 0:
			b.WriteString(strings.ToUpper(string(c)))
			upper = false
		default:
			b.WriteRune(c)
			upper = false
		}
	}
	return b.String()
}

// TestAccessLogUnopenable: an access log that cannot be opened is a usage
// error, and nothing is started.
func TestAccessLogUnopenable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	app := fakeApp(t, "")
	out, err := exec.Command(roostBin, append(runArgs(), "--access-log", filepath.Join(blocker, "access.log"), app)...).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--access-log") {
		t.Errorf("roost run: %v, want exit code 2 naming --access-log\n%s", err, out)
	}
	if strings.Contains(string(out), "backend started") {
		t.Errorf("a backend was started:\n%s", out)
	}
}
