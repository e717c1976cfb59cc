package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

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

// ListenError is a listener that could not be bound.
type ListenError struct {
	Flag   string // the flag that gave the address: --listen or --admin
	Listen Listen
	Err    error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Flag, e.Listen, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// OptionError is an Options value that cannot be used, such as an https
// listener without a certificate: a usage error, found before anything
// starts.
type OptionError struct{ Err error }

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Check reports what makes o unusable without looking at any file: an
// https listener with no --tls-cert or --tls-key, or TLS settings with no
// https listener to use them (a mistake that would otherwise serve plain
// HTTP where HTTPS was meant). Run checks it too.
func (o *Options) Check() error {
	https := false
	for _, l := range o.Listen {
		if l.TLS && (o.TLSCert == "" || o.TLSKey == "") {
			return fmt.Errorf("https listener %s needs --tls-cert and --tls-key", l)
		}
		https = https || l.TLS
	}
	if !https && (o.TLSCert != "" || o.TLSKey != "" || o.TLSClientCerts) {
		return errors.New("--tls-cert, --tls-key and --tls-client-certs are for https listeners, and none is given: add --listen https://HOST:PORT")
	}
	return nil
}

// loadTLS loads the certificate for the https listeners, if there are any.
func (o *Options) loadTLS() (*tls.Config, error) {
	if err := o.Check(); err != nil {
		return nil, &OptionError{err}
	}
	for _, l := range o.Listen {
		if !l.TLS {
			continue
		}
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, &OptionError{fmt.Errorf("load --tls-cert %s and --tls-key %s: %w", o.TLSCert, o.TLSKey, err)}
		}
		c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if o.TLSClientCerts {
			c.ClientAuth = tls.RequestClientCert
		}
		return c, nil
	}
	return nil, nil
}

// bind opens every listener, or none: a listener that cannot be bound is a
// *ListenError, and those already open are closed.
//
// With roost's own HTTP/1.x server (engine), accepted connections get no
// TCP keep-alive probes, which would cost three system calls per
// connection: idle connections are closed after idleTimeout, and the
// server turns probes on for the upgraded ones (WebSockets), which have
// no timeout. Go's server keeps Go's default (probes after 15 s).
func bind(specs []Listen, engine Engine) ([]net.Listener, error) {
	lc := net.ListenConfig{}
	if engine != EngineNetHTTP {
		lc.KeepAlive = -1
	}
	lns := make([]net.Listener, 0, len(specs))
	for _, l := range specs {
		ln, err := lc.Listen(context.Background(), "tcp", l.Addr)
		if err != nil {
			closeAll(lns)
			return nil, &ListenError{Flag: "--listen", Listen: l, Err: err}
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// listenURLs are the bound listeners, as URLs.
func listenURLs(specs []Listen, lns []net.Listener) []string {
	urls := make([]string, len(lns))
	for i, ln := range lns {
		urls[i] = Listen{Addr: ln.Addr().String(), TLS: specs[i].TLS}.String()
	}
	return urls
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
