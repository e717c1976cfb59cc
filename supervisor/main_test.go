package supervisor

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/test/fakebackend"
)

// The test binary doubles as the backends the tests supervise: with
// FAKE_BACKEND=1 in its environment it runs fakeBackend instead of the
// tests, and with FAKE_ROOST=1 it runs a Supervisor, standing in for roost
// in tests that kill roost. Watchdogs started by the tests (StartWatchdog)
// run this binary too, with WatchdogEnv=1.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(WatchdogEnv) == "1":
		os.Exit(RunWatchdog(os.Stdin))
	case os.Getenv("FAKE_BACKEND") == "1":
		os.Exit(fakeBackend())
	case os.Getenv("FAKE_ROOST") == "1":
		os.Exit(fakeRoost())
	}
	// Processes built with -race sleep a second on exit to let other
	// goroutines report; the fake backends and the watchdog exit often.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	goleak.VerifyTestMain(m)
}

// fakeBackend runs the fake backend the tests supervise, shared with the
// end-to-end tests: see package fakebackend for its variables and routes.
func fakeBackend() int {
	return fakebackend.Main()
}

// fakeRoost runs a Supervisor with a watchdog for a fake backend that
// starts a child, the way roost would, and prints "ready" once the backend
// serves. It is killed by the test.
func fakeRoost() int {
	wd, err := StartWatchdog()
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer wd.Close()
	p := testProcess(config.AspNetCore)
	p.Env = append(p.Env, fakeEnv("FAKE_CHILD", os.Getenv("FAKE_ROOST_PIDFILE"))...)
	s := New(p, Options{Watchdog: wd})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if _, _, release, err := s.Acquire(ctx); err != nil {
		fmt.Println("error:", err)
		return 1
	} else {
		release()
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n') // until the test kills us
	cancel()
	<-done
	return 0
}

// testProcess returns a config.Process that runs this test binary as a
// fake backend, with short limits.
func testProcess(kind config.Kind) config.Process {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	p := config.Process{
		Kind:                    kind,
		Dir:                     os.TempDir(),
		Path:                    exe,
		StartupTimeLimit:        20 * time.Second,
		ShutdownTimeLimit:       5 * time.Second,
		RapidFailsPerMinute:     10,
		StartupRetryCount:       -1,
		ProcessesPerApplication: 1,
		ConsoleRedirection:      true,
	}
	p.Env = fakeEnv("FAKE_BACKEND", "1")
	return p
}

// fakeEnv makes web.config environment variables from name/value pairs.
func fakeEnv(kv ...string) []config.EnvVar {
	var env []config.EnvVar
	for i := 0; i+1 < len(kv); i += 2 {
		env = append(env, config.EnvVar{Name: kv[i], Value: mustTemplate(kv[i+1])})
	}
	return env
}

// mustTemplate parses a value with port placeholders the way web.config
// values are parsed.
func mustTemplate(v string) config.Template {
	doc := `<configuration><system.webServer><aspNetCore processPath="x"><environmentVariables>` +
		`<environmentVariable name="V" value="` + v + `"/></environmentVariables></aspNetCore></system.webServer></configuration>`
	c, err := config.Parse(strings.NewReader(doc), config.Options{})
	if err != nil {
		panic(err)
	}
	return c.Process.Env[0].Value
}
