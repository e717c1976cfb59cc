package forwarder

import (
	"encoding/base64"
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

// connectionKeeper is the proxy's RoundTripper: it saves the backend's
// Connection header under keptConnection when it is to be forwarded.
type connectionKeeper struct {
	rt   http.RoundTripper
	keep bool
}

func (c connectionKeeper) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.rt.RoundTrip(r)
	if err == nil && res.StatusCode != http.StatusSwitchingProtocols {
		res.Header.Del(keptConnection) // only from here, never from the backend
		v := res.Header.Get("Connection")
		if v == "" && res.Close {
			v = "close" // the Transport turns Connection: close into res.Close
		}
		if c.keep && v != "" {
			res.Header.Set(keptConnection, v)
		}
	}
	return res, err
}
