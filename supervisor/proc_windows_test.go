package supervisor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// These tests run on Windows only; elsewhere they are compiled by
// GOOS=windows go test -c.

// TestJobObjectKillsTree starts a fake backend that starts a child, puts
// it in a job object, and checks that kill ends both.
func TestJobObjectKillsTree(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "pids")
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "FAKE_BACKEND=1", "FAKE_LISTEN=no", "FAKE_CHILD="+pidFile)
	if err := setProcAttrs(cmd, ""); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tree, err := newProcessTree(cmd.Process, nil)
	if err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	defer tree.close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if data, err := os.ReadFile(pidFile); err == nil && len(strings.Fields(string(data))) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fake backend did not start its child")
		}
		time.Sleep(10 * time.Millisecond) // another process's progress has no event here
	}
	pids := readPids(t, pidFile)
	// The backend was created suspended and put in the job before it ran:
	// the child it starts at once is in the job too.
	for _, pid := range pids {
		if !inJob(t, tree.job, pid) {
			t.Errorf("process %d is not in the job object", pid)
		}
	}
	if err := tree.kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for _, pid := range pids {
		h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
		if err != nil {
			continue // already gone
		}
		ev, _ := windows.WaitForSingleObject(h, 5000)
		windows.CloseHandle(h)
		if ev != windows.WAIT_OBJECT_0 {
			t.Errorf("process %d outlived the job", pid)
		}
	}
}

var procIsProcessInJob = windows.NewLazySystemDLL("kernel32.dll").NewProc("IsProcessInJob")

// inJob reports whether process pid is in job.
func inJob(t *testing.T, job windows.Handle, pid int) bool {
	t.Helper()
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION, false, uint32(pid))
	if err != nil {
		t.Fatalf("open process %d: %v", pid, err)
	}
	defer windows.CloseHandle(h)
	var in int32
	if ok, _, err := procIsProcessInJob.Call(uintptr(h), uintptr(job), uintptr(unsafe.Pointer(&in))); ok == 0 {
		t.Fatalf("IsProcessInJob(%d): %v", pid, err)
	}
	return in != 0
}

func TestBatchFileArgumentsAreChecked(t *testing.T) {
	cmd := exec.Command(`C:\app\start.cmd`)
	if err := setProcAttrs(cmd, `--port 5000`); err != nil {
		t.Fatalf("plain arguments refused: %v", err)
	}
	if !strings.Contains(cmd.SysProcAttr.CmdLine, `/d /s /c "`) || !strings.HasSuffix(cmd.SysProcAttr.CmdLine, `--port 5000"`) {
		t.Errorf("command line %q, want cmd.exe /d /s /c with the script", cmd.SysProcAttr.CmdLine)
	}
	for _, bad := range []string{"a & calc", "a | b", "%PATH%", "a^b", `"x"`} {
		if err := setProcAttrs(exec.Command(`C:\app\start.bat`), bad); err == nil {
			t.Errorf("arguments %q accepted for a .bat", bad)
		}
	}
}
