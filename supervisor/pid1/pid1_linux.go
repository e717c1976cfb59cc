package pid1

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func needed() bool { return os.Getpid() == 1 }

// forwarded are the signals Run passes on to the child.
var forwarded = []syscall.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

func run(args []string) int {
	// Listen before the child exists, so that no signal is missed.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, syscall.SIGCHLD)
	for _, s := range forwarded {
		signal.Notify(sigs, s)
	}
	child, err := startChild(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "roost: as PID 1, cannot start roost: %v\n", err)
		return 1
	}
	for {
		if code, exited := reap(child); exited {
			return code
		}
		s := <-sigs
		if s != syscall.SIGCHLD {
			syscall.Kill(child, s.(syscall.Signal)) // gone already: its SIGCHLD follows
		}
	}
}

// startChild starts roost's binary with args and PID 1's environment and
// standard files, and returns its pid. Nothing else waits for it: it is
// started without os/exec.
func startChild(args []string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	return syscall.ForkExec(exe, args, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{os.Stdin.Fd(), os.Stdout.Fd(), os.Stderr.Fd()},
	})
}

// reap waits for every process that has exited, without blocking. It
// reports the child's exit code once the child is among them.
func reap(child int) (code int, exited bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil || pid <= 0:
			return 0, false // none left, or none exited yet
		case pid == child:
			return exitCode(ws), true
		}
	}
}

// exitCode is the child's exit code as a shell reports it.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
