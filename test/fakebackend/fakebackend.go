// Package fakebackend is the web app that roost's tests host. It is only
// for tests: a test binary becomes the fake when its TestMain finds Env set
// to "1" and calls Main, and the tests name that binary as the processPath
// of their web.config (or start it as a Supervisor's backend), so that no
// test needs a program of its own. Nothing in roost itself imports it.
//
// Like an ASP.NET Core app behind ANCM, it listens on loopback at the port
// roost passes, checks roost's pairing token, and answers the IIS shutdown
// request. Environment variables, looked at in this order at startup,
// change what it does:
//
//	FAKE_WAIT=1           only wait, ignoring SIGTERM, until killed (what
//	                      the FAKE_CHILD child does)
//	FAKE_ORPHAN=MS        only start a copy of itself that exits after MS
//	                      milliseconds, print the copy's pid and exit at
//	                      once, leaving the copy an orphan (what /orphan
//	                      runs)
//	FAKE_TERM=ignore      ignore SIGTERM and os.Interrupt; by default
//	                      either one stops the fake, which exits with 0
//	FAKE_PRINT=N          print N lines "line 1" ... "line N", odd ones to
//	                      stdout and even ones to stderr
//	FAKE_CRASH_IF=FILE    exit with code 1 at once if FILE exists
//	FAKE_CHILD=FILE       start a copy of itself with FAKE_WAIT=1 and
//	                      write "PID CHILDPID" to FILE
//	FAKE_EXIT=MS:CODE     exit with CODE after MS milliseconds, whether
//	                      or not it listens by then
//	FAKE_LISTEN=no        never listen; wait until stopped
//	FAKE_LISTEN_DELAY=MS  listen only after MS milliseconds: a slow start
//	FAKE_LISTEN_HOST=H    listen on host H (default 127.0.0.1)
//	FAKE_PORT_VAR=NAME    take the port from variable NAME (default PORT,
//	                      which roost sets for <aspNetCore> and
//	                      <httpPlatform> alike)
//	FAKE_BIND=retry       while the port is taken, try again every 50 ms;
//	                      by default the fake exits with code 3
//	FAKE_LISTEN_STAMP=F   write to file F the time listen returned, as
//	                      Unix nanoseconds (for readiness measurements)
//
// and, while it serves:
//
//	ASPNETCORE_TOKEN=T    refuse (400) requests whose MS-ASPNETCORE-TOKEN
//	                      header is not T, as ASP.NET Core does
//	FAKE_SHUTDOWN=accept  answer the IIS shutdown request with 202 and
//	                      stop; "stay": answer 202 and go on running;
//	                      by default answer 404, as an app without IIS
//	                      integration does
//	FAKE_LOG=FILE         /slow appends the line "slow" to FILE
//
// Once listening it prints "fake: listening on ADDR" to stdout and
// "fake: pid N" to stderr, and it serves (any method unless one is named):
//
//	/pid                  its process id
//	/env                  a Report, as JSON
//	/headers              the request as it arrived, as JSON: "method",
//	                      "uri", "host" and "header"
//	/slow?ms=N            "done", after N milliseconds
//	/crash                nothing: the fake exits with code 1 at once
//	/bytes?n=N            N bytes, streamed without a Content-Length
//	/sha256               "HEX N": the SHA-256 and length of the body
//	/trailers             the body's length and the trailer that followed
//	                      it, as JSON: "length" and "trailer"
//	GET /unlisten         closes the listener; the fake goes on running,
//	                      deaf, until stopped
//	GET /orphan?ms=N      leaves an orphan that exits after N ms: a child
//	                      (FAKE_ORPHAN) starts it and exits, and the fake
//	                      waits for the child; answers the orphan's pid
//	GET /ps               the processes the fake can see in /proc, one
//	                      "PID STATE NAME" line each, STATE as in
//	                      /proc/PID/stat: Z for one that has exited and
//	                      not been waited for (Linux)
//	POST /iisintegration  the IIS shutdown request (see FAKE_SHUTDOWN)
//
// When stopped, by a signal or an accepted shutdown request, it closes its
// connections at once (in-flight requests are the test's to finish first)
// and Main returns 0.
package fakebackend

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Env is the environment variable that makes a test binary the fake: its
// TestMain runs os.Exit(fakebackend.Main()) when Env is "1".
const Env = "FAKE_BACKEND"

// Report is what /env answers.
type Report struct {
	Env  []string `json:"env"`  // the environment, as os.Environ
	Args []string `json:"args"` // the arguments after the program name
	Dir  string   `json:"dir"`  // the working directory
}

// errStopped is listen's answer when the fake was stopped while waiting
// for the port.
var errStopped = errors.New("stopped")

// Main runs the fake and returns its exit code. It calls os.Exit itself
// only where exiting is the behaviour asked for: FAKE_EXIT and /crash.
func Main() int {
	wait := os.Getenv("FAKE_WAIT") == "1"
	s := newStopper(wait || os.Getenv("FAKE_TERM") == "ignore")
	if wait {
		<-s.done // never closed: signals are ignored (no deadlock, see newStopper)
		return 0
	}
	if ms := os.Getenv("FAKE_ORPHAN"); ms != "" {
		return leaveOrphan(ms)
	}
	printLines(os.Getenv("FAKE_PRINT"))
	if file := os.Getenv("FAKE_CRASH_IF"); file != "" {
		if _, err := os.Stat(file); err == nil {
			fmt.Println("fake: crashing because", file, "exists")
			return 1
		}
	}
	if file := os.Getenv("FAKE_CHILD"); file != "" {
		if err := startChild(file); err != nil {
			fmt.Fprintln(os.Stderr, "fake: child:", err)
			return 2
		}
	}
	scheduleExit(os.Getenv("FAKE_EXIT"))
	if os.Getenv("FAKE_LISTEN") == "no" {
		<-s.done
		return 0
	}
	delay, _ := strconv.Atoi(os.Getenv("FAKE_LISTEN_DELAY"))
	if !s.sleep(time.Duration(delay) * time.Millisecond) {
		return 0
	}
	ln, err := listen(s)
	listened := time.Now()
	switch {
	case errors.Is(err, errStopped):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 3
	}
	if file := os.Getenv("FAKE_LISTEN_STAMP"); file != "" {
		if err := os.WriteFile(file, strconv.AppendInt(nil, listened.UnixNano(), 10), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fake: listen stamp:", err)
			ln.Close()
			return 2
		}
	}
	return serve(ln, s)
}

// stopper is how the fake is told to stop: done is closed on SIGTERM or
// os.Interrupt, unless they are ignored, or on an accepted shutdown request.
type stopper struct {
	done chan struct{}
	once sync.Once
}

// newStopper registers for SIGTERM (Unix) and os.Interrupt (CTRL_BREAK and
// CTRL_C arrive as os.Interrupt on Windows). With ignore, signals are
// received and dropped.
//
// The registration is what lets the fake block on done: while signal.Notify
// is in effect the runtime keeps a thread waiting for signals, so a fake
// that only waits (FAKE_WAIT, FAKE_LISTEN=no, after /unlisten) is not taken
// for a deadlock. A bare `select {}` is one: without cgo, which is every
// Windows build, the runtime reports that all goroutines are asleep and
// the fake exits at once. Dropping the signals, rather than signal.Ignore,
// also keeps CTRL_BREAK from the default console handler on Windows, which
// would end the process.
func newStopper(ignore bool) *stopper {
	s := &stopper{done: make(chan struct{})}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	go func() {
		for sig := range sigs {
			if ignore {
				fmt.Println("fake: ignoring", sig)
				continue
			}
			s.stop("stopping on " + sig.String())
		}
	}()
	return s
}

// stop closes done once, printing why.
func (s *stopper) stop(why string) {
	s.once.Do(func() {
		fmt.Println("fake:", why)
		close(s.done)
	})
}

// sleep waits for d, and reports false if the fake was stopped first.
func (s *stopper) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// printLines prints n (a number, or "") numbered lines, alternating
// between stdout and stderr.
func printLines(n string) {
	count, _ := strconv.Atoi(n)
	for i := 1; i <= count; i++ {
		if i%2 == 1 {
			fmt.Fprintf(os.Stdout, "line %d\n", i)
		} else {
			fmt.Fprintf(os.Stderr, "line %d\n", i)
		}
	}
}

// startChild starts a copy of this program that only waits, and writes
// both process ids to file. The child is left running: it is there for
// the tests to see who kills it.
func startChild(file string) error {
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), "FAKE_WAIT=1", "FAKE_CHILD=")
	if err := child.Start(); err != nil {
		return err
	}
	return os.WriteFile(file, fmt.Appendf(nil, "%d %d", os.Getpid(), child.Process.Pid), 0o644)
}

// leaveOrphan starts a copy of this program that exits after ms
// milliseconds, prints its pid, and returns the exit code for the caller
// to exit with at once, leaving the copy to whoever adopts orphans.
func leaveOrphan(ms string) int {
	orphan := exec.Command(os.Args[0])
	orphan.Env = append(os.Environ(), "FAKE_ORPHAN=", "FAKE_CHILD=", "FAKE_PRINT=", "FAKE_LISTEN=no", "FAKE_EXIT="+ms+":0")
	if err := orphan.Start(); err != nil { // stdout: nowhere, so that no pipe waits for it
		fmt.Fprintln(os.Stderr, "fake: orphan:", err)
		return 2
	}
	fmt.Println(orphan.Process.Pid)
	return 0
}

// scheduleExit makes the process exit as spec ("MS:CODE", or "") says.
func scheduleExit(spec string) {
	ms, code, ok := strings.Cut(spec, ":")
	if !ok {
		return
	}
	d, _ := strconv.Atoi(ms)
	c, _ := strconv.Atoi(code)
	time.AfterFunc(time.Duration(d)*time.Millisecond, func() {
		fmt.Println("fake: exiting with", c)
		os.Exit(c) // the behaviour asked for
	})
}

// listen listens where FAKE_LISTEN_HOST and FAKE_PORT_VAR say, retrying
// while the port is taken if FAKE_BIND is "retry".
func listen(s *stopper) (net.Listener, error) {
	host := cmp.Or(os.Getenv("FAKE_LISTEN_HOST"), "127.0.0.1")
	addr := net.JoinHostPort(host, os.Getenv(cmp.Or(os.Getenv("FAKE_PORT_VAR"), "PORT")))
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || os.Getenv("FAKE_BIND") != "retry" {
			return ln, err
		}
		// Some servers keep trying to bind instead of exiting.
		if !s.sleep(50 * time.Millisecond) {
			return nil, errStopped
		}
	}
}

// serve serves on ln until the fake is stopped.
func serve(ln net.Listener, s *stopper) int {
	fmt.Printf("fake: listening on %s\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "fake: pid %d\n", os.Getpid())
	srv := &http.Server{Handler: checkToken(os.Getenv("ASPNETCORE_TOKEN"), routes(ln, s))}
	go func() {
		<-s.done
		srv.Close() // a fake app: in-flight requests are the test's to finish first
	}()
	srv.Serve(ln) // returns once stopped, or at once after /unlisten
	<-s.done      // after /unlisten: alive but deaf until stopped
	return 0
}
