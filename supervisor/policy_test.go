package supervisor

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{1, 0},
		{2, 100 * time.Millisecond},
		{3, 200 * time.Millisecond},
		{4, 400 * time.Millisecond},
		{10, 25600 * time.Millisecond},
		{11, 30 * time.Second},
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.n); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

// step is one failure fed to the policy, at offset at from the start.
type step struct {
	at     time.Duration
	ready  bool
	uptime time.Duration
	want   decision
}

func TestPolicy(t *testing.T) {
	paused := func(d time.Duration, reason string) decision { return decision{delay: d, paused: true, reason: reason} }
	delay := func(d time.Duration) decision { return decision{delay: d} }
	tests := []struct {
		name                   string
		rapidFails, retryLimit int
		steps                  []step
	}{
		{
			"crash loop backs off and then pauses for the rest of the window",
			3, -1,
			[]step{
				{0, true, time.Second, delay(0)},
				{time.Second, true, time.Second, delay(100 * time.Millisecond)},
				{2 * time.Second, true, time.Second, delay(200 * time.Millisecond)},
				// The fourth failure within a minute is more than 3: pause
				// until the first one leaves the window.
				{3 * time.Second, true, time.Second, paused(57*time.Second, "rapidFailsPerMinute")},
			},
		},
		{
			"rolling window: old failures leave it",
			2, -1,
			[]step{
				{0, true, time.Second, delay(0)},
				{10 * time.Second, true, time.Second, delay(100 * time.Millisecond)},
				// 61 s: the first failure is out of the window, so two remain.
				{61 * time.Second, true, time.Second, delay(200 * time.Millisecond)},
				// 62 s: three within the window (10, 61, 62): pause until 10 s leaves.
				{62 * time.Second, true, time.Second, paused(8*time.Second, "rapidFailsPerMinute")},
			},
		},
		{
			"zero rapid fails pauses at the first failure",
			0, -1,
			[]step{
				{0, true, time.Hour, paused(time.Minute, "rapidFailsPerMinute")},
				{2 * time.Minute, true, time.Hour, paused(time.Minute, "rapidFailsPerMinute")},
			},
		},
		{
			"a stable run resets the backoff",
			100, -1,
			[]step{
				{0, false, 0, delay(0)},
				{time.Second, false, 0, delay(100 * time.Millisecond)},
				{2 * time.Second, false, 0, delay(200 * time.Millisecond)},
				{time.Minute, true, 40 * time.Second, delay(0)},
				{time.Minute + time.Second, true, time.Second, delay(100 * time.Millisecond)},
			},
		},
		{
			"startupRetryCount bounds failed starts in a row",
			100, 2,
			[]step{
				{0, false, 0, delay(0)},
				{time.Second, false, 0, delay(100 * time.Millisecond)},
				{2 * time.Second, false, 0, paused(time.Minute, "startupRetryCount")},
				// After the pause the count starts again.
				{63 * time.Second, false, 0, delay(400 * time.Millisecond)},
			},
		},
		{
			"a ready process ends the failed-start count",
			100, 1,
			[]step{
				{0, false, 0, delay(0)},
				{time.Second, true, time.Second, delay(100 * time.Millisecond)},
				{2 * time.Second, false, 0, delay(200 * time.Millisecond)},
				{3 * time.Second, false, 0, paused(time.Minute, "startupRetryCount")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(tt.rapidFails, tt.retryLimit)
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, s := range tt.steps {
				if got := p.fail(start.Add(s.at), s.ready, s.uptime); got != s.want {
					t.Errorf("failure %d at %v: got %+v, want %+v", i+1, s.at, got, s.want)
				}
			}
		})
	}
}
