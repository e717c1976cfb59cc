package supervisor

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// WatchdogEnv is the environment variable that makes roost's binary run as
// the watchdog: StartWatchdog sets it to "1" for the copy it starts, and
// that copy's main must then return RunWatchdog's exit code before doing
// anything else:
//
//	if os.Getenv(supervisor.WatchdogEnv) == "1" {
//		os.Exit(supervisor.RunWatchdog(os.Stdin))
//	}
const WatchdogEnv = "ROOST_WATCHDOG"

// Watchdog is roost's companion process: a second copy of roost's binary
// (see WatchdogEnv) that does for the backends what roost itself cannot.
//
// On Unix it keeps "no orphan survives roost" true when roost is killed
// with SIGKILL: the kernel's parent-death signal reaches only the backend,
// not its children. The watchdog runs in a process group of its own,
// reading a pipe from roost that names the backends' process groups. When
// roost dies, for any reason, the kernel closes the pipe; the watchdog
// then kills every group it was told about, and exits.
//
// On Windows the job object that holds each backend kills it and its
// descendants when roost dies, so nothing runs all along. Instead, each
// graceful stop runs a copy for a moment that sends CTRL_C to the
// backend's console, which roost cannot do itself without leaving its own
// (see interruptConsole). Without a Watchdog, a Windows backend is
// killed at once instead of being asked to stop.
//
// One Watchdog may serve any number of Supervisors at once (through
// Options.Watchdog), such as the two generations of an app during a
// recycle. Close it once they have all returned from Run.
//
// The methods of a nil *Watchdog do nothing.
type Watchdog struct {
	mu   sync.Mutex
	cmd  *exec.Cmd // the watchdog process; nil on Windows
	pipe *os.File  // the watchdog's stdin; nil once closed or on Windows
	exe  string    // roost's executable, run for each CTRL_C (Windows)
}

// StartWatchdog starts the watchdog: a copy of os.Executable() with
// WatchdogEnv set to "1" in its environment. Close it when roost stops.
func StartWatchdog() (*Watchdog, error) { return startWatchdog() }

// RunWatchdog is the main of the watchdog process: it reads roost's
// orders from r (its stdin) and carries them out (see Watchdog and
// runWatchdog). It returns the process's exit code; it never exits itself.
func RunWatchdog(r io.Reader) int { return runWatchdog(r) }

// readWatchdogOrders reads "+ID" (watch group ID), "-ID" (forget it) and
// "disarm" lines. It returns the groups to kill: those still registered
// when r ends, or none after "disarm". Lines it does not understand are
// skipped.
func readWatchdogOrders(r io.Reader) map[int]bool {
	groups := make(map[int]bool)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "disarm" {
			return nil
		}
		if len(line) < 2 {
			continue
		}
		id, err := strconv.Atoi(line[1:])
		if err != nil || id <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			groups[id] = true
		case '-':
			delete(groups, id)
		}
	}
	return groups
}

// Close tells the watchdog that roost is stopping cleanly, so that it
// exits without killing anything, and waits for it to exit. Later calls
// return nil.
func (w *Watchdog) Close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pipe == nil {
		return nil
	}
	_, err := io.WriteString(w.pipe, "disarm\n")
	if cerr := w.pipe.Close(); err == nil {
		err = cerr
	}
	w.pipe = nil
	if w.cmd == nil {
		return err
	}
	if werr := w.cmd.Wait(); err == nil {
		err = werr
	}
	return err
}

// add asks the watchdog to kill t's group if roost dies.
func (w *Watchdog) add(t *processTree) error { return w.send("+" + strconv.Itoa(t.id())) }

// remove forgets t's group once it is gone: its id may be reused.
func (w *Watchdog) remove(t *processTree) error { return w.send("-" + strconv.Itoa(t.id())) }

func (w *Watchdog) send(line string) error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pipe == nil {
		return nil
	}
	_, err := io.WriteString(w.pipe, line+"\n")
	return err
}
