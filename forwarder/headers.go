package forwarder

import (
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"

	"github.com/roosthq/roost/config"
)

// The request header rules live in pure functions (rewriteHeader,
// requestHost, outTrailer, copyTrailers) so that any path to the backend
// applies the same ones; rewrite is the ReverseProxy's use of them.

// rewrite builds the request to the backend, with the headers ANCM sends:
//
//   - Host as the client sent it, or the address it connected to when it
//     sent none (requestHost);
//   - X-Forwarded-For, X-Forwarded-Proto, MS-ASPNETCORE-TOKEN and
//     MS-ASPNETCORE-CLIENTCERT as rewriteHeader sets them, every other
//     header roost owns dropped in any spelling;
//   - the trailer fields that may be trailers, once the body has ended
//     (see outTrailer);
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
	local, _ := pr.In.Context().Value(http.LocalAddrContextKey).(net.Addr)
	pr.Out.Host = requestHost(pr.In.Host, local)

	rewriteHeader(pr.Out.Header, pr.In.Header, f.clientOf(pr.In, st.token))

	pr.Out.Trailer = outTrailer(pr.In.Trailer)
	st.trailer = pr.Out.Trailer
	if len(pr.Out.Trailer) > 0 && pr.Out.ContentLength > 0 {
		// Only a chunked body carries trailers over HTTP/1.1: an HTTP/2
		// client's length gives way to them.
		pr.Out.ContentLength = -1
	}

	h := pr.Out.Header
	if strings.EqualFold(h.Get("Upgrade"), "h2c") {
		// A cleartext HTTP/2 upgrade is between the client and roost; the
		// backend speaks HTTP/1.1 with roost.
		h.Del("Upgrade")
		h.Del("Connection")
		h.Del("Http2-Settings")
	}
}

// client is what roost knows of where a request came from, which the
// backend is told in the headers roost owns.
type client struct {
	ip      string // the client's IP address; "" if unknown
	scheme  string // "http" or "https"
	trusted bool   // ip is a trusted proxy: its X-Forwarded-* are kept
	token   string // the pairing token for MS-ASPNETCORE-TOKEN; "" for none
	cert    []byte // the client's TLS certificate (DER), or nil
}

// clientOf describes r's client, with token as the pairing token when the
// app is an <aspNetCore> one.
func (f *Forwarder) clientOf(r *http.Request, token string) client {
	c := client{scheme: "http"}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c.ip = ip
		c.trusted = trusted(f.trusted, ip)
	}
	if r.TLS != nil {
		c.scheme = "https"
		if len(r.TLS.PeerCertificates) > 0 {
			c.cert = r.TLS.PeerCertificates[0].Raw
		}
	}
	if f.cfg.Kind == config.AspNetCore {
		c.token = token
	}
	return c
}

// trusted reports whether ip is in one of the prefixes.
func trusted(prefixes []netip.Prefix, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// rewriteHeader makes the header of a request ready for the backend. It
// reads in, the client's header, and changes out, the header to send,
// which may be in itself:
//
//   - every header roost owns (owned), and every underscore twin of a
//     header roost sets or strips (twin), is dropped;
//   - X-Forwarded-For gets c's IP and X-Forwarded-Proto c's scheme:
//     appended to the client's values when c is a trusted proxy, else
//     instead of them;
//   - MS-ASPNETCORE-TOKEN carries c's token and MS-ASPNETCORE-CLIENTCERT
//     its certificate (base64), when it has them.
//
// Every other header is left as it is.
func rewriteHeader(out, in http.Header, c client) {
	var xff, xfp []string
	if c.trusted {
		xff = append(xff, in.Values("X-Forwarded-For")...)
		xfp = append(xfp, in.Values("X-Forwarded-Proto")...)
	}
	for name := range out {
		if owned(name) || twin(name) {
			delete(out, name)
		}
	}
	if c.ip != "" {
		out.Set("X-Forwarded-For", appendList(xff, c.ip))
	}
	out.Set("X-Forwarded-Proto", appendList(xfp, c.scheme))
	if c.token != "" {
		out.Set("MS-ASPNETCORE-TOKEN", c.token)
	}
	if c.cert != nil {
		out.Set("MS-ASPNETCORE-CLIENTCERT", base64.StdEncoding.EncodeToString(c.cert))
	}
}

// A field key is a header name as a CGI-style backend (WSGI, PHP, Rack)
// knows it: ASCII case does not matter and "_" is read as "-", so that
// X_Forwarded_For and X-Forwarded-For are the same variable there. The
// rules below fold names into keys on the stack (foldKey), so that both
// front paths, net/http's with strings and roost's own with bytes, apply
// them without allocating.

// keyMax bounds the keys the tables below are looked up with: no name in
// them is longer, so a longer name is in none of them.
const keyMax = 32

// foldKey folds name into buf as a field key; ok is false when name is
// longer than keyMax, so that it names no field of the tables.
func foldKey[S ~string | ~[]byte](buf *[keyMax]byte, name S) (key []byte, ok bool) {
	if len(name) > keyMax {
		return nil, false
	}
	for i := 0; i < len(name); i++ {
		buf[i] = foldByte(name[i])
	}
	return buf[:len(name)], true
}

func foldByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	}
	return c
}

// ownedPrefix starts the names of the headers that are ANCM's to send
// (MS-ASPNETCORE-TOKEN, -CLIENTCERT, -EVENT, -WINAUTHTOKEN...), as a
// field key.
const ownedPrefix = "ms-aspnetcore"

// ownedNames are the field keys of the other headers roost owns: it sets
// the first two and never forwards the client's Forwarded or
// X-Forwarded-Host.
var ownedNames = map[string]bool{
	"x-forwarded-for":   true,
	"x-forwarded-proto": true,
	"x-forwarded-host":  true,
	"forwarded":         true,
}

// owned reports whether name, in any spelling, is a header that only roost
// may send to the backend: a client's is never forwarded as it is.
func owned[S ~string | ~[]byte](name S) bool {
	if len(name) >= len(ownedPrefix) {
		prefix := true
		for i := range len(ownedPrefix) {
			prefix = prefix && foldByte(name[i]) == ownedPrefix[i]
		}
		if prefix {
			return true
		}
	}
	var buf [keyMax]byte
	k, ok := foldKey(&buf, name)
	return ok && ownedNames[string(k)]
}

// twinned are the field keys of the headers, besides the owned ones, that
// roost sets or strips on the way to the backend: the hop-by-hop ones
// (hopFields), HTTP2-Settings, and the framing it writes itself.
var twinned = func() map[string]bool {
	m := maps.Clone(hopFields)
	m["http2-settings"] = true
	m["content-length"] = true
	return m
}()

// isTwinned reports whether name, in any spelling, is one of twinned.
func isTwinned[S ~string | ~[]byte](name S) bool {
	var buf [keyMax]byte
	k, ok := foldKey(&buf, name)
	return ok && twinned[string(k)]
}

// twin reports whether name is spelled with "_" and is, read as a CGI
// backend reads it, a header roost sets or strips: the backend would take
// it for the real one.
func twin[S ~string | ~[]byte](name S) bool {
	underscore := false
	for i := 0; i < len(name) && !underscore; i++ {
		underscore = name[i] == '_'
	}
	return underscore && (owned(name) || isTwinned(name))
}

// requestHost is the Host the backend gets: the client's, or, when the
// client sent none (HTTP/1.0 allows that), the address the client
// connected to, as IIS does. The backend's own loopback address is never
// sent: the app would build links to it.
func requestHost(host string, local net.Addr) string {
	switch {
	case host != "":
		return host
	case local != nil:
		return local.String()
	default:
		return "localhost"
	}
}

// notTrailers are the field keys of fields that must not come in a
// request's trailer section, by RFC 9110 section 6.5.1 (and the list RFC
// 7230 section 4.1.2 gave): framing, routing, request modifiers and
// conditionals, authentication, response controls and what describes the
// content; and cookies, which are credentials. A backend that merges
// trailers into the header would otherwise act on them after the fact.
var notTrailers = map[string]bool{
	"content-length": true, "transfer-encoding": true, "trailer": true, "host": true,
	"cache-control": true, "expect": true, "max-forwards": true, "pragma": true, "range": true,
	"if-match": true, "if-none-match": true, "if-modified-since": true, "if-unmodified-since": true, "if-range": true,
	"authorization": true, "proxy-authorization": true, "www-authenticate": true, "proxy-authenticate": true,
	"cookie": true, "set-cookie": true,
	"age": true, "date": true, "expires": true, "location": true, "retry-after": true, "vary": true, "warning": true,
	"content-encoding": true, "content-type": true, "content-range": true,
}

// trailerAllowed reports whether a request trailer field may be forwarded:
// not one that must not be a trailer, nor one roost owns or that is
// hop-by-hop, in any spelling.
func trailerAllowed[S ~string | ~[]byte](name S) bool {
	var buf [keyMax]byte
	k, ok := foldKey(&buf, name)
	return !(ok && (notTrailers[string(k)] || twinned[string(k)])) && !owned(name)
}

// outTrailer returns the trailer of the request to the backend: the
// fields the client announced that may be trailers, without values yet.
// copyTrailers fills it in when the client's body has ended. It is never
// nil, so that fields the client did not announce can be added too.
func outTrailer(announced http.Header) http.Header {
	out := make(http.Header, len(announced))
	for name := range announced {
		if trailerAllowed(name) {
			out[http.CanonicalHeaderKey(name)] = nil
		}
	}
	return out
}

// copyTrailers copies into out the fields of the client's trailer, in,
// that may be trailers, and removes from out those the client announced
// but did not send.
func copyTrailers(out, in http.Header) {
	for name, values := range in {
		if trailerAllowed(name) && len(values) > 0 {
			out[http.CanonicalHeaderKey(name)] = values
		}
	}
	for name, values := range out {
		if len(values) == 0 {
			delete(out, name)
		}
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
		st.unread = res.ContentLength
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
