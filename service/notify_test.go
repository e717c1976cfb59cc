package service

import (
	"strings"
	"testing"
	"time"
)

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		name, usec, pid string
		want            time.Duration
		err             string
	}{
		{name: "no watchdog", want: 0},
		{name: "half of it", usec: "3000000", want: 1500 * time.Millisecond},
		{name: "for roost", usec: "200000", pid: "42", want: 100 * time.Millisecond},
		{name: "for another process", usec: "200000", pid: "43", want: 0},
		{name: "zero", usec: "0", err: "positive number of microseconds"},
		{name: "not a number", usec: "5s", err: "positive number of microseconds"},
		{name: "bad pid", usec: "200000", pid: "x", err: "want a process id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := watchdogInterval(tt.usec, tt.pid, 42)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("watchdogInterval(%q, %q) = %v, %v; want %v, error %q", tt.usec, tt.pid, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name, state, status string
		within              time.Duration
		want                string
	}{
		{name: "ready", state: "READY=1", status: "serving", want: "READY=1\nSTATUS=serving"},
		{name: "status alone", status: "starting", want: "STATUS=starting"},
		{name: "one line", status: "a\nb  c\r\n", want: "STATUS=a b c"},
		{name: "with a time", status: "starting", within: 2 * time.Second, want: "STATUS=starting\nEXTEND_TIMEOUT_USEC=12000000"},
		{name: "watchdog", state: "WATCHDOG=1", want: "WATCHDOG=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := message(tt.state, tt.status, tt.within); got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotifierSocketVariable(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	if n, err := newNotifier(env(nil), 1, nil); n != nil || err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v, %v; want nil, nil", n, err)
	}
	if _, err := newNotifier(env(map[string]string{notifySocketEnv: "vsock:2:1234"}), 1, nil); err == nil || !strings.Contains(err.Error(), "abstract name") {
		t.Errorf("an unsupported address: %v, want an error saying what is valid", err)
	}
	var n *Notifier
	n.Ready("nothing happens")
	n.RunWatchdog(t.Context())
	if err := n.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}
