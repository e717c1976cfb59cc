package service

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder"
	"github.com/roosthq/roost/supervisor"
)

// controller makes every transition of the app, one at a time: going
// offline and online with app_offline.htm, and recycling when web.config
// changes. Requests never wait on it: they go through host.
type controller struct {
	host      *host
	log       *zap.Logger
	httpsPort int
	output    func(cfg *config.Config) func(pid int, started time.Time) io.WriteCloser

	// cfg is the configuration in force: the last valid one. Only the
	// controller's goroutine stores it; Run reads it when stopping.
	cfg atomic.Pointer[config.Config]
}

// start begins serving: offline if app_offline.htm is present, else with a
// new generation. It returns once requests can be handled.
func (c *controller) start() {
	if page, offline := readOffline(c.cfg.Load().Dir, c.log); offline {
		c.host.offline.Store(&page)
		c.log.Info("app is offline", zap.String("reason", "app_offline.htm is present; the backend is not started"))
		return
	}
	c.startCurrent()
}

// run reacts to changes until ctx ends, then retires the current
// generation.
func (c *controller) run(ctx context.Context, w *watcher) {
	for {
		ch, ok := w.next(ctx)
		if !ok {
			break
		}
		if ch.offline {
			c.checkOffline()
		}
		if ch.config {
			c.reload()
		}
	}
	if g := c.host.current.Swap(nil); g != nil {
		c.retire(g, "roost is stopping")
	}
}

// checkOffline goes offline or online to match app_offline.htm.
func (c *controller) checkOffline() {
	page, offline := readOffline(c.cfg.Load().Dir, c.log)
	wasOffline := c.host.offline.Load() != nil
	switch {
	case offline && wasOffline:
		c.host.offline.Store(&page) // the page may have changed
	case offline:
		// New requests get the offline page at once; those in flight
		// finish; then the backend stops gracefully.
		c.host.offline.Store(&page)
		c.log.Info("app is offline", zap.String("reason", "app_offline.htm appeared"))
		if g := c.host.current.Swap(nil); g != nil {
			c.retire(g, "app_offline.htm appeared")
		}
	case wasOffline:
		c.startCurrent()
		c.host.offline.Store(nil)
		c.log.Info("app is online", zap.String("reason", "app_offline.htm was removed; requests wait for the backend to start"))
	}
}

// reload reads web.config again and, when it is valid, recycles the app
// with it: a new backend starts beside the old one, takes new requests once
// ready, and the old one finishes its requests and stops. When the new one
// cannot start, the old one keeps serving.
func (c *controller) reload() {
	if c.cfg.Load().DisallowRotationOnConfigChange {
		c.log.Info("web.config changed; ignored (disallowRotationOnConfigChange)")
		return
	}
	cfg, err := config.Load(c.cfg.Load().File)
	var invalid *config.Error
	switch {
	case errors.As(err, &invalid):
		for _, d := range invalid.Errors {
			c.log.Error("web.config changed but is invalid; the app keeps running as it was", zap.String("error", d.Error()))
		}
		return
	case errors.Is(err, os.ErrNotExist):
		c.log.Warn("web.config is gone; the app keeps running as it was", zap.String("file", c.cfg.Load().File))
		return
	case err != nil:
		c.log.Error("cannot read web.config; the app keeps running as it was", zap.Error(err))
		return
	}
	for _, w := range cfg.Warnings {
		c.log.Warn("web.config", zap.String("warning", w.Error()))
	}
	c.cfg.Store(cfg)
	old := c.host.current.Load()
	if old == nil {
		c.log.Info("web.config changed while offline; the new settings apply when the app comes back")
		return
	}
	c.log.Info("web.config changed; recycling the app")
	next := c.newGeneration(cfg)
	if cfg.Process.Port != 0 || old.cfg.Process.Port != 0 {
		// A fixed port cannot be held by two backends: stop the old one
		// first. Requests wait for the new one meanwhile.
		c.host.current.Store(next)
		c.retire(old, "web.config changed (fixed port: stop, then start)")
		go next.run()
		return
	}
	go next.run()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Process.StartupTimeLimit)
	_, _, release, err := next.sup.Acquire(ctx)
	cancel()
	if err != nil {
		c.log.Error("the recycled app did not start; the old one keeps serving", zap.Error(err))
		next.stop()
		<-next.done
		next.fwd.Close()
		return
	}
	release()
	c.host.current.Store(next)
	c.retire(old, "web.config changed")
	c.log.Info("app recycled")
}

// startCurrent starts a generation for the configuration in force and
// makes it the one requests go to (they wait while its backend starts).
func (c *controller) startCurrent() {
	g := c.newGeneration(c.cfg.Load())
	go g.run()
	c.host.current.Store(g)
}

// newGeneration builds, but does not start, a generation for cfg.
func (c *controller) newGeneration(cfg *config.Config) *generation {
	var output func(pid int, started time.Time) io.WriteCloser
	if c.output != nil {
		output = c.output(cfg)
	}
	sup := supervisor.New(cfg.Process, supervisor.Options{Logger: c.log, HTTPSPort: c.httpsPort, Output: output})
	ctx, stop := context.WithCancel(context.Background())
	return &generation{
		cfg:    cfg,
		sup:    sup,
		fwd:    forwarder.New(sup, cfg.Proxy, c.log),
		runCtx: ctx,
		stop:   stop,
		done:   make(chan struct{}),
		idle:   make(chan struct{}, 1),
	}
}

// retire lets the requests of g finish (within shutdownTimeLimit) and then
// stops its backend gracefully. g must no longer be current.
func (c *controller) retire(g *generation, reason string) {
	if !g.drain(g.cfg.Process.ShutdownTimeLimit) {
		c.log.Warn("requests still in flight after shutdownTimeLimit; stopping the backend anyway",
			zap.Int64("in_flight", g.active.Load()), zap.String("reason", reason))
	}
	g.stop()
	<-g.done
	g.fwd.Close()
}

// configName is the base name of the web.config file to watch.
func configName(cfg *config.Config) string { return filepath.Base(cfg.File) }
