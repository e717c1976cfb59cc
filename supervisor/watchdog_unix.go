//go:build unix

package supervisor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
)

// watchdogArg is the hidden first argument that makes roost's binary run
// as the watchdog instead of as roost.
const watchdogArg = "__roost_watchdog"

// RunWatchdogIfAsked runs the watchdog and exits if this process was
// started as one; otherwise it returns at once. Call it first in main (and
// in TestMain of tests that run a Supervisor), before anything else.
//
// The watchdog is what keeps "no orphan survives roost" true on Unix when
// roost is killed with SIGKILL: the kernel's parent-death signal reaches
// only the backend, not its children. The watchdog is a second copy of
// roost's binary, in a process group of its own, reading a pipe from
// roost that names the backends' process groups. When roost dies, for any
// reason, the kernel closes the pipe; the watchdog then kills every group
// it was told about, and exits.
func RunWatchdogIfAsked() {
	if len(os.Args) < 2 || os.Args[1] != watchdogArg {
		return
	}
	os.Exit(runWatchdog(os.Stdin))
}

// runWatchdog reads "+PGID", "-PGID" and "disarm" lines. On "disarm" it
// exits quietly (roost stopped cleanly); at the end of its input it kills
// the groups still registered.
func runWatchdog(r io.Reader) int {
	// Only roost's death stops the watchdog: a signal meant for a terminal
	// or a service must not take it away first.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	groups := make(map[int]bool)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "disarm" {
			return 0
		}
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = true
		case '-':
			delete(groups, pgid)
		}
	}
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return 0
}

// watchdog is roost's side of the watchdog process.
type watchdog struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	w   *os.File // the pipe to the watchdog's stdin
}

// startWatchdog starts the watchdog from roost's own executable.
func startWatchdog() (*watchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, watchdogArg)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return &watchdog{cmd: cmd, w: w}, nil
}

func (wd *watchdog) send(line string) error {
	if wd == nil {
		return nil
	}
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.w == nil {
		return nil
	}
	_, err := io.WriteString(wd.w, line+"\n")
	return err
}

// add asks the watchdog to kill tree if roost dies.
func (wd *watchdog) add(t *processTree) error { return wd.send("+" + strconv.Itoa(t.id())) }

// remove forgets tree, once it is gone: its group id may be reused.
func (wd *watchdog) remove(t *processTree) error { return wd.send("-" + strconv.Itoa(t.id())) }

// stop lets the watchdog exit without killing anything, and waits for it.
func (wd *watchdog) stop() error {
	if wd == nil {
		return nil
	}
	err := wd.send("disarm")
	wd.mu.Lock()
	wd.w.Close()
	wd.w = nil
	wd.mu.Unlock()
	if werr := wd.cmd.Wait(); err == nil {
		err = werr
	}
	return err
}
