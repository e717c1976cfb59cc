package test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/logs"
)

// stdoutApp writes a web.config with stdout logging to .\logs\stdout,
// rotated at 2 KB, into a new app folder, and returns the folder and its
// stdout log settings as roost reads them.
func stdoutApp(t *testing.T) (string, config.StdoutLog) {
	t.Helper()
	dir := writeApp(t, `<configuration><system.webServer>
<aspNetCore processPath="app" stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout">
  <handlerSettings>
    <handlerSetting name="roost.stdoutLogMaxBytes" value="2KB" />
  </handlerSettings>
</aspNetCore>
</system.webServer></configuration>
`)
	cfg, err := config.Load(filepath.Join(dir, "web.config"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg.Stdout
}

// printLines has process pid print lines from..to-1, "pid N", into the
// stdout log, as the backend would through roost.
func printLines(w io.Writer, pid, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%d says line %04d\n", pid, i)
	}
	io.WriteString(w, b.String())
	return b.String()
}

func TestLogsLastLines(t *testing.T) {
	app, stdout := stdoutApp(t)
	w := logs.StdoutSink(stdout, nil)(4321, time.Now())
	all := printLines(w, 4321, 0, 300) // rotated: about 20 lines a file
	w.Close()
	if matches, _ := filepath.Glob(filepath.Join(app, "logs", "stdout_*_4321*.log")); len(matches) < 3 {
		t.Fatalf("files %v: want the pid in the name, and rotated parts", matches)
	}
	cmd := exec.Command(roostBin, "logs", "-n", "5", app)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("roost logs -n 5: %v\n%s", err, stderr.String())
	}
	lines := strings.SplitAfter(all, "\n")
	if want := strings.Join(lines[len(lines)-6:], ""); string(out) != want {
		t.Errorf("roost logs -n 5 printed:\n%s\nwant:\n%s", out, want)
	}
}

// TestLogsFollow runs roost logs -f while the app's output is written,
// rotated, and continued by a restarted process, then stops it as Ctrl+C
// would.
func TestLogsFollow(t *testing.T) {
	app, stdout := stdoutApp(t)
	open := logs.StdoutSink(stdout, nil)
	t0 := time.Now()
	first := open(1001, t0)
	defer first.Close()
	before := printLines(first, 1001, 0, 10)
	waitForFile(t, filepath.Join(app, "logs"), before)

	cmd := exec.Command(roostBin, "logs", "-f", "-n", "2", app)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stoppable(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text() + "\n"
		}
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	expect := func(what, want string) {
		t.Helper()
		var got strings.Builder
		deadline := time.After(10 * time.Second)
		for got.Len() < len(want) {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("roost logs -f ended before %s; got:\n%s\nstderr:\n%s", what, got.String(), stderr.String())
				}
				got.WriteString(line)
			case <-deadline:
				t.Fatalf("roost logs -f printed no %s within 10 s; got:\n%s\nstderr:\n%s", what, got.String(), stderr.String())
			}
		}
		if got.String() != want {
			t.Fatalf("roost logs -f printed, for %s:\n%s\nwant:\n%s", what, got.String(), want)
		}
	}
	expect("last 2 lines", "1001 says line 0008\n1001 says line 0009\n")

	// 400 lines of 20 bytes: rotated about four times.
	want := ""
	for i := 10; i < 410; i += 40 {
		want += printLines(first, 1001, i, i+40)
	}
	expect("lines across rotation", want)
	first.Close()

	// A restart: the new process writes a new file.
	second := open(1002, t0.Add(time.Second))
	want = printLines(second, 1002, 0, 100)
	second.Close()
	expect("lines of the restarted process", want)

	if err := stop(cmd.Process); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("roost logs -f stopped with %v, want exit 0\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("roost logs -f did not stop within 10 s of being asked to")
	}
	if !strings.Contains(stderr.String(), "roost logs: following stdout_") || !strings.Contains(stderr.String(), "_1002.log") {
		t.Errorf("stderr does not tell of the new process:\n%s", stderr.String())
	}
}

// waitForFile waits until the files in dir hold text, in name order.
func waitForFile(t *testing.T, dir, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var all strings.Builder
		matches, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, m := range matches {
			all.Write(mustRead(t, m))
		}
		if all.String() == text {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", dir, all.String(), text)
		}
		time.Sleep(time.Millisecond) // the sink writes asynchronously and tells no one
	}
}
