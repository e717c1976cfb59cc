package host

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseListen(t *testing.T) {
	tests := []struct {
		in      string
		want    Listen
		wantErr string
	}{
		{":8080", Listen{Addr: ":8080"}, ""},
		{"127.0.0.1:80", Listen{Addr: "127.0.0.1:80"}, ""},
		{"[::1]:443", Listen{Addr: "[::1]:443"}, ""},
		{"http://localhost:8080", Listen{Addr: "localhost:8080"}, ""},
		{"https://0.0.0.0:8443/", Listen{Addr: "0.0.0.0:8443", TLS: true}, ""},
		{"127.0.0.1", Listen{}, `want host:port`},
		{"ftp://h:1", Listen{}, `want host:port`},
		{"http://h:1/path", Listen{}, `want host:port`},
		{"h:99999", Listen{}, `port "99999" is not 0-65535`},
		{"h:http", Listen{}, `port "http" is not 0-65535`},
	}
	for _, tt := range tests {
		got, err := ParseListen(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
				t.Errorf("ParseListen(%q) = %v, %v; want an error naming it and containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseListen(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestDefaultListen(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := DefaultListen(getenv); got.Addr != ":8080" || got.TLS {
		t.Errorf("without PORT: %+v", got)
	}
	env["PORT"] = "3000"
	if got := DefaultListen(getenv); got.Addr != ":3000" {
		t.Errorf("with PORT=3000: %+v", got)
	}
}

func TestHTTPSPort(t *testing.T) {
	listen := func(n int) []net.Listener {
		var lns []net.Listener
		for range n {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			lns = append(lns, ln)
		}
		return lns
	}
	lns := listen(3)
	port := func(i int) int { return lns[i].Addr().(*net.TCPAddr).Port }
	if got := httpsPort([]Listen{{}, {TLS: true}}, lns[:2]); got != port(1) {
		t.Errorf("one https listener: %d, want %d", got, port(1))
	}
	if got := httpsPort([]Listen{{}, {}}, lns[:2]); got != 0 {
		t.Errorf("no https listener: %d, want 0", got)
	}
	if got := httpsPort([]Listen{{TLS: true}, {TLS: true}}, lns[1:3]); got != 0 {
		t.Errorf("two https ports: %d, want 0 (as ANCM)", got)
	}
}

func TestReadOffline(t *testing.T) {
	log := zap.NewNop()
	dir := t.TempDir()
	if _, offline := readOffline(dir, log); offline {
		t.Error("offline without the file")
	}
	os.Mkdir(filepath.Join(dir, "app_offline.htm"), 0o755)
	if _, offline := readOffline(dir, log); offline {
		t.Error("a folder named app_offline.htm took the app offline; only a file does")
	}
	os.Remove(filepath.Join(dir, "app_offline.htm"))
	os.WriteFile(filepath.Join(dir, "APP_OFFLINE.HTM"), []byte("<p>down</p>"), 0o644)
	if page, offline := readOffline(dir, log); !offline || string(page) != "<p>down</p>" {
		t.Errorf("readOffline = %q, %v; want the file's bytes, in any letter case", page, offline)
	}
	core, logs := observer.New(zap.WarnLevel)
	os.WriteFile(filepath.Join(dir, "APP_OFFLINE.HTM"), make([]byte, maxOfflinePage+1), 0o644)
	if page, offline := readOffline(dir, zap.New(core)); !offline || len(page) != 0 || page == nil {
		t.Errorf("too large: %d bytes, %v; want an empty page", len(page), offline)
	}
	if logs.Len() != 1 {
		t.Errorf("%d warnings, want 1", logs.Len())
	}
}

func TestWatcherCoalescesAndDebounces(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(dir, "web.config", zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	defer func() { cancel(); <-done }()

	// The watch is set up inside run: wait until it reports a change.
	waitWatching(t, w, dir)
	for range 20 {
		os.WriteFile(filepath.Join(dir, "web.config"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, "other.txt"), []byte("x"), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "App_Offline.htm"), []byte("x"), 0o644)
	got := nextChange(t, w)
	if !got.config || !got.offline {
		t.Errorf("change = %+v, want both files, coalesced", got)
	}
	select {
	case <-w.signal:
		t.Error("a second change was posted for one burst")
	case <-time.After(3 * debounce):
	}
}

// waitWatching writes web.config until the watcher reports it.
func waitWatching(t *testing.T, w *watcher, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		os.WriteFile(filepath.Join(dir, "web.config"), []byte("x"), 0o644)
		select {
		case <-w.signal:
			w.mu.Lock()
			w.pending = change{}
			w.mu.Unlock()
			return
		case <-time.After(5 * debounce):
		}
	}
	t.Fatal("the watcher never reported a change")
}

func nextChange(t *testing.T, w *watcher) change {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, ok := w.next(ctx)
	if !ok {
		t.Fatal("no change reported within 10 s")
	}
	return c
}

func TestWatcherPolls(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(dir, "web.config", zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	first := w.snapshot()
	go func() { defer close(done); w.poll(ctx, first) }()
	defer func() { cancel(); <-done }()
	os.WriteFile(filepath.Join(dir, "app_offline.htm"), nil, 0o644)
	if got := nextChange(t, w); !got.offline || got.config {
		t.Errorf("change = %+v, want app_offline.htm only", got)
	}
}

func TestGenerationDrain(t *testing.T) {
	in := func(d time.Duration) time.Time { return time.Now().Add(d) }
	never := func() time.Time { t.Error("stopDeadline called without a stop"); return time.Time{} }
	g := &generation{idle: make(chan struct{}, 1), inflight: new(atomic.Int64)}
	if !g.drain(in(time.Second), nil, never) {
		t.Error("an idle generation did not drain")
	}
	g = &generation{idle: make(chan struct{}, 1), inflight: new(atomic.Int64)}
	g.enter()
	go func() {
		g.leave()
	}()
	if !g.drain(in(10*time.Second), nil, never) {
		t.Error("drain did not see the last request leave")
	}
	g = &generation{idle: make(chan struct{}, 1), inflight: new(atomic.Int64)}
	g.enter()
	if g.drain(in(50*time.Millisecond), nil, never) {
		t.Error("drain reported success with a request still in flight")
	}
}

// A stop that begins while a generation drains brings its deadline
// forward, never back.
func TestGenerationDrainStopping(t *testing.T) {
	g := &generation{idle: make(chan struct{}, 1), inflight: new(atomic.Int64)}
	g.enter()
	stopping := make(chan struct{})
	close(stopping)
	begin := time.Now()
	if g.drain(begin.Add(time.Minute), stopping, func() time.Time { return begin.Add(100 * time.Millisecond) }) {
		t.Error("drain reported success with a request still in flight")
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("drain took %s; the stop's deadline was 100 ms away", took)
	}
	begin = time.Now()
	if g.drain(begin.Add(100*time.Millisecond), stopping, func() time.Time { return begin.Add(time.Hour) }) {
		t.Error("drain reported success with a request still in flight")
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("drain took %s; a later stop deadline moved its own one back", took)
	}
}
