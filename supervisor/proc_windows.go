package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// setProcAttrs starts the backend with a console of its own, without a
// window (so that a Ctrl+C at roost's console reaches roost alone, and so
// that roost can ask the app to stop with CTRL_C whether it runs in a
// console or under the service manager, where it has none), suspended
// until newProcessTree has put it in its job object, and with the command
// line as written in web.config: Windows programs split their own command
// line.
//
// A .cmd or .bat processPath runs through cmd.exe, which interprets
// & | < > ^ % and ( ) in its command line. A %VAR% in web.config may bring
// such characters in from roost's environment, so arguments holding them
// are refused rather than handed to cmd.exe (BatBadBut): run the program
// the script runs directly instead.
func setProcAttrs(cmd *exec.Cmd, commandLine string) error {
	line := syscall.EscapeArg(cmd.Path)
	if ext := strings.ToLower(filepath.Ext(cmd.Path)); ext == ".cmd" || ext == ".bat" {
		if i := strings.IndexAny(commandLine, "&|<>^%()\"\r\n"); i >= 0 {
			return fmt.Errorf("arguments of %s hold %q, which cmd.exe would interpret; run the program it runs directly", filepath.Base(cmd.Path), commandLine[i])
		}
		comspec := os.Getenv("ComSpec")
		if comspec == "" {
			comspec = filepath.Join(os.Getenv("SystemRoot"), "System32", "cmd.exe")
		}
		// /d: no AutoRun commands; /s /c "...": run the line as given.
		line = syscall.EscapeArg(comspec) + ` /d /s /c "` + line
		if commandLine != "" {
			line += " " + commandLine
		}
		line += `"`
		cmd.Path = comspec
	} else if commandLine != "" {
		line += " " + commandLine
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NO_WINDOW | windows.CREATE_SUSPENDED,
		CmdLine:       line,
	}
	return nil
}

// processTree is a job object holding the backend and its descendants.
// The job kills them all when its last handle closes, so no process
// outlives roost, even when roost itself is killed.
type processTree struct {
	pid      int
	job      windows.Handle
	watchdog *Watchdog // sends CTRL_C; nil: none can be sent
}

// newProcessTree puts the started process, still suspended, in a new job
// object, and then lets it run: every process it starts is in the job too.
func newProcessTree(p *os.Process, wd *Watchdog) (*processTree, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("create job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return nil, fmt.Errorf("set job object limits: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE|windows.PROCESS_SUSPEND_RESUME, false, uint32(p.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return nil, fmt.Errorf("open process %d: %w", p.Pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return nil, fmt.Errorf("assign process %d to job object: %w", p.Pid, err)
	}
	if status, _, _ := procNtResumeProcess.Call(uintptr(h)); status != 0 {
		windows.CloseHandle(job)
		return nil, fmt.Errorf("resume process %d: %w", p.Pid, windows.NTStatus(status))
	}
	return &processTree{pid: p.Pid, job: job, watchdog: wd}, nil
}

var procNtResumeProcess = windows.NewLazySystemDLL("ntdll.dll").NewProc("NtResumeProcess")

// interrupt sends CTRL_C to the backend's console, as a Ctrl+C typed there
// would, which .NET, Node, Python and Go programs take as a request to
// stop; the watchdog sends it (see Watchdog.interruptConsole).
func (t *processTree) interrupt() error {
	return t.watchdog.interruptConsole(t.pid)
}

// kill terminates every process in the job.
func (t *processTree) kill() error {
	return windows.TerminateJobObject(t.job, 1)
}

// close releases the job handle, which kills whatever is left in it.
func (t *processTree) close() { windows.CloseHandle(t.job) }

// id identifies the tree: the backend's pid.
func (t *processTree) id() int { return t.pid }

// exitStatus returns the process's exit code; Windows has no signals.
func exitStatus(ps *os.ProcessState) (code int, signal string) {
	return ps.ExitCode(), ""
}

// envKey is how environment variable names compare: ignoring case, on
// Windows.
func envKey(name string) string { return strings.ToUpper(name) }
