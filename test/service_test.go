package test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// roostCmd runs the roost binary and returns its combined output and
// exit code.
func roostCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(roostBin, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("roost %q: %v", args, err)
	}
	return string(out), 0
}

func TestServiceUsageAndValidation(t *testing.T) {
	if out, code := roostCmd(t, "service"); code != 2 || !strings.Contains(out, "usage: roost service install|uninstall") {
		t.Errorf("roost service: exit %d\n%s", code, out)
	}
	if out, code := roostCmd(t, "service", "explode"); code != 2 {
		t.Errorf("roost service explode: exit %d\n%s", code, out)
	}
	bad := writeApp(t, "<configuration><system.webServer>\n<aspNetCore startupTimeLimit=\"x\" />\n</system.webServer></configuration>\n")
	out, code := roostCmd(t, "service", "install", bad, "--name", "roost-test-invalid")
	if code != 2 || !strings.Contains(out, "nothing was installed") || !strings.Contains(out, "web.config:2: aspNetCore") {
		t.Errorf("install with an invalid web.config: exit %d\n%s", code, out)
	}
	if _, err := os.Stat("/etc/init.d/roost-test-invalid"); err == nil {
		t.Error("an invalid web.config was installed anyway")
	}
	out, code = roostCmd(t, "service", "install", fakeApp(t, ""), "--name", "roost-test-flags", "--", "--listen", "nowhere")
	if code != 2 || !strings.Contains(out, `--listen "nowhere"`) {
		t.Errorf("install with bad run flags: exit %d\n%s", code, out)
	}
	out, code = roostCmd(t, "service", "install", fakeApp(t, ""), "--name", "bad name")
	if code != 2 || !strings.Contains(out, `"bad-name"`) {
		t.Errorf("install with a bad name: exit %d\n%s", code, out)
	}
	out, code = roostCmd(t, "service", "status", "--name", "roost-test-no-such-service")
	if code != 1 || !strings.Contains(out, "roost-test-no-such-service: not installed") {
		t.Errorf("status of an unknown service: exit %d\n%s", code, out)
	}
}

// TestServiceLifecycleSysV installs roost as a System V service on this
// machine, starts it, serves a request through it, stops and uninstalls
// it. It needs root and System V init as the service manager (no running
// systemd); elsewhere it is skipped.
func TestServiceLifecycleSysV(t *testing.T) {
	switch {
	case runtime.GOOS == "windows":
		t.Skip("System V init is Linux's; TestServiceLifecycleWindows is the Windows twin")
	case os.Geteuid() != 0:
		t.Skip("needs root to install a service")
	case dirExists("/run/systemd/system"):
		t.Skip("systemd runs here: not installing a real service on a real system")
	case !dirExists("/etc/init.d"):
		t.Skip("no /etc/init.d: not System V init")
	}
	if _, err := exec.LookPath("service"); err != nil {
		t.Skip("no service command")
	}
	name := fmt.Sprintf("roost-test-%d", os.Getpid())
	app := fakeApp(t, "")
	logFile := "/var/log/" + name + ".log"
	t.Cleanup(func() {
		roostCmd(t, "service", "uninstall", "--name", name)
		os.Remove("/etc/init.d/" + name)
		os.Remove(logFile)
	})

	// The init script cannot apply --user: refused rather than run as root.
	if out, code := roostCmd(t, "service", "install", app, "--name", name, "--user", "nobody"); code != 1 || !strings.Contains(out, "runs roost as root") {
		t.Errorf("install --user under System V: exit %d\n%s", code, out)
	}

	// Port 0: each start of the service listens where the system says,
	// and the test reads where from the service's log.
	out, code := roostCmd(t, "service", "install", app, "--name", name, "--", "--listen", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	script := mustReadString(t, "/etc/init.d/"+name)
	if !strings.Contains(script, "'run' '--service' '"+filepath.Join(app, "web.config")+"' '--listen' '127.0.0.1:0'") {
		t.Errorf("the init script does not run roost with the app and flags:\n%s", script)
	}
	if out, code := roostCmd(t, "service", "install", app, "--name", name); code != 1 || !strings.Contains(out, "already installed") {
		t.Errorf("second install: exit %d\n%s", code, out)
	}
	if out, code := roostCmd(t, "service", "status", "--name", name); code != 0 || !strings.Contains(out, name+": stopped") {
		t.Errorf("status after install: exit %d\n%s", code, out)
	}
	if out, code := roostCmd(t, "service", "start", "--name", name); code != 0 || !strings.Contains(out, name+": running") {
		t.Fatalf("start: exit %d\n%s", code, out)
	}

	addr := waitListening(t, logFile, 0)
	waitServing(t, addr, name)
	logged := len(mustRead(t, logFile))
	if out, code := roostCmd(t, "service", "restart", "--name", name); code != 0 || !strings.Contains(out, name+": running") {
		t.Fatalf("restart: exit %d\n%s", code, out)
	}
	addr = waitListening(t, logFile, logged)
	waitServing(t, addr, name)

	if out, code := roostCmd(t, "service", "stop", "--name", name); code != 0 || !strings.Contains(out, name+": stopped") {
		t.Errorf("stop: exit %d\n%s", code, out)
	}
	if _, err := http.Get("http://" + addr + "/pid"); err == nil {
		t.Error("still serving after stop")
	}
	log := mustReadString(t, logFile)
	if !strings.Contains(log, `"how": "shutdown request"`) || !strings.Contains(log, "stopped") {
		t.Errorf("roost's log does not show a graceful stop:\n%s", log)
	}
	if out, code := roostCmd(t, "service", "uninstall", "--name", name); code != 0 {
		t.Errorf("uninstall: exit %d\n%s", code, out)
	}
	for _, f := range []string{"/etc/init.d/" + name, "/etc/rc2.d/S50" + name, "/etc/rc0.d/K02" + name} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s left behind by uninstall", f)
		}
	}
}

// waitListening waits until the roost log at path reports a listener
// after its first from bytes (all of it, if it is shorter now), and
// returns that listener's host:port.
func waitListening(t *testing.T, path string, from int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if from > len(data) {
			from = 0
		}
		if urls := listenURLs(string(data[from:])); len(urls) > 0 {
			return strings.TrimPrefix(urls[0], "http://")
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not log a listener within 30 s:\n%s", data)
		}
		time.Sleep(50 * time.Millisecond) // the service logs to a file: nothing to wait on
	}
}

// waitServing waits until the service answers through addr.
func waitServing(t *testing.T, addr, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/pid")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile("/var/log/" + name + ".log")
			t.Fatalf("the service did not serve within 30 s: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond) // the service starts in the background
	}
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
