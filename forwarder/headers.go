package forwarder

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/roosthq/roost/config"
)

// rewrite builds the request to the backend, with the headers ANCM sends:
//
//   - Host as the client sent it;
//   - X-Forwarded-For and X-Forwarded-Proto: the client's values with the
//     client's address and the scheme appended;
//   - MS-ASPNETCORE-* headers from the client removed; the pairing token in
//     MS-ASPNETCORE-TOKEN (for <aspNetCore>) and the client's TLS
//     certificate in MS-ASPNETCORE-CLIENTCERT added;
//   - no Upgrade: h2c.
//
// ReverseProxy has already removed hop-by-hop headers and the client's
// forwarding headers from Out. It keeps the path as sent, but drops query
// parameters it cannot parse (with ";" or a bad escape), so the query is
// put back as the client sent it, as ANCM does.
func (f *Forwarder) rewrite(pr *httputil.ProxyRequest) {
	st := stateOf(pr.In)
	pr.Out.URL.RawQuery = pr.In.URL.RawQuery
	pr.SetURL(st.target)
	pr.Out.Host = pr.In.Host

	h := pr.Out.Header
	for name := range h {
		if len(name) >= len("Ms-Aspnetcore") && strings.EqualFold(name[:len("Ms-Aspnetcore")], "Ms-Aspnetcore") {
			delete(h, name)
		}
	}
	if f.cfg.Kind == config.AspNetCore && st.token != "" {
		h.Set("MS-ASPNETCORE-TOKEN", st.token)
	}
	if tls := pr.In.TLS; tls != nil && len(tls.PeerCertificates) > 0 {
		h.Set("MS-ASPNETCORE-CLIENTCERT", base64.StdEncoding.EncodeToString(tls.PeerCertificates[0].Raw))
	}

	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		h.Set("X-Forwarded-For", appendList(pr.In.Header.Values("X-Forwarded-For"), ip))
	}
	scheme := "http"
	if pr.In.TLS != nil {
		scheme = "https"
	}
	h.Set("X-Forwarded-Proto", appendList(pr.In.Header.Values("X-Forwarded-Proto"), scheme))

	if strings.EqualFold(h.Get("Upgrade"), "h2c") {
		// A cleartext HTTP/2 upgrade is between the client and roost; the
		// backend speaks HTTP/1.1 with roost.
		h.Del("Upgrade")
		h.Del("Connection")
		h.Del("Http2-Settings")
	}
}

// appendList joins the values of a list header and adds v at the end.
func appendList(prior []string, v string) string {
	if len(prior) == 0 {
		return v
	}
	return strings.Join(prior, ", ") + ", " + v
}

// modifyResponse runs on the backend's response before it is copied: the
// body counts as activity for requestTimeout, and an upgraded connection
// (a WebSocket) is no longer bound by it.
func (f *Forwarder) modifyResponse(res *http.Response) error {
	st := stateOf(res.Request)
	if res.StatusCode == http.StatusSwitchingProtocols {
		st.stopIdle()
		return nil
	}
	st.active()
	if res.Body != nil && res.Body != http.NoBody {
		res.Body = &backendBody{ReadCloser: res.Body, st: st}
		st.hasBody = res.ContentLength != 0
	}
	if v := res.Header.Get(keptConnection); v != "" {
		res.Header.Del(keptConnection)
		res.Header.Set("Connection", v)
	}
	return nil
}

// keptConnection carries the backend's Connection response header past
// ReverseProxy, which removes Connection as hop-by-hop, when
// forwardResponseConnectionHeader asks for it.
const keptConnection = "X-Roost-Backend-Connection"

// backendTransport is the proxy's RoundTripper. It retries once, with a
// backend acquired anew, a request that failed before any answer because
// the backend went away (the connection was refused, closed or reset):
// the backend has most likely just exited, before the supervisor noticed.
// Only a request that cannot be harmed by a second delivery is sent again:
// none of it was sent (no connection was ever obtained), or it is one HTTP
// lets a client replay (GET, HEAD, OPTIONS or TRACE without a body), as
// nginx's proxy_next_upstream does. It also saves the backend's Connection
// header under keptConnection when that is to be forwarded.
type backendTransport struct{ f *Forwarder }

// retryable reports whether the failed r may go to another backend.
func retryable(r *http.Request, st *requestState, err error) bool {
	if st.retried || r.Context().Err() != nil || (st.body != nil && st.body.used.Load()) {
		return false
	}
	var opErr *net.OpError
	refused := errors.As(err, &opErr) && opErr.Op == "dial"
	return refused && !st.gotConn.Load() || replayable(r)
}

func (t backendTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.f.transport.RoundTrip(r)
	if st := stateOf(r); err != nil && retryable(r, st, err) {
		st.retried = true
		t.f.up.Unreachable(st.target)
		target, token, release, aerr := t.f.up.Acquire(r.Context())
		if aerr != nil {
			return nil, &acquireError{aerr}
		}
		st.release()
		st.target, st.token, st.release = target, token, release
		r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		if st.body != nil {
			// The Transport closed the proxy's wrapper of the unread body.
			r.Body = io.NopCloser(st.body)
		}
		if t.f.cfg.Kind == config.AspNetCore && token != "" {
			r.Header.Set("MS-ASPNETCORE-TOKEN", token)
		}
		res, err = t.f.transport.RoundTrip(r)
	}
	if err == nil && res.StatusCode != http.StatusSwitchingProtocols {
		res.Header.Del(keptConnection) // only from here, never from the backend
		v := res.Header.Get("Connection")
		if v == "" && res.Close {
			v = "close" // the Transport turns Connection: close into res.Close
		}
		if t.f.cfg.ForwardResponseConnectionHeader && v != "" {
			res.Header.Set(keptConnection, v)
		}
	}
	return res, err
}

// replayable reports whether r may be sent twice, by the rule of Go's
// Transport: an idempotent method and no body.
func replayable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return r.Body == nil || r.Body == http.NoBody
	}
	return false
}

// acquireError is an Upstream's error on the retry of a refused
// connection; it is answered like a first Acquire's error.
type acquireError struct{ err error }

func (e *acquireError) Error() string { return e.err.Error() }
func (e *acquireError) Unwrap() error { return e.err }
