package supervisor

import "fmt"

// State is where a backend slot is in its life.
type State int

const (
	// Stopped: no process, and none will be started (before Run, after it).
	Stopped State = iota
	// Starting: a process was started and is not listening yet.
	Starting
	// Running: the process listens on its port and takes requests.
	Running
	// Backoff: the last process failed; the next start waits a short delay.
	Backoff
	// Paused: too many failures; restarts wait until the rapid-fail window
	// or startupRetryCount allows one again.
	Paused
	// Stopping: the process is being stopped gracefully.
	Stopping
)

var stateNames = [...]string{"stopped", "starting", "running", "backoff", "paused", "stopping"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}
