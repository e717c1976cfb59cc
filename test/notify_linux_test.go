package test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSystemd is the notification socket of a test that plays systemd:
// a unix datagram socket whose messages roost sends (NOTIFY_SOCKET).
type fakeSystemd struct {
	t       *testing.T
	path    string
	msgs    chan string
	pending []string // messages drain read, for next
	pings   int      // WATCHDOG=1 messages read
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	t.Helper()
	// A short path: a socket's path may not exceed 107 bytes.
	dir, err := os.MkdirTemp("", "roost-sd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &fakeSystemd{t: t, path: filepath.Join(dir, "notify"), msgs: make(chan string, 1000)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.msgs <- string(buf[:n])
		}
	}()
	return s
}

// next returns the next message that is not a watchdog ping, counting
// the pings.
func (s *fakeSystemd) next(r *roostRun) string {
	s.t.Helper()
	if len(s.pending) > 0 {
		m := s.pending[0]
		s.pending = s.pending[1:]
		return m
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m := <-s.msgs:
			if m == "WATCHDOG=1" {
				s.pings++
				continue
			}
			return m
		case <-deadline:
			s.t.Fatalf("no notification within 30 s\nroost:\n%s", r.stderr())
			return ""
		}
	}
}

// drain reads the messages that have come, counting the pings.
func (s *fakeSystemd) drain() {
	for {
		select {
		case m := <-s.msgs:
			if m == "WATCHDOG=1" {
				s.pings++
			} else {
				s.pending = append(s.pending, m)
			}
		default:
			return
		}
	}
}

// expect reads messages up to the first that starts with state, and
// returns it and the ones before it.
func (s *fakeSystemd) expect(r *roostRun, state string) (msg string, before []string) {
	s.t.Helper()
	for {
		m := s.next(r)
		if strings.HasPrefix(m, state+"\n") || m == state {
			return m, before
		}
		before = append(before, m)
	}
}

// TestSystemdNotify plays systemd: roost says READY=1 once its backend
// serves, STATUS= as it goes, RELOADING=1 and READY=1 around a recycle,
// STOPPING=1 when stopped, and WATCHDOG=1 at half of WATCHDOG_USEC.
func TestSystemdNotify(t *testing.T) {
	sd := newFakeSystemd(t)
	// FAKE_BIND=retry: the port roost picked may be taken meanwhile by some
	// connection's ephemeral port; a restart would add a STATUS= line.
	app := fakeApp(t, "", "FAKE_LISTEN_DELAY", "300", "FAKE_BIND", "retry")
	cmd := exec.Command(roostBin, append(runArgs(), app)...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=200000")
	r := startRoostCmd(t, cmd)

	ready, before := sd.expect(r, "READY=1")
	_, pid := r.get("/pid")
	if want := "READY=1\nSTATUS=serving (pid " + pid + ", port "; !strings.HasPrefix(ready, want) {
		t.Errorf("ready message %q, want it to start %q", ready, want)
	}
	if len(before) != 1 || !strings.HasPrefix(before[0], "STATUS=starting the app (pid "+pid+", port ") ||
		!strings.HasSuffix(before[0], "\nEXTEND_TIMEOUT_USEC=130000000") {
		t.Errorf("before READY=1: %q; want the start, and startupTimeLimit plus 10 s to be ready in", before)
	}
	if _, env := r.get("/env"); strings.Contains(env, "NOTIFY_SOCKET") || strings.Contains(env, "WATCHDOG_USEC") {
		t.Errorf("the app inherited systemd's variables: %s", env)
	}

	rewriteConfig(t, app, `FAKE_LISTEN_DELAY" value="300"`, `FAKE_LISTEN_DELAY" value="200"`)
	reloading, _ := sd.expect(r, "RELOADING=1")
	if !strings.Contains(reloading, "\nMONOTONIC_USEC=") || !strings.Contains(reloading, "\nSTATUS=recycling: web.config changed\n") {
		t.Errorf("reloading message %q, want MONOTONIC_USEC and a status", reloading)
	}
	if ready, _ := sd.expect(r, "READY=1"); ready != "READY=1\nSTATUS=serving the recycled app" {
		t.Errorf("after the recycle: %q", ready)
	}

	pings := sd.pings
	time.Sleep(500 * time.Millisecond) // pings are due every 100 ms
	sd.drain()
	if sd.pings-pings < 2 {
		t.Errorf("%d watchdog pings in 500 ms, want one every 100 ms", sd.pings-pings)
	}

	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d, want 0\n%s", code, r.stderr())
	}
	if stopping, _ := sd.expect(r, "STOPPING=1"); !strings.HasPrefix(stopping, "STOPPING=1\nSTATUS=stopping: signal\nEXTEND_TIMEOUT_USEC=") {
		t.Errorf("stopping message %q", stopping)
	}
}
