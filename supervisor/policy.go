package supervisor

import "time"

// Restart numbers. They are documented in the README; change both together.
const (
	// firstBackoff is the delay before the second restart in a row; the
	// first restart after a failure is immediate.
	firstBackoff = 100 * time.Millisecond
	// maxBackoff caps the doubling delay between restarts.
	maxBackoff = 30 * time.Second
	// stableUptime is how long a backend must stay running for its failure
	// streak to be forgotten, so the next failure restarts immediately.
	stableUptime = 30 * time.Second
	// rapidFailWindow is the rolling period of rapidFailsPerMinute, and how
	// long restarts pause once startupRetryCount is exceeded.
	rapidFailWindow = time.Minute
)

// policy decides when to start a backend again after a failure. It is pure:
// the caller passes the time, so tests control the clock.
//
// Every failure (a start that never became ready, or a process that
// exited) is recorded. The next start comes after a delay that is zero for
// the first failure of a streak and then doubles from firstBackoff up to
// maxBackoff. A streak ends when a backend stays up for stableUptime. When
// more than rapidFails failures fall within a rolling minute, or more than
// retryLimit starts in a row fail (when retryLimit >= 0), restarts pause
// until the window allows one again. Nothing ever stops restarts for good.
type policy struct {
	rapidFails int           // failures tolerated within window
	retryLimit int           // consecutive failed starts tolerated; -1: no limit
	window     time.Duration // rapidFailWindow; shorter in tests

	failures    []time.Time // failure times within the last window, oldest first
	streak      int         // failures since the last stable run
	failedStart int         // consecutive starts that never became ready
}

func newPolicy(rapidFails, retryLimit int) *policy {
	return &policy{rapidFails: rapidFails, retryLimit: retryLimit, window: rapidFailWindow}
}

// decision says when the next start may happen.
type decision struct {
	delay  time.Duration // from the failure until the next start
	paused bool          // the delay comes from a pause, not a backoff
	reason string        // the limit that paused restarts; empty for a backoff
	cause  string        // the failure itself, filled in by the Supervisor
}

// fail records a failure at now. ready says whether the process had
// become ready, and uptime how long it had been running (zero if never
// ready).
func (p *policy) fail(now time.Time, ready bool, uptime time.Duration) decision {
	if ready && uptime >= stableUptime {
		p.streak = 0
	}
	if ready {
		p.failedStart = 0
	} else {
		p.failedStart++
	}
	p.streak++
	p.failures = append(p.prune(now), now)

	if n := len(p.failures); n > p.rapidFails {
		// Wait until only rapidFails failures remain within the window.
		until := p.failures[n-p.rapidFails-1].Add(p.window)
		return decision{delay: until.Sub(now), paused: true, reason: "rapidFailsPerMinute"}
	}
	if p.retryLimit >= 0 && p.failedStart > p.retryLimit {
		p.failedStart = 0
		return decision{delay: p.window, paused: true, reason: "startupRetryCount"}
	}
	return decision{delay: backoff(p.streak)}
}

// prune drops failures older than the window.
func (p *policy) prune(now time.Time) []time.Time {
	i := 0
	for i < len(p.failures) && now.Sub(p.failures[i]) >= p.window {
		i++
	}
	return append(p.failures[:0], p.failures[i:]...)
}

// backoff returns the delay before the next start after n failures in a
// row: 0, then firstBackoff doubling up to maxBackoff.
func backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := firstBackoff
	for i := 2; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}
