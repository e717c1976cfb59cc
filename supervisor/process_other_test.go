//go:build !linux

package supervisor

import (
	"testing"
	"time"

	"github.com/roosthq/roost/test/testenv"
)

// waitGone waits until pid no longer exists.
func waitGone(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		alive, err := testenv.ProcessAlive(pid)
		if err != nil {
			t.Fatalf("is process %d alive: %v", pid, err)
		}
		if !alive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after %s", pid, timeout)
		}
		<-tick.C
	}
}
