package host

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/roosthq/roost/supervisor"
)

// useStateDir makes the state files of the test go to a folder of its
// own, and returns that folder.
func useStateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("LOCALAPPDATA", dir) // Windows
	return stateDirs(true)[0]
}

func TestStateName(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if stateName(a) == stateName(b) {
		t.Errorf("two folders share the state file name %s", stateName(a))
	}
	if got := stateName(a + string(filepath.Separator) + "."); got != stateName(a) {
		t.Errorf("%s/. gives %s, %s gives %s: want one name", a, got, a, stateName(a))
	}
	weird := filepath.Join(t.TempDir(), "my app (v2)")
	if name := stateName(weird); !strings.HasPrefix(name, "my-app--v2--") || !strings.HasSuffix(name, ".json") {
		t.Errorf("stateName(%q) = %q, want the base name made safe, a hash and .json", weird, name)
	}
	if runtime.GOOS != "windows" {
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(a, link); err != nil {
			t.Fatal(err)
		}
		if stateName(link) != stateName(a) {
			t.Error("a symbolic link to the app folder gives another state file name")
		}
	}
}

func TestDialAddr(t *testing.T) {
	tests := []struct {
		in   *net.TCPAddr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9100}, "127.0.0.1:9100"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9100}, "127.0.0.1:9100"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9100}, "[::1]:9100"},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7:1"},
	}
	for _, tt := range tests {
		if got := dialAddr(tt.in); got != tt.want {
			t.Errorf("dialAddr(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// fakeAdmin serves /status for a roost with pid, as the admin listener
// does, and returns its host:port.
func fakeAdmin(t *testing.T, pid int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(Status{Roost: RoostStatus{PID: pid}, Ready: true})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestStateFileAndQueryStatus(t *testing.T) {
	stateDir := useStateDir(t)
	app := t.TempDir()
	ctx := context.Background()
	if _, err := QueryStatus(ctx, app); !errors.Is(err, ErrNotRunning) || strings.Contains(err.Error(), "stale") {
		t.Errorf("no state file: %v, want ErrNotRunning, nothing stale", err)
	}

	path, err := writeStateFile(stateFile{PID: 4242, Admin: fakeAdmin(t, 4242), AppDir: app, StartedAt: time.Now()})
	if err != nil || filepath.Dir(path) != stateDir {
		t.Fatalf("writeStateFile = %s, %v; want a file in %s", path, err, stateDir)
	}
	st, err := QueryStatus(ctx, app)
	if err != nil || st.Roost.PID != 4242 || !st.Ready {
		t.Errorf("QueryStatus = %+v, %v; want the status of pid 4242", st, err)
	}
	if _, err := QueryStatus(ctx, t.TempDir()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("another app: %v, want ErrNotRunning", err)
	}

	// Someone else answers at the address: the file is stale.
	writeStateFile(stateFile{PID: 4243, Admin: fakeAdmin(t, 1), AppDir: app})
	if _, err := QueryStatus(ctx, app); !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "stale state file "+path+" (pid 4243)") {
		t.Errorf("pid mismatch: %v, want ErrNotRunning naming the stale file", err)
	}
	// Nothing answers at the address: stale too.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	writeStateFile(stateFile{PID: 4244, Admin: dead, AppDir: app})
	if _, err := QueryStatus(ctx, app); !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "(pid 4244)") {
		t.Errorf("nothing listening: %v, want ErrNotRunning naming the stale file", err)
	}

	// Removal leaves another roost's file alone.
	removeStateFile(path, 1)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("removeStateFile removed the file of another pid: %v", err)
	}
	removeStateFile(path, 4244)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("removeStateFile left its own file: %v", err)
	}
	if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
		t.Errorf("left in the state folder: %v", entries)
	}
}

func TestBackendsReady(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     []supervisor.BackendStatus
		ready  bool
		reason string
	}{
		{"running", []supervisor.BackendStatus{{State: supervisor.Running}}, true, ""},
		{"one of two", []supervisor.BackendStatus{{State: supervisor.Backoff}, {State: supervisor.Running}}, true, ""},
		{"starting", []supervisor.BackendStatus{{State: supervisor.Starting, PID: 7, Started: at}}, false, "the backend is starting (pid 7, since 2026-12-04T10:00:00Z)"},
		{"backoff", []supervisor.BackendStatus{{State: supervisor.Backoff, Reason: "process exited (exit code 1)", NextStart: at}}, false, "the backend failed (process exited (exit code 1)); it starts again at 2026-12-04T10:00:00Z"},
		{"paused", []supervisor.BackendStatus{{State: supervisor.Paused, Reason: "restarts paused by rapidFailsPerMinute"}}, false, "restarts paused by rapidFailsPerMinute"},
		{"stopped", []supervisor.BackendStatus{{State: supervisor.Stopped}}, false, "the backend is stopped"},
		{"none", nil, false, "no backend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, reason := backendsReady(tt.in)
			if ready != tt.ready || reason != tt.reason {
				t.Errorf("backendsReady = %v, %q; want %v, %q", ready, reason, tt.ready, tt.reason)
			}
		})
	}
}

func TestBackendsStatus(t *testing.T) {
	now := time.Now()
	soon, later := now.Add(time.Minute), now.Add(time.Hour)
	got, state, paused := backendsStatus([]supervisor.BackendStatus{
		{State: supervisor.Paused, NextStart: later},
		{State: supervisor.Running, PID: 7, Port: 8000, Started: now.Add(-2 * time.Second), ReadyAt: now.Add(-time.Second)},
		{State: supervisor.Paused, NextStart: soon},
	}, now)
	if state != "running" || paused == nil || !paused.Equal(soon) {
		t.Errorf("state %q, paused until %v; want running, paused until the sooner %v", state, paused, soon)
	}
	if b := got[1]; b.PID != 7 || b.Port != 8000 || b.UptimeSeconds != 1 || b.StartedAt == nil || b.ReadyAt == nil || b.NextStartAt != nil {
		t.Errorf("running backend: %+v", b)
	}
	if b := got[0]; b.State != "paused" || b.PID != 0 || b.StartedAt != nil || b.NextStartAt == nil {
		t.Errorf("paused backend: %+v", b)
	}
}
