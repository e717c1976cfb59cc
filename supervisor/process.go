package supervisor

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

// backend is one started process: what was started, where it listens and
// how it ended. Only the slot goroutine that started it stops it.
type backend struct {
	log     *zap.Logger // the slot's, with the pid and the port
	pid     int
	port    int
	token   string
	started time.Time

	cmd     *exec.Cmd
	tree    *processTree
	out     *outputTail
	outRead *os.File      // read end of the output pipe; nil without redirection
	outDone chan struct{} // closed when the output reader has finished
	exited  chan struct{} // closed when the process has exited
	suspect chan struct{} // size 1: a connection to it was refused; see Unreachable

	// Set once ready, before the backend is published to Acquire.
	url     *url.URL
	readyAt time.Time

	inflight atomic.Int64
}

// startBackend starts the process for one attempt; log is the slot's. The
// caller owns the result and must end it with finish.
func (s *Supervisor) startBackend(log *zap.Logger) (*backend, error) {
	b, err := s.newBackend()
	if err != nil {
		return nil, err
	}
	if err := b.launch(s.cfg.ConsoleRedirection, s.watchdog); err != nil {
		return nil, err
	}
	b.log = log.With(zap.Int("pid", b.pid), zap.Int("port", b.port))
	if err := s.watchdog.add(b.tree); err != nil {
		b.log.Warn("watchdog does not know the backend; its children may outlive a killed roost", zap.Error(err))
	}
	var sink io.WriteCloser
	if s.output != nil && b.outRead != nil {
		sink = s.output(b.pid, b.started)
	}
	go b.readOutput(sink)
	go b.wait()
	return b, nil
}

// newBackend prepares the command of one start: the program found, its
// port, its pairing token and its environment.
func (s *Supervisor) newBackend() (*backend, error) {
	p := s.cfg
	path, err := p.LookPath()
	if err != nil {
		return nil, err
	}
	port := p.Port
	if port == 0 {
		if port, err = s.pickPort(); err != nil {
			return nil, err
		}
	}
	token := ""
	if p.Kind == config.AspNetCore {
		if token = userToken(p); token == "" {
			token = newToken()
		}
	}
	cmd := exec.Command(path, p.Args(port)...)
	cmd.Dir = p.Dir
	cmd.Env = buildEnv(s.environ, p, port, token, s.httpsPort)
	if err := setProcAttrs(cmd, p.CommandLine(port)); err != nil {
		return nil, fmt.Errorf("processPath %s: %w", path, err)
	}
	return &backend{port: port, token: token, cmd: cmd, out: &outputTail{},
		outDone: make(chan struct{}), exited: make(chan struct{}), suspect: make(chan struct{}, 1)}, nil
}

// launch starts the process, its stdout and stderr going to one pipe when
// redirect is set (one pipe keeps their lines in arrival order), and puts
// it in a process tree, which uses wd (see Watchdog). On failure nothing is left running or open.
func (b *backend) launch(redirect bool, wd *Watchdog) error {
	var outWrite *os.File
	if redirect {
		var err error
		if b.outRead, outWrite, err = os.Pipe(); err != nil {
			return fmt.Errorf("output pipe: %w", err)
		}
		b.cmd.Stdout, b.cmd.Stderr = outWrite, outWrite
	}
	err := b.cmd.Start()
	if outWrite != nil {
		outWrite.Close() // the child has its copy
	}
	if err != nil {
		b.closeOutput()
		return fmt.Errorf("start %s: %w", b.cmd.Args[0], err)
	}
	b.pid, b.started = b.cmd.Process.Pid, time.Now()
	if b.tree, err = newProcessTree(b.cmd.Process, wd); err != nil {
		// Without its tree the process cannot be controlled: end it now.
		b.cmd.Process.Kill()
		b.cmd.Wait()
		b.closeOutput()
		return err
	}
	return nil
}

// readOutput keeps what the process prints in b.out and copies it to
// sink, if not nil, until the end of the output or until finish closes
// the pipe. Then it closes sink, and outDone.
func (b *backend) readOutput(sink io.WriteCloser) {
	defer close(b.outDone)
	if b.outRead == nil {
		return
	}
	var w io.Writer = b.out
	if sink != nil {
		defer sink.Close()
		w = io.MultiWriter(b.out, sink)
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := b.outRead.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// wait waits for the process to exit, then closes exited; cmd.ProcessState
// then says how it ended.
func (b *backend) wait() {
	b.cmd.Wait()
	close(b.exited)
}

// closeOutput stops reading the output, if there is any.
func (b *backend) closeOutput() {
	if b.outRead != nil {
		b.outRead.Close()
	}
}

// exitDescription says how the process ended, for logs and errors.
func (b *backend) exitDescription() (desc string, code int, signal string) {
	ps := b.cmd.ProcessState
	if ps == nil {
		return "did not start", -1, ""
	}
	code, signal = exitStatus(ps)
	if signal != "" {
		return "killed by signal " + signal, code, signal
	}
	return "exit code " + strconv.Itoa(code), code, ""
}

// waitReady waits until the process accepts connections on its port and,
// where the system can tell, the listening socket is its own. It fails at
// once if the process exits, and after limit.
func (b *backend) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	wait := time.NewTimer(0)
	defer wait.Stop()
	<-wait.C
	delay := time.Millisecond
	for {
		u, err := b.probe()
		if err != nil {
			return err
		}
		if u != nil {
			b.url, b.readyAt = u, time.Now()
			return nil
		}
		wait.Reset(delay)
		delay = min(2*delay, 10*time.Millisecond)
		select {
		case <-b.exited:
			desc, code, signal := b.exitDescription()
			err := fmt.Errorf("process exited (%s) before listening on port %d", desc, b.port)
			if code == 0 && signal == "" {
				err = fmt.Errorf("%w%s", err, foregroundHint)
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("process did not listen on port %d within startupTimeLimit (%s)", b.port, limit)
		case <-wait.C:
		}
	}
}

// foregroundHint ends the error of a process that exited with code 0
// before it listened: the usual cause is a command that starts the server
// in the background and returns, which roost takes for a failed start.
const foregroundHint = "; the app must stay in the foreground and serve until it is stopped " +
	"(run the server itself, such as catalina.sh run, not a script or option that starts it in the background and returns)"

// probe tries to connect to the port on 127.0.0.1, then on [::1]. It
// returns the URL to forward to once a connection succeeds and the socket
// is the backend's, nil while nothing listens, or an error when another
// process holds the port.
func (b *backend) probe() (*url.URL, error) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		addr := net.JoinHostPort(host, strconv.Itoa(b.port))
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			continue
		}
		conn.Close()
		found, owned, holder, err := portOwner(b.port, b.pid, b.log)
		if err == nil && found && !owned {
			who := "another process"
			if holder > 0 {
				who = "process " + strconv.Itoa(holder)
			}
			return nil, fmt.Errorf("port %d is held by %s, not by the backend", b.port, who)
		}
		return &url.URL{Scheme: "http", Host: addr}, nil
	}
	return nil, nil
}

// stopHow says which step of the stop ladder ended the process.
type stopHow string

const (
	stoppedByRequest stopHow = "shutdown request"
	stoppedBySignal  stopHow = "signal"
	stoppedByKill    stopHow = "killed"
	stoppedByItself  stopHow = "exited"
)

// stop ends the process gracefully by the deadline that clock gives: for
// <aspNetCore>, the IIS shutdown request (POST /iisintegration with
// MS-ASPNETCORE-EVENT: shutdown), given half the time left if the app
// accepts it; then SIGTERM to the group (CTRL_C to its console on Windows); then, at
// the deadline, the whole tree is killed. A deadline already passed kills
// at once, and one brought forward meanwhile is followed. It returns which
// step ended the process.
func (b *backend) stop(kind config.Kind, clock stopClock) stopHow {
	select {
	case <-b.exited:
		return stoppedByItself
	default:
	}
	deadline, _ := clock()
	if left := time.Until(deadline); left > 0 && kind == config.AspNetCore && b.url != nil {
		half := left / 2
		if status, err := b.sendShutdown(half); err == nil && status == http.StatusAccepted {
			if b.waitExit(clock, deadline.Add(-half)) {
				return stoppedByRequest
			}
		}
	}
	if deadline, _ = clock(); time.Until(deadline) > 0 {
		if err := b.tree.interrupt(); err == nil && b.waitExit(clock, deadline) {
			return stoppedBySignal
		}
	}
	b.tree.kill()
	<-b.exited
	return stoppedByKill
}

// stopClock gives a stop's deadline, and a channel closed when it is
// brought forward.
type stopClock func() (deadline time.Time, hurry <-chan struct{})

// waitExit waits for the process to exit until until, or until the
// clock's deadline if that is sooner, even once brought forward. It
// reports whether the process exited.
func (b *backend) waitExit(clock stopClock, until time.Time) bool {
	for {
		deadline, hurry := clock()
		if deadline.Before(until) {
			until = deadline
		}
		d := time.Until(until)
		if d <= 0 {
			select {
			case <-b.exited:
				return true
			default:
				return false
			}
		}
		t := time.NewTimer(d)
		select {
		case <-b.exited:
			t.Stop()
			return true
		case <-t.C:
			return false
		case <-hurry:
			t.Stop()
		}
	}
}

// sendShutdown sends ANCM's shutdown request and returns the status.
func (b *backend) sendShutdown(timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url.String()+"/iisintegration", http.NoBody)
	if err != nil {
		return 0, err
	}
	req.Header.Set("MS-ASPNETCORE-EVENT", "shutdown")
	req.Header.Set("MS-ASPNETCORE-TOKEN", b.token)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// pickPort chooses a free loopback port at random in [10000, 48000], as
// ANCM does, trying up to ten candidates. Another program may still take
// it before the backend does; readiness then notices that the listener is
// not the backend's.
func pickPort() (int, error) {
	var err error
	for range 10 {
		port := 10000 + rand.IntN(48000-10000+1)
		var ln net.Listener
		if ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port found in 10 tries: %w", err)
}

// newToken returns a fresh pairing token, a random GUID in lower case as
// ANCM makes them.
func newToken() string {
	var u [16]byte
	crand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
