package service

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// listenNotify listens like systemd on a unix datagram socket at addr and
// returns its messages.
func listenNotify(t *testing.T, addr string) <-chan string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan string, 100)
	var wg sync.WaitGroup
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	})
	return msgs
}

func next(t *testing.T, msgs <-chan string) string {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s")
		return ""
	}
}

func TestNotifierSends(t *testing.T) {
	for name, addr := range map[string]string{
		"path":     filepath.Join(t.TempDir(), "notify"),
		"abstract": fmt.Sprintf("@roost-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
	} {
		t.Run(name, func(t *testing.T) {
			msgs := listenNotify(t, addr)
			env := map[string]string{notifySocketEnv: addr, watchdogUsecEnv: "100000"}
			n, err := newNotifier(func(k string) string { return env[k] }, os.Getpid(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			n.Ready("serving")
			if got := next(t, msgs); got != "READY=1\nSTATUS=serving" {
				t.Errorf("Ready sent %q", got)
			}
			n.Reloading("recycling", time.Second)
			if got := next(t, msgs); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") ||
				!strings.HasSuffix(got, "\nSTATUS=recycling\nEXTEND_TIMEOUT_USEC=11000000") {
				t.Errorf("Reloading sent %q", got)
			}
			n.Stopping("stopping", 0)
			if got := next(t, msgs); got != "STOPPING=1\nSTATUS=stopping" {
				t.Errorf("Stopping sent %q", got)
			}

			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			wg.Go(func() { n.RunWatchdog(ctx) })
			for range 3 {
				if got := next(t, msgs); got != "WATCHDOG=1" {
					t.Errorf("watchdog sent %q", got)
				}
			}
			cancel()
			wg.Wait()
		})
	}
}
