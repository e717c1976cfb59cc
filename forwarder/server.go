package forwarder

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Server is roost's own HTTP/1.x server: it reads every request of an
// HTTP/1.x connection, plain or TLS with ALPN http/1.1, with package
// http1's strict parser, and forwards it to the Forwarder its Dispatcher
// picks, on one goroutine per connection. A TLS connection that
// negotiates h2 goes to net/http's server instead, with H2Handler.
type Server struct {
	d    Dispatcher
	opts ServerOptions
	h2   *http.Server // serves the connections that negotiate h2
	h2ln *connListener

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*clientConn]struct{}
	draining  atomic.Bool
	closed    chan struct{} // closed by Close: nothing waits any more
	closeOnce sync.Once
	connWG    sync.WaitGroup
	h2Serving sync.WaitGroup
}

// Dispatcher picks, for each request, the Forwarder that serves it.
type Dispatcher interface {
	// Dispatch returns the Forwarder for one request and the Lease to end
	// when the request is done. When no Forwarder takes requests, fwd is
	// nil and offline is the page to answer with while the app is offline
	// (app_offline.htm), or nil while roost stops.
	Dispatch() (fwd *Forwarder, lease Lease, offline []byte)
}

// Lease is a request's hold on what served it.
type Lease interface{ Leave() }

// ServerOptions are a Server's limits and timeouts.
type ServerOptions struct {
	// ReadHeaderTimeout bounds the time from a request's first byte to the
	// end of its head.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request head (431 beyond it).
	MaxHeaderBytes int
	// H2Handler serves the requests of connections that negotiate h2.
	H2Handler http.Handler
	Logger    *zap.Logger
	// Observer, when set, is told of every request and WebSocket (see
	// Observer); wrap H2Handler with Observed for HTTP/2's.
	Observer Observer
}

// NewServer returns a Server that sends each request where d says.
func NewServer(d Dispatcher, opts ServerOptions) *Server {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s := &Server{d: d, opts: opts, listeners: make(map[net.Listener]struct{}), conns: make(map[*clientConn]struct{}), closed: make(chan struct{})}
	s.h2ln = newConnListener()
	s.h2 = &http.Server{
		Handler:           opts.H2Handler,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          zap.NewStdLog(opts.Logger.Named("http2")),
		Protocols:         new(http.Protocols),
	}
	s.h2.Protocols.SetHTTP2(true)
	s.h2Serving.Go(func() { s.h2.Serve(s.h2ln) })
	s.h2Serving.Go(s.watchLoop)
	return s
}

// Serve accepts connections on ln until Shutdown or Close, serving them
// over TLS with tlsConfig when it is not nil. It returns
// http.ErrServerClosed after Shutdown or Close, or the error that stopped
// the listener.
func (s *Server) Serve(ln net.Listener, tlsConfig *tls.Config) error {
	if tlsConfig != nil {
		tlsConfig = tlsConfig.Clone()
		tlsConfig.NextProtos = []string{"h2", "http/1.1"}
	}
	if !s.track(ln, true) {
		return http.ErrServerClosed
	}
	defer s.track(ln, false)
	var delay time.Duration // after a temporary Accept error, as net/http
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.draining.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.opts.Logger.Warn("accept failed; retrying", zap.Error(err), zap.Duration("delay", delay))
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		cc := newClientConn(s, nc)
		if !s.trackConn(cc, true) {
			nc.Close()
			continue
		}
		go cc.run(tlsConfig)
	}
}

func (s *Server) track(ln net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.draining.Load() {
			return false
		}
		s.listeners[ln] = struct{}{}
	} else {
		delete(s.listeners, ln)
	}
	return true
}

func (s *Server) trackConn(cc *clientConn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.draining.Load() {
			return false
		}
		s.conns[cc] = struct{}{}
		s.connWG.Add(1)
	} else {
		delete(s.conns, cc)
		s.connWG.Done()
	}
	return true
}

// Shutdown stops roost's HTTP/1.x serving gracefully: the listeners
// close, idle connections close at once, and each connection closes after
// the request it is serving (whose response says Connection: close). If
// ctx ends first, the connections left are closed and ctx's error is
// returned. HTTP/2 connections are shut down by net/http's server alike.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	h2err := make(chan error, 1)
	go func() { h2err <- s.h2.Shutdown(ctx) }()
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			s.closeOnce.Do(func() { close(s.closed) })
			return <-h2err
		case <-ctx.Done():
			s.Close()
			<-h2err
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.closeListeners()
	s.h2.Close()
	s.mu.Lock()
	for cc := range s.conns {
		cc.nc.Close()
		cc.cancel() // a request held in Acquire ends too
	}
	s.mu.Unlock()
	s.connWG.Wait()
	s.h2Serving.Wait()
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
	s.h2ln.Close()
}

// closeIdle closes the connections that wait for a request: a request
// whose first byte arrives after this is refused by the closed connection,
// which an HTTP client retries on a new one.
func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cc := range s.conns {
		cc.closeIfIdle()
	}
}

// connListener is the listener of net/http's server for the connections
// that negotiated h2: Serve hands them over through it.
type connListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener() *connListener {
	return &connListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// hand gives c to net/http's server; it reports false, and c is the
// caller's to close, once the listener is closed.
func (l *connListener) hand(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return &net.TCPAddr{} }

var _ net.Listener = (*connListener)(nil)

// serveTLS completes c's TLS handshake within the read header timeout,
// then serves it: HTTP/2 through net/http's server, HTTP/1.x here.
func (cc *clientConn) serveTLS(tlsConfig *tls.Config) {
	tc := tls.Server(cc.nc, tlsConfig)
	cc.nc = tc
	tc.SetDeadline(time.Now().Add(cc.srv.opts.ReadHeaderTimeout))
	if err := tc.Handshake(); err != nil {
		if ce := cc.srv.opts.Logger.Check(zap.DebugLevel, "TLS handshake failed"); ce != nil {
			ce.Write(zap.String("remote", cc.remote), zap.Error(err))
		}
		return
	}
	tc.SetDeadline(time.Time{})
	state := tc.ConnectionState()
	if state.NegotiatedProtocol == "h2" {
		if cc.srv.h2ln.hand(tc) {
			cc.handedOff = true
		}
		return
	}
	cc.tls = &state
	cc.serve()
}

// scheme is "https" for a TLS connection, else "http".
func (cc *clientConn) scheme() string {
	if cc.tls != nil {
		return "https"
	}
	return "http"
}

// peerCert is the client's TLS certificate (DER), or nil.
func (cc *clientConn) peerCert() []byte {
	if cc.tls == nil || len(cc.tls.PeerCertificates) == 0 {
		return nil
	}
	return slices.Clip(cc.tls.PeerCertificates[0].Raw)
}
