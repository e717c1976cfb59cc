package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roosthq/roost/config"
)

// readyRunsEnv, set to a number of starts, runs TestReadinessLatency. It
// is a measurement, not a check, so it is off by default:
//
//	ROOST_READY_RUNS=20 go test -run '^TestReadinessLatency$' -v ./supervisor
const readyRunsEnv = "ROOST_READY_RUNS"

// TestReadinessLatency starts a real backend again and again and measures,
// for each start, the time from the moment the backend's listen returned
// (it writes that moment to a file: FAKE_LISTEN_STAMP) to the
// "backend ready" line and to Acquire's return. It logs every figure and
// the medians. Both clocks are the machine's wall clock.
func TestReadinessLatency(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv(readyRunsEnv))
	if runs <= 0 {
		t.Skipf("a measurement: set %s to a number of starts to run it", readyRunsEnv)
	}
	dir := t.TempDir()
	var toLine, toAcquire []time.Duration
	for i := range runs {
		stamp := filepath.Join(dir, "listen-"+strconv.Itoa(i))
		line, acquired := startOnce(t, stamp)
		listened := readStamp(t, stamp)
		toLine = append(toLine, line.Sub(listened))
		toAcquire = append(toAcquire, acquired.Sub(listened))
		t.Logf("start %2d: listen -> ready line %8v, -> Acquire %8v", i+1, round(toLine[i]), round(toAcquire[i]))
	}
	t.Logf("median over %d starts: listen -> ready line %v, -> Acquire %v", runs, round(median(toLine)), round(median(toAcquire)))
}

// startOnce runs a Supervisor until its backend is ready, then stops it. It
// returns when the "backend ready" line was logged and when Acquire
// returned.
func startOnce(t *testing.T, stamp string) (line, acquired time.Time) {
	t.Helper()
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_LISTEN_STAMP", stamp)...)
	h := start(t, p, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, release, err := h.s.Acquire(ctx)
	acquired = time.Now()
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	release()
	h.stop()
	e := h.logs.FilterMessage("backend ready").All()
	if len(e) != 1 {
		t.Fatalf("%d 'backend ready' lines, want 1", len(e))
	}
	return e[0].Time, acquired
}

// readStamp reads the time the fake backend wrote to file.
func readStamp(t *testing.T, file string) time.Time {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return time.Unix(0, ns)
}

// median returns the median of ds, the mean of the middle two for an
// even count.
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func round(d time.Duration) time.Duration {
	return d.Round(10 * time.Microsecond)
}
