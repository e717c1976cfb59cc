package forwarder

import (
	"bufio"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"slices"
	"strings"
	"testing"
)

// FuzzRewriteHeader checks rewriteHeader on any header set: no header
// roost owns survives in any spelling except the ones it sets, with its
// values; every other header passes unchanged; rewriting in place gives
// the same header. Where net/http can parse the header, it also checks
// rewriteHeader under ReverseProxy against net/http's own forwarding
// (SetXForwarded): roost forwards every header net/http does unless roost
// owns it, and nothing net/http strips.
//
// Each line of raw is one "name: value" field.
func FuzzRewriteHeader(f *testing.F) {
	f.Add("X-Forwarded-For: 203.0.113.7\nX-Forwarded-Proto: https\nUser-Agent: x", true, false)
	f.Add("MS_ASPNETCORE_TOKEN: spoofed\nms-aspnetcore-event: shutdown\nX_Forwarded_For: 1.2.3.4\nX_Custom: kept", false, true)
	f.Add("x-forwarded-for: lower\nX-FORWARDED-PROTO: upper\nForwarded: for=192.0.2.1\nX-Forwarded-Host: h", true, true)
	f.Add("Connection: keep-alive, X-Hop\nX-Hop: 1\nTe: trailers, gzip\nProxy_Authorization: p\nKeep_Alive: 5", false, false)
	f.Add("Upgrade: websocket\nConnection: Upgrade\nContent_Length: 3\nTransfer_Encoding: chunked\nAccept_Language: en", true, false)
	f.Add("X-Forwarded-For: \nX-Forwarded-For: a\nMs-AspNetCore_ClientCert: c", true, true)
	f.Fuzz(func(t *testing.T, raw string, isTrusted, isTLS bool) {
		c := client{ip: "192.0.2.1", scheme: "http", trusted: isTrusted, token: "pairing"}
		if isTLS {
			c.scheme, c.cert = "https", []byte("certificate")
		}
		in := parseFields(raw)
		checkRewrite(t, in, c)
		if req, ok := parseRequest(raw); ok {
			checkAgainstNetHTTP(t, req, c)
		}
	})
}

// parseFields reads raw's "name: value" lines into a header, keeping each
// name as written (not canonical).
func parseFields(raw string) http.Header {
	h := http.Header{}
	for line := range strings.SplitSeq(raw, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok {
			h[name] = append(h[name], strings.TrimLeft(value, " "))
		}
	}
	return h
}

// parseRequest parses a request with raw's lines as its header, as roost's
// front server does; ok is false when net/http refuses it.
func parseRequest(raw string) (*http.Request, bool) {
	text := "GET / HTTP/1.1\r\nHost: app.example\r\n" + strings.ReplaceAll(raw, "\n", "\r\n") + "\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(text)))
	if err != nil || strings.Contains(raw, "\r") {
		return nil, false
	}
	return req, true
}

// fieldKeyOracle reads name as CGI does, written apart from fieldKey.
func fieldKeyOracle(name string) string {
	b := []byte(name)
	for i, ch := range b {
		if ch == '_' {
			b[i] = '-'
		} else if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 32
		}
	}
	return string(b)
}

// roostOwns reports whether name, in any spelling, is one roost owns, or
// an underscore twin of one it sets or strips: the written-out rule.
func roostOwns(name string) bool {
	k := fieldKeyOracle(name)
	switch {
	case strings.HasPrefix(k, "ms-aspnetcore"), slices.Contains([]string{"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded"}, k):
		return true
	}
	return strings.Contains(name, "_") && slices.Contains(roostHeaders, k)
}

// roostSets are the headers roost sets, with their values for c and the
// client's header in.
func roostSets(in http.Header, c client) http.Header {
	var xff, xfp []string
	if c.trusted {
		xff, xfp = slices.Clone(in["X-Forwarded-For"]), slices.Clone(in["X-Forwarded-Proto"])
	}
	want := http.Header{
		"X-Forwarded-For":     {strings.Join(append(xff, c.ip), ", ")},
		"X-Forwarded-Proto":   {strings.Join(append(xfp, c.scheme), ", ")},
		"Ms-Aspnetcore-Token": {c.token},
	}
	if c.cert != nil {
		want["Ms-Aspnetcore-Clientcert"] = []string{base64.StdEncoding.EncodeToString(c.cert)}
	}
	return want
}

func checkRewrite(t *testing.T, in http.Header, c client) {
	out := in.Clone()
	rewriteHeader(out, in, c)
	sets := roostSets(in, c)
	for name, v := range out {
		if want, set := sets[name]; set {
			if !slices.Equal(v, want) {
				t.Errorf("%s = %q, want %q", name, v, want)
			}
		} else if roostOwns(name) {
			t.Errorf("%s survived: %q", name, v)
		}
	}
	for name := range sets {
		if _, ok := out[name]; !ok {
			t.Errorf("%s not set", name)
		}
	}
	for name, v := range in {
		if !roostOwns(name) && !slices.Equal(out[name], v) {
			t.Errorf("%s changed: %q, sent %q", name, out[name], v)
		}
	}
	inPlace := in.Clone()
	rewriteHeader(inPlace, inPlace, c)
	if !equalHeader(inPlace, out) {
		t.Errorf("rewritten in place: %v; into a copy: %v", inPlace, out)
	}
}

// checkAgainstNetHTTP sends req through ReverseProxy twice, with roost's
// header rules and with net/http's SetXForwarded, and compares what would
// reach the backend.
func checkAgainstNetHTTP(t *testing.T, req *http.Request, c client) {
	req.RemoteAddr = c.ip + ":1234"
	roost := proxied(req, func(pr *httputil.ProxyRequest) { rewriteHeader(pr.Out.Header, pr.In.Header, c) })
	net := proxied(req, func(pr *httputil.ProxyRequest) { pr.SetXForwarded() })
	if roost == nil || net == nil {
		return // ReverseProxy refused the request (an unprintable Upgrade)
	}
	sets := roostSets(req.Header, c)
	for name, v := range net {
		if !roostOwns(name) && !slices.Equal(roost[name], v) {
			t.Errorf("%s: roost forwards %q, net/http %q", name, roost[name], v)
		}
	}
	for name, v := range roost {
		if _, ok := net[name]; !ok && sets[name] == nil {
			t.Errorf("roost forwards %s (%q), which net/http strips", name, v)
		}
	}
}

// proxied returns the header that ReverseProxy, with rewrite, sends for
// req, or nil if it sends nothing.
func proxied(req *http.Request, rewrite func(*httputil.ProxyRequest)) http.Header {
	var got http.Header
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "backend.invalid"
			rewrite(pr)
		},
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.Header.Clone()
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		}),
		ErrorHandler: func(http.ResponseWriter, *http.Request, error) {},
	}
	in := req.Clone(req.Context())
	in.Header = req.Header.Clone()
	rp.ServeHTTP(httptest.NewRecorder(), in)
	return got
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
