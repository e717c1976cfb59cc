package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roosthq/roost/config"
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

// fakeBackend is a web app configured by environment variables:
//
//	FAKE_PRINT=N          print N numbered lines, alternately to stdout and stderr
//	FAKE_CRASH_IF=FILE    exit with code 1 at once if FILE exists
//	FAKE_EXIT=ms:code     exit with code after ms, whether or not listening
//	FAKE_LISTEN=no        never listen
//	FAKE_LISTEN_DELAY=ms  listen only after ms
//	FAKE_LISTEN_HOST=h    listen on h (default 127.0.0.1)
//	FAKE_PORT_VAR=NAME    read the port from NAME (default PORT)
//	FAKE_BIND=retry       keep trying to listen while the port is taken
//	FAKE_TERM=ignore      ignore SIGTERM (default: exit 0 on it)
//	FAKE_SHUTDOWN=accept  answer the IIS shutdown request with 202 and exit;
//	                      "stay": answer 202 and keep running; default 404
//	FAKE_CHILD=FILE       start a child copy of itself (which only waits)
//	                      and write "PID CHILDPID" to FILE
//	FAKE_WAIT=1           only wait (what the child does)
//
// It serves GET /env (its environment and arguments as JSON), GET /pid and
// GET /unlisten (close the listener and go on running), and, when
// ASPNETCORE_TOKEN is set, refuses requests without that token in
// MS-ASPNETCORE-TOKEN, as ASP.NET Core does.
func fakeBackend() int {
	if os.Getenv("FAKE_WAIT") == "1" {
		signal.Ignore(syscall.SIGTERM, os.Interrupt)
		select {}
	}
	// SIGTERM on Unix; on Windows CTRL_BREAK arrives as os.Interrupt.
	if os.Getenv("FAKE_TERM") == "ignore" {
		signal.Ignore(syscall.SIGTERM, os.Interrupt)
	} else {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, os.Interrupt)
		go func() { <-c; fmt.Println("fake: SIGTERM"); os.Exit(0) }()
	}
	if n, _ := strconv.Atoi(os.Getenv("FAKE_PRINT")); n > 0 {
		for i := 1; i <= n; i++ {
			if i%2 == 1 {
				fmt.Fprintf(os.Stdout, "line %d\n", i)
			} else {
				fmt.Fprintf(os.Stderr, "line %d\n", i)
			}
		}
	}
	if file := os.Getenv("FAKE_CRASH_IF"); file != "" {
		if _, err := os.Stat(file); err == nil {
			fmt.Println("fake: crashing because", file, "exists")
			return 1
		}
	}
	if file := os.Getenv("FAKE_CHILD"); file != "" {
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), "FAKE_WAIT=1", "FAKE_CHILD=")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "fake: child:", err)
			return 2
		}
		os.WriteFile(file, fmt.Appendf(nil, "%d %d", os.Getpid(), child.Process.Pid), 0o644)
	}
	if ms, code, ok := strings.Cut(os.Getenv("FAKE_EXIT"), ":"); ok {
		d, _ := strconv.Atoi(ms)
		c, _ := strconv.Atoi(code)
		time.AfterFunc(time.Duration(d)*time.Millisecond, func() {
			fmt.Println("fake: exiting with", c)
			os.Exit(c)
		})
	}
	if os.Getenv("FAKE_LISTEN") == "no" {
		select {}
	}
	if ms, _ := strconv.Atoi(os.Getenv("FAKE_LISTEN_DELAY")); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond) // the behaviour under test: a slow start
	}
	portVar := os.Getenv("FAKE_PORT_VAR")
	if portVar == "" {
		portVar = "PORT"
	}
	host := os.Getenv("FAKE_LISTEN_HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, os.Getenv(portVar)))
	for err != nil && os.Getenv("FAKE_BIND") == "retry" {
		// Some servers keep trying to bind instead of exiting.
		time.Sleep(50 * time.Millisecond)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, os.Getenv(portVar)))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 3
	}
	token := os.Getenv("ASPNETCORE_TOKEN")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"env": os.Environ(), "args": os.Args[1:], "dir": mustGetwd()})
	})
	mux.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("POST /iisintegration", func(w http.ResponseWriter, r *http.Request) {
		switch os.Getenv("FAKE_SHUTDOWN") {
		case "accept":
			w.WriteHeader(http.StatusAccepted)
			w.(http.Flusher).Flush()
			fmt.Println("fake: shutdown request")
			go func() { time.Sleep(10 * time.Millisecond); os.Exit(0) }() // let the answer leave first
		case "stay":
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.Header.Get("MS-ASPNETCORE-TOKEN") != token {
			http.Error(w, "bad token", http.StatusBadRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /unlisten", func(w http.ResponseWriter, r *http.Request) {
		ln.Close() // keeps running, but takes no more connections
	})
	http.Serve(ln, handler)
	select {} // after /unlisten: alive and deaf
}

func mustGetwd() string {
	wd, _ := os.Getwd()
	return wd
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
