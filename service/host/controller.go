package host

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/service/host/metrics"
	"github.com/roosthq/roost/supervisor"
)

// controller makes every transition of the app, one at a time: going
// offline and online with app_offline.htm, recycling when web.config
// changes, and stopping. Requests never wait on it: they go through its
// handler.
type controller struct {
	handler   *handler
	log       *zap.Logger
	httpsPort int
	watchdog  *supervisor.Watchdog
	output    func(cfg *config.Config, dropped func(n int64)) func(pid int, started time.Time) io.WriteCloser
	trusted   []netip.Prefix // --trusted-proxies, for every generation's forwarder
	notify    *announcer     // tells the service manager, if any
	metrics   *metrics.Metrics
	record    record       // the backends' past, for /status
	info      runInfo      // set before the admin listener serves; never changed after
	gens      atomic.Int32 // generations made so far

	// cfg is the configuration in force: the last valid one. Only the
	// controller's goroutine stores it; stop reads it.
	cfg atomic.Pointer[config.Config]

	// mu orders publishing a generation against the start of a stop:
	// once stopping is closed, no generation becomes current.
	mu sync.Mutex
	// stopping is closed when roost begins to stop; drainBy and stopBy
	// are set before, and never change after.
	stopping        chan struct{}
	drainBy, stopBy time.Time
}

// runInfo is what /status says of the run itself.
type runInfo struct {
	version   string
	started   time.Time
	listeners []string // the app's listeners, as URLs
	admin     string   // the admin listener's URL
}

func newController(cfg *config.Config, opts Options, httpsPort int) *controller {
	c := &controller{
		handler:   &handler{},
		log:       opts.Logger,
		httpsPort: httpsPort,
		watchdog:  opts.Watchdog,
		output:    opts.Output,
		trusted:   opts.TrustedProxies,
		notify:    &announcer{n: opts.Notifier},
		stopping:  make(chan struct{}),
		info:      runInfo{version: opts.Version, started: time.Now()},
	}
	c.metrics = metrics.New(c.metricsState)
	c.cfg.Store(cfg)
	return c
}

// start begins serving: offline if app_offline.htm is present, else with a
// new generation. It returns once requests can be handled.
func (c *controller) start() {
	if page, offline := readOffline(c.cfg.Load().Dir, c.log); offline {
		c.handler.offline.Store(&page)
		c.log.Info("app is offline", zap.String("reason", "app_offline.htm is present; the backend is not started"))
		c.notify.settled("offline: app_offline.htm is present; the app is not started")
		return
	}
	c.startCurrent()
}

// run reacts to changes until ctx ends, which Run does when roost begins
// to stop.
func (c *controller) run(ctx context.Context, w *watcher) {
	for {
		ch, ok := w.next(ctx)
		if !ok {
			return
		}
		if ch.offline {
			c.checkOffline()
		}
		if ch.config {
			c.reload(ctx)
		}
	}
}

// shutdown begins the stop: requests in flight may run until drainBy,
// every backend must be gone by stopBy. A recycle in progress is
// abandoned, and no generation is made current from now on.
func (c *controller) shutdown(drainBy, stopBy time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drainBy, c.stopBy = drainBy, stopBy
	close(c.stopping)
}

// publish makes g the generation requests go to, unless roost is
// stopping; it reports whether it did.
func (c *controller) publish(g *generation) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.stopping:
		return false
	default:
	}
	c.handler.current.Store(g)
	return true
}

// checkOffline goes offline or online to match app_offline.htm.
func (c *controller) checkOffline() {
	page, offline := readOffline(c.cfg.Load().Dir, c.log)
	wasOffline := c.handler.offline.Load() != nil
	switch {
	case offline && wasOffline:
		c.handler.offline.Store(&page) // the page may have changed
	case offline:
		// New requests get the offline page at once; those in flight
		// finish; then the backend stops gracefully.
		c.handler.offline.Store(&page)
		c.log.Info("app is offline", zap.String("reason", "app_offline.htm appeared"))
		c.notify.status("offline: app_offline.htm appeared", 0)
		if g := c.handler.current.Swap(nil); g != nil {
			c.retire(g, "app_offline.htm appeared")
		}
	case wasOffline:
		c.startCurrent()
		c.handler.offline.Store(nil)
		c.log.Info("app is online", zap.String("reason", "app_offline.htm was removed; requests wait for the backend to start"))
		c.notify.status("online: app_offline.htm was removed; starting the app", 0)
	}
}

// reload reads web.config again and, when it is valid, recycles the app
// with it: a new backend starts beside the old one, takes new requests once
// ready, and the old one finishes its requests and stops. When the new one
// cannot start, the old one keeps serving. ctx ends when roost begins to
// stop, which abandons the recycle.
func (c *controller) reload(ctx context.Context) {
	cfg, ok := c.readConfig()
	if !ok {
		return
	}
	old := c.handler.current.Load()
	if old == nil {
		c.log.Info("web.config changed while offline; the new settings apply when the app comes back")
		c.metrics.Recycle(metrics.RecycleDeferred)
		return
	}
	c.log.Info("web.config changed; recycling the app")
	next := c.newGeneration(cfg)
	if cfg.Process.Port != 0 || old.cfg.Process.Port != 0 {
		// A fixed port cannot be held by two backends: stop the old one
		// first. Requests wait for the new one meanwhile, and the new one
		// announces itself ready.
		c.notify.reload("recycling: web.config changed (fixed port: stop, then start)",
			2*old.cfg.Process.ShutdownTimeLimit+cfg.Process.StartupTimeLimit)
		if c.publish(next) {
			c.metrics.Recycle(metrics.Recycled)
			c.retire(old, "web.config changed (fixed port: stop, then start)")
			go next.run() // if roost began to stop meanwhile, it stops at once
		} else {
			c.metrics.Recycle(metrics.RecycleAbandoned)
		}
		return
	}
	c.notify.reload("recycling: web.config changed", cfg.Process.StartupTimeLimit)
	go next.run()
	ready, cancel := context.WithTimeout(ctx, cfg.Process.StartupTimeLimit)
	_, _, release, err := next.sup.Acquire(ready)
	cancel()
	if err == nil {
		release()
		if c.publish(next) {
			c.notify.settled("serving the recycled app")
			c.metrics.Recycle(metrics.Recycled)
			c.retire(old, "web.config changed")
			c.log.Info("app recycled")
			return
		}
	}
	select {
	case <-c.stopping:
		c.log.Info("recycle abandoned: roost is stopping")
		c.metrics.Recycle(metrics.RecycleAbandoned)
		next.stop(c.stopBy)
	default:
		c.log.Error("the recycled app did not start; the old one keeps serving", zap.Error(err))
		c.notify.reloadFailed("the recycled app did not start; the old one keeps serving: " + err.Error())
		c.metrics.Recycle(metrics.RecycleFailed)
		next.stop(time.Now().Add(cfg.Process.ShutdownTimeLimit))
	}
}

// readConfig reads web.config again. It reports false, having logged why,
// when the app is to keep running as it is: the file is invalid or gone,
// or recycling on change is turned off.
func (c *controller) readConfig() (*config.Config, bool) {
	cur := c.cfg.Load()
	if cur.DisallowRotationOnConfigChange {
		c.log.Info("web.config changed; ignored (disallowRotationOnConfigChange)")
		c.metrics.Recycle(metrics.RecycleIgnored)
		return nil, false
	}
	cfg, err := config.Load(cur.File)
	var invalid *config.Error
	if err != nil {
		c.metrics.Recycle(metrics.RecycleInvalid)
	}
	switch {
	case errors.As(err, &invalid):
		for _, d := range invalid.Errors {
			c.log.Error("web.config changed but is invalid; the app keeps running as it was", zap.String("error", d.Error()))
		}
		return nil, false
	case errors.Is(err, os.ErrNotExist):
		c.log.Warn("web.config is gone; the app keeps running as it was", zap.String("file", cur.File))
		return nil, false
	case err != nil:
		c.log.Error("cannot read web.config; the app keeps running as it was", zap.Error(err))
		return nil, false
	}
	for _, w := range cfg.Warnings {
		c.log.Warn("web.config", zap.String("warning", w.Error()))
	}
	c.cfg.Store(cfg)
	return cfg, true
}

// startCurrent starts a generation for the configuration in force and
// makes it the one requests go to (they wait while its backend starts).
func (c *controller) startCurrent() {
	g := c.newGeneration(c.cfg.Load())
	if !c.publish(g) {
		return
	}
	go g.run()
}

// newGeneration builds, but does not start, a generation for cfg.
func (c *controller) newGeneration(cfg *config.Config) *generation {
	var output func(pid int, started time.Time) io.WriteCloser
	if c.output != nil {
		output = c.output(cfg, c.metrics.StdoutLinesDropped)
	}
	g := &generation{n: int(c.gens.Add(1)), cfg: cfg, done: make(chan struct{}), idle: make(chan struct{}, 1), inflight: &c.handler.inflight}
	g.sup = supervisor.New(cfg.Process, supervisor.Options{
		Logger: c.log, HTTPSPort: c.httpsPort, Output: output, Watchdog: c.watchdog,
		StateChanged: func(e supervisor.StateChange) { c.backendChanged(g, e) },
		Observe:      c.observe, Held: c.metrics.Held,
	})
	g.fwd = forwarder.New(g.sup, cfg.Proxy, c.log, forwarder.TrustedProxies(c.trusted))
	return g
}

// backendChanged hears of every change of a backend of g, and announces
// those of the generation requests go to: another one speaks for the app
// only once it is made current (see reload).
func (c *controller) backendChanged(g *generation, e supervisor.StateChange) {
	if c.handler.current.Load() == g {
		c.notify.backendChanged(g, e)
	}
}

// retire lets the requests of g finish and then stops its backend
// gracefully, each within shutdownTimeLimit; when roost begins to stop
// meanwhile, the stop's deadlines apply instead where they are sooner. g
// must no longer be current.
func (c *controller) retire(g *generation, reason string) {
	limit := g.cfg.Process.ShutdownTimeLimit
	if !g.drain(time.Now().Add(limit), c.stopping, func() time.Time { return c.drainBy }) {
		c.log.Warn("requests still in flight at the drain deadline; stopping the backend anyway",
			zap.Int64("in_flight", g.active.Load()), zap.String("reason", reason))
	}
	g.sup.Stop(time.Now().Add(limit))
	select {
	case <-g.done:
	case <-c.stopping:
		g.sup.Stop(c.stopBy) // the sooner deadline wins
		<-g.done
	}
	g.fwd.Close()
}

// retireCurrent retires the current generation, if there is one.
func (c *controller) retireCurrent(reason string) {
	if g := c.handler.current.Swap(nil); g != nil {
		c.retire(g, reason)
	}
}

// configName is the base name of the web.config file to watch.
func configName(cfg *config.Config) string { return filepath.Base(cfg.File) }
