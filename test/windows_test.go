//go:build windows

package test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/roosthq/roost/test/testenv"
)

// A .cmd processPath runs through cmd.exe; roost serves what it starts,
// and stopping roost leaves neither cmd.exe's child nor anything else.
func TestRunCmdBackend(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	app := writeApp(t, `<configuration><system.webServer>
<aspNetCore processPath=".\start.cmd" shutdownTimeLimit="5">
<environmentVariables>
<environmentVariable name="FAKE_BACKEND" value="1" />
<environmentVariable name="FAKE_SHUTDOWN" value="accept" />
</environmentVariables>
</aspNetCore>
</system.webServer></configuration>
`)
	writeFile(t, filepath.Join(app, "start.cmd"), "@echo off\r\n\""+exe+"\"\r\n")
	r := startRoost(t, app)
	resp, pid := r.get("/pid")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /pid through start.cmd: %d %s\n%s", resp.StatusCode, pid, r.stderr())
	}
	if code := r.stop(); code != 0 {
		t.Errorf("roost exited with %d:\n%s", code, r.stderr())
	}
	waitGone(t, 5*time.Second, pid)
}

// The whole service lifecycle under the service manager: install (with
// --service on the registered command line), start, a request served,
// status, stop (graceful, every line in --log-file), uninstall.
func TestServiceLifecycleWindows(t *testing.T) {
	name := fmt.Sprintf("roost-test-%d", os.Getpid())
	app := fakeApp(t, "")
	logFile := filepath.Join(t.TempDir(), "roost.log")
	t.Cleanup(func() { roostCmd(t, "service", "uninstall", "--name", name) })

	out, code := roostCmd(t, "service", "install", app, "--name", name, "--", "--listen", "127.0.0.1:0", "--log-file", logFile)
	if code != 0 {
		if strings.Contains(out, "Access is denied") {
			t.Skip("needs an administrator to install a service")
		}
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, " run --service ") {
		t.Errorf("the registered command line does not say --service:\n%s", out)
	}
	if out, code := roostCmd(t, "service", "start", "--name", name); code != 0 || !strings.Contains(out, name+": running") {
		t.Fatalf("start: exit %d\n%s\n%s", code, out, readLog(logFile))
	}
	addr := waitListening(t, logFile, 0)
	resp, err := http.Get("http://" + addr + "/pid")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /pid through the service: %v %v\n%s", resp, err, readLog(logFile))
	}
	resp.Body.Close()
	if out, code := roostCmd(t, "service", "status", "--name", name); code != 0 || !strings.Contains(out, name+": running") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	if out, code := roostCmd(t, "service", "stop", "--name", name); code != 0 || !strings.Contains(out, name+": stopped") {
		t.Errorf("stop: exit %d\n%s", code, out)
	}
	log := readLog(logFile)
	for _, want := range []string{"starting", "listening", "backend ready", `"how": "shutdown request"`, "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("--log-file lacks %q: under the service manager every line must reach it:\n%s", want, log)
		}
	}
	if out, code := roostCmd(t, "service", "uninstall", "--name", name); code != 0 || !strings.Contains(out, "uninstalled") {
		t.Errorf("uninstall: exit %d\n%s", code, out)
	}
	if out, code := roostCmd(t, "service", "status", "--name", name); code != 1 || !strings.Contains(out, "not installed") {
		t.Errorf("status after uninstall: exit %d\n%s", code, out)
	}
}

// An <httpPlatform> app under the service manager, where roost has no
// console, is still asked to stop: CTRL_C reaches it in its own console.
func TestServiceStopsHTTPPlatformGracefully(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("roost-test-hp-%d", os.Getpid())
	app := writeApp(t, fmt.Sprintf(`<configuration><system.webServer>
<httpPlatform processPath=%q shutdownTimeLimit="10">
<environmentVariables><environmentVariable name="FAKE_BACKEND" value="1" /></environmentVariables>
</httpPlatform>
</system.webServer></configuration>
`, exe))
	logFile := startService(t, name, app)
	addr := waitListening(t, logFile, 0)
	waitServing(t, addr, name)
	if out, code := roostCmd(t, "service", "stop", "--name", name); code != 0 {
		t.Errorf("stop: exit %d\n%s", code, out)
	}
	if log := readLog(logFile); !strings.Contains(log, `"how": "signal"`) {
		t.Errorf("the backend was not stopped by CTRL_C:\n%s", log)
	}
}

// The service manager restarts roost when it dies: the recovery action
// set at install. wine accepts recovery actions but does not carry them
// out, nor notice a killed service.
func TestServiceRecoveryRestartsRoost(t *testing.T) {
	testenv.SkipUnderWine(t, "accepts service recovery actions but does not carry them out, nor notice a killed service")
	name := fmt.Sprintf("roost-test-rec-%d", os.Getpid())
	app := fakeApp(t, "")
	startService(t, name, app)
	first := servicePID(t, name)
	p, err := os.FindProcess(int(first))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Kill()
	p.Release()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) { // the SCM works on its own
		if pid := servicePID(t, name); pid != 0 && pid != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service manager did not start roost again within 60 s of its death")
		}
	}
}

// servicePID is the process id of the running service name, or 0.
func servicePID(t *testing.T, name string) uint32 {
	t.Helper()
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		t.Fatal(err)
	}
	if st.State != svc.Running {
		return 0
	}
	return st.ProcessId
}

// startService installs app as the service name, logging to a file it
// returns, and starts it; the service is uninstalled when the test ends.
func startService(t *testing.T, name, app string) string {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "roost.log")
	t.Cleanup(func() { roostCmd(t, "service", "uninstall", "--name", name) })
	if out, code := roostCmd(t, "service", "install", app, "--name", name, "--", "--listen", "127.0.0.1:0", "--log-file", logFile); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	if out, code := roostCmd(t, "service", "start", "--name", name); code != 0 {
		t.Fatalf("start: exit %d\n%s", code, out)
	}
	return logFile
}

func readLog(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}
