package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// startWatchdog starts nothing: each backend's job object kills it and its
// descendants when roost dies. The Watchdog it returns knows roost's
// executable, which it runs for each CTRL_C (see interruptConsole).
func startWatchdog() (*Watchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	return &Watchdog{exe: exe}, nil
}

// interruptTimeout bounds the copy of roost that sends a CTRL_C.
const interruptTimeout = 5 * time.Second

// interruptConsole sends CTRL_C to every process attached to the console
// of process pid, as a Ctrl+C typed in that console would. A process can
// send console events only to the console it is attached to, and roost
// keeps its own (its log goes there), so a copy of roost's executable,
// started with no console, attaches to the backend's and sends it.
func (w *Watchdog) interruptConsole(pid int) error {
	if w == nil || w.exe == "" {
		return errors.New("no watchdog to send CTRL_C")
	}
	ctx, cancel := context.WithTimeout(context.Background(), interruptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.exe)
	cmd.Env = append(os.Environ(), WatchdogEnv+"=1")
	cmd.Stdin = strings.NewReader("interrupt " + strconv.Itoa(pid) + "\n")
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.DETACHED_PROCESS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("send CTRL_C to the console of process %d: %w: %s", pid, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// runWatchdog carries out one "interrupt PID" order read from r: it sends
// CTRL_C to the console of process PID. It exits 1, saying why on
// stderr, when it cannot.
func runWatchdog(r io.Reader) int {
	line, _ := bufio.NewReader(r).ReadString('\n')
	arg, ok := strings.CutPrefix(strings.TrimSpace(line), "interrupt ")
	pid, err := strconv.Atoi(arg)
	if !ok || err != nil || pid <= 0 {
		fmt.Fprintf(os.Stderr, "watchdog: unknown order %q\n", line)
		return 1
	}
	if err := sendCtrlC(pid); err != nil {
		fmt.Fprintf(os.Stderr, "watchdog: %v\n", err)
		return 1
	}
	return 0
}

var (
	kernel32              = windows.NewLazySystemDLL("kernel32.dll")
	procAttachConsole     = kernel32.NewProc("AttachConsole")
	procFreeConsole       = kernel32.NewProc("FreeConsole")
	procSetConsoleHandler = kernel32.NewProc("SetConsoleCtrlHandler")
)

// sendCtrlC attaches this process to the console of process pid and sends
// CTRL_C to every process on it, this one excepted.
func sendCtrlC(pid int) error {
	procFreeConsole.Call() // none is expected: started detached
	if ok, _, err := procAttachConsole.Call(uintptr(pid)); ok == 0 {
		return fmt.Errorf("attach to the console of process %d: %w", pid, err)
	}
	defer procFreeConsole.Call()
	// This process ignores the CTRL_C it is about to send.
	if ok, _, err := procSetConsoleHandler.Call(0, 1); ok == 0 {
		return fmt.Errorf("ignore CTRL_C: %w", err)
	}
	if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_C_EVENT, 0); err != nil {
		return fmt.Errorf("send CTRL_C to the console of process %d: %w", pid, err)
	}
	return nil
}
