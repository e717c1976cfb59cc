package forwarder

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/roosthq/roost/config"
)

// newTransport returns the Transport to the backends: HTTP/1.1 only, a
// large pool of idle connections (the standard library's default of 2 per
// host collapses under concurrent load), no added Accept-Encoding and no
// transparent decompression, so bodies pass through untouched.
func newTransport(cfg config.Proxy) *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout(cfg), KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil, // never an HTTP proxy between roost and its backend
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &backendConn{Conn: c}, nil
		},
		ForceAttemptHTTP2:      false,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConns:           0, // no limit across hosts
		MaxIdleConnsPerHost:    1024,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10, // as ANCM
		WriteBufferSize:        32 << 10,
		ReadBufferSize:         32 << 10,
	}
}

// dialTimeout bounds a connection to a backend: 30 s, or requestTimeout
// when it is shorter.
func dialTimeout(cfg config.Proxy) time.Duration {
	dial := 30 * time.Second
	if cfg.RequestTimeout > 0 && cfg.RequestTimeout < dial {
		dial = cfg.RequestTimeout
	}
	return dial
}

// backendConn is a connection to a backend that can tell a request when
// reading its response has to wait for the network: the Transport reads
// from the connection only once what it has buffered is used up, so a
// Read here during the read of a body means the rest of the body is not
// here yet. The request then sends what it has written to the client
// first (see clientWriter).
type backendConn struct {
	net.Conn

	// beforeWait, when set, is called before every read from the
	// network; backendBody sets it for the reads of a body only, on the
	// handler's goroutine.
	beforeWait atomic.Pointer[func()]
}

func (c *backendConn) Read(p []byte) (int, error) {
	if f := c.beforeWait.Load(); f != nil {
		(*f)()
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection, as ReverseProxy's copier of an
// upgraded connection (a WebSocket) does once one side has ended.
func (c *backendConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
