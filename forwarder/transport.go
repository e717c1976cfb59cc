package forwarder

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/roosthq/roost/config"
)

// newTransport returns the Transport to the backends: HTTP/1.1 only, a
// large pool of idle connections (the standard library's default of 2 per
// host collapses under concurrent load), no added Accept-Encoding and no
// transparent decompression, so bodies pass through untouched.
func newTransport(cfg config.Proxy) *http.Transport {
	dial := 30 * time.Second
	if cfg.RequestTimeout > 0 && cfg.RequestTimeout < dial {
		dial = cfg.RequestTimeout
	}
	return &http.Transport{
		Proxy:                  nil, // never an HTTP proxy between roost and its backend
		DialContext:            (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
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
