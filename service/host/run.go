// Package host is the runtime of `roost run`: it binds the listeners,
// starts the app's backend through package supervisor, hands every request
// to package forwarder, watches the app folder for app_offline.htm and
// web.config changes, recycles the app with no dropped request, and stops
// everything gracefully within one deadline.
//
// It does not parse web.config (package config does), manage processes
// (package supervisor), decide statuses or pages (package forwarder), or
// talk to a service manager (package service, which calls Run through a
// function it is given): it tells the app's life to a Notifier, which
// package service implements for systemd.
package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/logs/access"
	"github.com/roosthq/roost/supervisor"
)

// The contracts between the supervisor and the forwarder, which never
// import each other, are checked here, where the two meet.
var (
	_ forwarder.Upstream    = (*supervisor.Supervisor)(nil)
	_ forwarder.Unavailable = (*supervisor.UnavailableError)(nil)
	_ forwarder.Dispatcher  = (*handler)(nil)
	_ forwarder.Lease       = (*generation)(nil)
)

// Options are the parts of a run that do not come from web.config.
type Options struct {
	Listen  []Listen
	HTTP1   Engine // the server of HTTP/1.x connections
	TLSCert string // certificate file for https listeners (PEM)
	TLSKey  string // its key file (PEM)

	// TLSClientCerts asks https clients for a certificate, which is passed
	// to the backend in MS-ASPNETCORE-CLIENTCERT. roost does not verify it:
	// like IIS with "accept client certificates", it leaves that to the app.
	TLSClientCerts bool

	// TrustedProxies are the client addresses (proxies in front of roost,
	// such as a load balancer) whose X-Forwarded-For and X-Forwarded-Proto
	// are kept and appended to; every other client's are replaced with what
	// roost saw. See forwarder.TrustedProxies.
	TrustedProxies []netip.Prefix

	Logger *zap.Logger

	// Watchdog, when set, is given to every supervisor, so that the
	// backends' process trees die with roost even when roost is killed.
	Watchdog *supervisor.Watchdog

	// Ready, when set, is called with the bound addresses once every
	// listener accepts connections (the backend may still be starting).
	Ready func(addrs []net.Addr)

	// Notifier, when set, hears of the app's life as a service manager
	// wants to: ready, recycling, stopping (see Notifier).
	Notifier Notifier

	// Output, when set, gives for a configuration the supervisor's Output
	// hook (see supervisor.Options), such as the stdout log files; it is
	// to tell dropped of every n lines of output it loses, for the
	// metrics.
	Output func(cfg *config.Config, dropped func(n int64)) func(pid int, started time.Time) io.WriteCloser

	// Admin is the admin listener's address (host:port), which serves
	// /metrics, /healthz, /readyz and /status (see admin.go) and is
	// written in a state file for `roost status` (see QueryStatus).
	// Empty: no admin listener, and no state file.
	Admin string

	// Version is roost's version, for /status.
	Version string

	// AccessLog, when set, opens the access log (see package access),
	// which Run then tells of every request once answered; dropped is to
	// count the lines it loses, for the metrics. Run opens it once the
	// listeners are bound (an error is an *OptionError, and nothing
	// starts) and closes it after the last request, flushing what is
	// queued by the stop deadline.
	AccessLog func(dropped func(n int64)) (*access.Log, error)
}

// Server timeouts and limits of the front listeners.
const (
	readHeaderTimeout = 10 * time.Second // slow clients may not hold a connection open sending headers
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// Run serves the app of cfg until ctx ends: it binds the listeners, starts
// the backend at once and forwards every request to it. When ctx ends it
// stops within cfg.Process.StopTimeLimit (see stop) and returns nil. A
// listener (the admin listener too) that cannot be bound is a
// *ListenError, unusable options an *OptionError, and then nothing is
// started.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	log := opts.Logger
	tlsConfig, err := opts.loadTLS()
	if err != nil {
		return err
	}
	listeners, err := bind(opts.Listen, opts.HTTP1)
	if err != nil {
		return err
	}
	adminLn, err := bindAdmin(opts.Admin)
	if err != nil {
		closeAll(listeners)
		return err
	}

	ctl := newController(cfg, opts, httpsPort(opts.Listen, listeners))
	obs := &requestObserver{metrics: ctl.metrics}
	if obs.access, err = openAccessLog(opts, ctl.metrics); err != nil {
		closeAll(listeners)
		if adminLn != nil {
			adminLn.Close()
		}
		return err
	}
	ctl.info.listeners = listenURLs(opts.Listen, listeners)
	if adminLn != nil {
		ctl.info.admin = "http://" + adminLn.Addr().String()
	}
	ctl.start()
	w := newWatcher(cfg.Dir, configName(cfg), log)
	// The folder is watched until roost begins to stop.
	watchCtx, stopWatching := context.WithCancel(context.Background())
	defer stopWatching()
	var background sync.WaitGroup
	background.Go(func() { w.run(watchCtx) })
	background.Go(func() { ctl.run(watchCtx, w) })

	var observer forwarder.Observer // nil: nobody would read what it saw
	if adminLn != nil || obs.access != nil {
		observer = obs
	}
	front := serve(listeners, opts, tlsConfig, ctl.handler, observer)
	admin := serveAdmin(adminLn, ctl)
	if opts.Ready != nil {
		opts.Ready(front.addrs)
	}
	reason := "signal"
	select {
	case <-ctx.Done():
		log.Info("stopping", zap.String("reason", reason))
	case err = <-front.failed:
		reason = "a listener failed"
		log.Error("listener failed; stopping", zap.Error(err))
	}
	stop(ctl, front, obs, stopWatching, reason)
	background.Wait()
	admin.close() // /healthz answers until the end
	log.Info("stopped")
	return err
}

// stop takes roost down within one deadline, StopTimeLimit from now, and
// tells the service manager why (reason) and by when: a recycle in
// progress is abandoned at once; requests are still served for
// shutdownDelay; then the listeners close and requests in flight may
// finish until half of shutdownTimeLimit is left, which is kept for
// stopping the backend gracefully, and for writing out the access log
// meanwhile; at the deadline what is left is killed.
func stop(ctl *controller, front *frontEnd, obs *requestObserver, stopWatching func(), reason string) {
	p := ctl.cfg.Load().Process // web.config may have changed since the start
	ctl.notify.stop("stopping: "+reason, p.StopTimeLimit())
	stopBy := time.Now().Add(p.StopTimeLimit())
	drainBy := stopBy.Add(-p.ShutdownTimeLimit / 2)
	ctl.shutdown(drainBy, stopBy)
	stopWatching()
	if d := p.ShutdownDelay; d > 0 {
		// Keep serving while load balancers notice that roost is leaving.
		ctl.log.Info("still serving for shutdownDelay", zap.Duration("shutdown_delay", d))
		t := time.NewTimer(d)
		<-t.C
	}
	front.drain(drainBy, ctl.log)
	var flushed sync.WaitGroup
	flushed.Go(func() { obs.closeAccessLog(stopBy, ctl.log) })
	ctl.retireCurrent("roost is stopping")
	flushed.Wait()
}

// Engine is what serves HTTP/1.x connections: roost's own server
// (forwarder.Server, the default) or net/http's. HTTP/2 is always
// net/http's.
type Engine string

const (
	EngineRoost   Engine = "roost"
	EngineNetHTTP Engine = "net/http"
)

// ParseEngine reads a --http1 value.
func ParseEngine(s string) (Engine, error) {
	switch e := Engine(s); e {
	case EngineRoost, EngineNetHTTP:
		return e, nil
	case "":
		return EngineRoost, nil
	}
	return "", fmt.Errorf("--http1 %q: want roost or net/http", s)
}

// server is a server of the listeners: roost's own or net/http's.
type server interface {
	Shutdown(ctx context.Context) error
	Close() error
}

// frontEnd is the HTTP servers of the listeners.
type frontEnd struct {
	servers []server
	addrs   []net.Addr
	failed  chan error // a server that stopped by itself
	serving sync.WaitGroup
}

// serve starts serving each listener, handing requests to h.
func serve(listeners []net.Listener, opts Options, tlsConfig *tls.Config, h *handler, obs forwarder.Observer) *frontEnd {
	fe := &frontEnd{failed: make(chan error, len(listeners))}
	observed := forwarder.Observed(h, obs)
	var own *forwarder.Server
	if opts.HTTP1 != EngineNetHTTP {
		own = forwarder.NewServer(h, forwarder.ServerOptions{
			ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
			H2Handler: observed, Logger: opts.Logger.Named("http"), Observer: obs,
		})
		fe.servers = append(fe.servers, own)
	}
	for i, ln := range listeners {
		l := opts.Listen[i]
		var tc *tls.Config
		if l.TLS {
			tc = tlsConfig
		}
		fe.addrs = append(fe.addrs, ln.Addr())
		opts.Logger.Info("listening", zap.String("url", (Listen{Addr: ln.Addr().String(), TLS: l.TLS}).String()))
		var run func() error
		if own != nil {
			run = func() error { return own.Serve(ln, tc) }
		} else {
			srv := netHTTPServer(opts, tc, observed)
			fe.servers = append(fe.servers, srv)
			run = func() error {
				if l.TLS {
					return srv.ServeTLS(ln, "", "")
				}
				return srv.Serve(ln)
			}
		}
		fe.serving.Go(func() {
			if err := run(); !errors.Is(err, http.ErrServerClosed) {
				fe.failed <- fmt.Errorf("serve %s: %w", l, err)
			}
		})
	}
	return fe
}

// netHTTPServer is net/http's server of one listener.
func netHTTPServer(opts Options, tlsConfig *tls.Config, h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(opts.Logger.Named("http")),
	}
	if tlsConfig != nil {
		srv.TLSConfig = tlsConfig.Clone()
	}
	return srv
}

// drain stops accepting connections and waits until the requests in
// flight have finished or deadline has come; then it closes every
// connection left.
func (fe *frontEnd) drain(deadline time.Time, log *zap.Logger) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, srv := range fe.servers {
		if srv.Shutdown(ctx) != nil {
			log.Warn("requests still in flight at the stop deadline; closing their connections")
			srv.Close()
		}
	}
	fe.serving.Wait()
}
