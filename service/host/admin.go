package host

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// The admin listener (--admin) serves, apart from the app's listeners:
//
//	GET /metrics  Prometheus's text format (package metrics)
//	GET /healthz  200 while roost runs
//	GET /readyz   200 when a backend is ready and the app is not offline,
//	              else 503 with the reason
//	GET /status   Status, as JSON
//
// HEAD works as GET; other methods get 405, other paths 404.

// bindAdmin opens the admin listener at addr, or none when addr is "".
func bindAdmin(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Flag: "--admin", Listen: Listen{Addr: addr}, Err: err}
	}
	return ln, nil
}

// adminHandler serves the admin endpoints for c.
func (c *controller) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", c.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready, reason := c.readiness(); !ready {
			plain(w, http.StatusServiceUnavailable, reason)
			return
		}
		plain(w, http.StatusOK, "ready")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(c.status())
	})
	// Go's profiles (CPU, heap, goroutines), for finding where roost's
	// time and memory go in production: the admin listener is on
	// loopback unless --admin says otherwise.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// plain answers with status and one line of text.
func plain(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}

// adminServer is the admin listener at work, and its state file.
type adminServer struct {
	srv       *http.Server
	stateFile string // "" when it could not be written
	serving   sync.WaitGroup
	log       *zap.Logger
}

// serveAdmin serves c's admin endpoints on ln and writes the state file
// that `roost status` finds it by. It returns nil when ln is nil (no
// admin listener).
func serveAdmin(ln net.Listener, c *controller) *adminServer {
	if ln == nil {
		return nil
	}
	a := &adminServer{log: c.log, srv: &http.Server{
		Handler:           c.adminHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(c.log.Named("admin")),
	}}
	a.serving.Go(func() {
		if err := a.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("admin listener failed; /metrics, /healthz, /readyz and /status are gone", zap.Error(err))
		}
	})
	warnIfRunning(c)
	path, err := writeStateFile(stateFile{
		PID: os.Getpid(), Admin: dialAddr(ln.Addr()), AppDir: c.cfg.Load().Dir, StartedAt: c.info.started.UTC(),
	})
	if err != nil {
		c.log.Warn("cannot write the state file; roost status will not find this roost", zap.Error(err))
	}
	a.stateFile = path
	c.log.Info("admin listening", zap.String("url", c.info.admin), zap.String("state_file", path))
	return a
}

// warnIfRunning warns when another roost already runs c's app: both
// watch the folder and start backends, and roost status will show the
// last one started.
func warnIfRunning(c *controller) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if st, err := QueryStatus(ctx, c.cfg.Load().Dir); err == nil && st.Roost.PID != os.Getpid() {
		c.log.Warn("another roost runs this app; roost status will show this one", zap.Int("other_pid", st.Roost.PID))
	}
}

// close removes the state file and closes the admin listener.
func (a *adminServer) close() {
	if a == nil {
		return
	}
	if a.stateFile != "" {
		if err := removeStateFile(a.stateFile, os.Getpid()); err != nil {
			a.log.Warn("cannot remove the state file", zap.String("file", a.stateFile), zap.Error(err))
		}
	}
	a.srv.Close()
	a.serving.Wait()
}
