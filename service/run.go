// Package service runs roost: it wires the supervisor, the forwarder and
// the HTTP listeners together for `roost run`, so that a foreground run and
// a run under a service manager take exactly the same path.
//
// It does not parse web.config (package config does), manage processes
// (package supervisor) or proxy requests (package forwarder).
package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/supervisor"
)

// The forwarder's Upstream is the supervisor; checked here, where the two
// meet, since neither imports the other.
var _ forwarder.Upstream = (*supervisor.Supervisor)(nil)

// Listen is one --listen address.
type Listen struct {
	Addr string // host:port for net.Listen; host may be empty (all addresses)
	TLS  bool   // https
}

func (l Listen) String() string {
	if l.TLS {
		return "https://" + l.Addr
	}
	return "http://" + l.Addr
}

// ParseListen reads a --listen value: host:port, :port, http://host:port or
// https://host:port. IPv6 hosts are written in brackets.
func ParseListen(s string) (Listen, error) {
	l := Listen{Addr: s}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return Listen{}, fmt.Errorf("--listen %q: want host:port, http://host:port or https://host:port", s)
		}
		l = Listen{Addr: u.Host, TLS: u.Scheme == "https"}
	}
	_, port, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return Listen{}, fmt.Errorf("--listen %q: want host:port, http://host:port or https://host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return Listen{}, fmt.Errorf("--listen %q: port %q is not 0-65535", s, port)
	}
	return l, nil
}

// DefaultListen is the address roost listens on without --listen: :$PORT
// when PORT is set in roost's environment (as platforms that run containers
// set it), else :8080.
func DefaultListen(getenv func(string) string) Listen {
	if p := getenv("PORT"); p != "" {
		return Listen{Addr: ":" + p}
	}
	return Listen{Addr: ":8080"}
}

// Options are the parts of a run that do not come from web.config.
type Options struct {
	Listen  []Listen
	TLSCert string // certificate file for https listeners (PEM)
	TLSKey  string // its key file (PEM)

	// TLSClientCerts asks https clients for a certificate, which is passed
	// to the backend in MS-ASPNETCORE-CLIENTCERT. roost does not verify it:
	// like IIS with "accept client certificates", it leaves that to the app.
	TLSClientCerts bool

	Logger *zap.Logger

	// Ready, when set, is called with the bound addresses once every
	// listener accepts connections (the backend may still be starting).
	Ready func(addrs []net.Addr)

	// Output, when set, gives for a configuration the supervisor's Output
	// hook (see supervisor.Options), such as the stdout log files.
	Output func(cfg *config.Config) func(pid int, started time.Time) io.WriteCloser
}

// ListenError is a listener that could not be bound.
type ListenError struct {
	Listen Listen
	Err    error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("listen on %s: %v", e.Listen, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// OptionError is an Options value that cannot be used, such as an https
// listener without a certificate: a usage error, found before anything
// starts.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Server timeouts and limits of the front listeners.
const (
	readHeaderTimeout = 10 * time.Second // slow clients may not hold a connection open sending headers
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// Run serves the app of cfg until ctx ends: it binds the listeners, starts
// the backend at once, forwards every request to it and, when ctx ends,
// stops accepting connections, lets requests in flight finish (bounded by
// shutdownTimeLimit), stops the backend gracefully and returns nil. A
// listener that cannot be bound is a *ListenError, and nothing is started.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	var tlsConfig *tls.Config
	for _, l := range opts.Listen {
		if l.TLS && tlsConfig == nil {
			if opts.TLSCert == "" || opts.TLSKey == "" {
				return &OptionError{fmt.Errorf("https listener %s needs --tls-cert and --tls-key", l)}
			}
			cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
			if err != nil {
				return &OptionError{fmt.Errorf("load --tls-cert %s and --tls-key %s: %w", opts.TLSCert, opts.TLSKey, err)}
			}
			tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			if opts.TLSClientCerts {
				tlsConfig.ClientAuth = tls.RequestClientCert
			}
		}
	}

	listeners := make([]net.Listener, 0, len(opts.Listen))
	defer func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}()
	for _, l := range opts.Listen {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			return &ListenError{Listen: l, Err: err}
		}
		listeners = append(listeners, ln)
	}

	h := &host{}
	ctl := &controller{host: h, log: log, httpsPort: httpsPort(opts.Listen, listeners), output: opts.Output}
	ctl.cfg.Store(cfg)
	ctl.start()
	w := newWatcher(cfg.Dir, configName(cfg), log)
	// The app outlives ctx: it is stopped only after the listeners have
	// drained.
	appCtx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	defer stopApp()
	var background sync.WaitGroup
	background.Go(func() { w.run(appCtx) })
	background.Go(func() { ctl.run(appCtx, w) })

	servers := make([]*http.Server, len(listeners))
	serveErr := make(chan error, len(listeners))
	var serving sync.WaitGroup
	addrs := make([]net.Addr, len(listeners))
	for i, ln := range listeners {
		l := opts.Listen[i]
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          zap.NewStdLog(log.Named("http")),
		}
		if l.TLS {
			srv.TLSConfig = tlsConfig.Clone()
		}
		servers[i], addrs[i] = srv, ln.Addr()
		log.Info("listening", zap.String("url", (Listen{Addr: ln.Addr().String(), TLS: l.TLS}).String()))
		serving.Go(func() {
			var err error
			if l.TLS {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("serve %s: %w", l, err)
			}
		})
	}
	listeners = nil // the servers own them now
	if opts.Ready != nil {
		opts.Ready(addrs)
	}

	var err error
	select {
	case <-ctx.Done():
		log.Info("stopping", zap.String("reason", "signal"))
	case err = <-serveErr:
		log.Error("listener failed; stopping", zap.Error(err))
	}

	cfg = ctl.cfg.Load() // web.config may have changed since the start
	if d := cfg.Process.ShutdownDelay; d > 0 {
		// Keep serving while load balancers notice that roost is leaving.
		log.Info("still serving for shutdownDelay", zap.Duration("shutdown_delay", d))
		t := time.NewTimer(d)
		<-t.C
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.Process.ShutdownTimeLimit)
	defer cancel()
	for _, srv := range servers {
		if srv.Shutdown(drainCtx) != nil {
			log.Warn("requests still in flight after shutdownTimeLimit; closing their connections",
				zap.Duration("shutdown_time_limit", cfg.Process.ShutdownTimeLimit))
			srv.Close()
		}
	}
	serving.Wait()
	stopApp()
	background.Wait()
	log.Info("stopped")
	return err
}

// httpsPort is the port to announce in ASPNETCORE_ANCM_HTTPS_PORT: that of
// the https listeners when they all share one, else 0 (as ANCM does with
// several https bindings on different ports).
func httpsPort(specs []Listen, lns []net.Listener) int {
	port := 0
	for i, l := range specs {
		if !l.TLS {
			continue
		}
		p := lns[i].Addr().(*net.TCPAddr).Port
		if port != 0 && port != p {
			return 0
		}
		port = p
	}
	return port
}
