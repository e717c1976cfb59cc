package forwarder

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// loopback is what the tests trust when the client's X-Forwarded-* are to
// be appended to: the test client connects from loopback.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// twins are underscore spellings of headers roost sets or strips, as a
// client would send them to a CGI-style backend, which reads "_" as "-".
var twins = []string{
	"MS_ASPNETCORE_TOKEN", "ms_aspnetcore_clientcert", "Ms-AspNetCore_Event", "MS_ASPNETCORE-WINAUTHTOKEN",
	"X_Forwarded_For", "x_forwarded_proto", "X_FORWARDED_HOST", "X-Forwarded_For",
	"Proxy_Authorization", "Proxy_Connection", "Keep_Alive", "Transfer_Encoding", "Content_Length",
}

// roostHeaders are the field keys (lower case, "-" for "_") of the headers
// roost sets or strips, written out here rather than taken from the code
// under test.
var roostHeaders = []string{
	"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
	"proxy-authorization", "proxy-connection", "keep-alive", "transfer-encoding", "content-length",
	"connection", "proxy-authenticate", "te", "trailer", "upgrade", "http2-settings",
}

// wantNoTwins fails t for every twin sent that reached the backend, and
// for every header the backend got whose name, read with "_" as "-", is
// one roost owns or sets, but spelled with "_".
func wantNoTwins(t *testing.T, got http.Header) {
	t.Helper()
	for _, name := range twins {
		if v, ok := got[http.CanonicalHeaderKey(name)]; ok {
			t.Errorf("underscore twin %s reached the backend: %q", name, v)
		}
	}
	for name, v := range got {
		k := strings.ReplaceAll(strings.ToLower(name), "_", "-")
		if strings.Contains(name, "_") && (strings.HasPrefix(k, "ms-aspnetcore") || slices.Contains(roostHeaders, k)) {
			t.Errorf("underscore twin %s reached the backend: %q", name, v)
		}
	}
}

func TestUnderscoreTwinsDropped(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.fwd.trusted = loopback // even a trusted proxy's twins are dropped
	e.startBackend(echo)
	e.startFront()
	var req strings.Builder
	req.WriteString("GET /twins HTTP/1.1\r\nHost: x\r\n")
	for _, name := range twins {
		req.WriteString(name + ": spoofed\r\n")
	}
	req.WriteString("X_Custom_Header: kept\r\nAccept_Language: kept too\r\n\r\n")
	res, body := e.raw(req.String())
	got := decodeSeen(t, res, body)

	wantNoTwins(t, got.Header)
	want := map[string][]string{
		"Ms-Aspnetcore-Token": {"upstream-token"},
		"X-Forwarded-For":     {"127.0.0.1"},
		"X-Forwarded-Proto":   {"http"},
		"X_custom_header":     {"kept"}, // Go's canonical form of X_Custom_Header
		"Accept_language":     {"kept too"},
	}
	for name, v := range want {
		if !slices.Equal(got.Header[name], v) {
			t.Errorf("%s = %q, want %q", name, got.Header[name], v)
		}
	}
}

func TestUnderscoreTwinsDroppedHTTP2(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	e.startTLSFront(true)
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL+"/twins", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range twins {
		req.Header[name] = []string{"spoofed"}
	}
	req.Header["X_Custom_Header"] = []string{"kept"}
	res, body := e.do(req)
	if res.ProtoMajor != 2 {
		t.Fatalf("client spoke %s, want HTTP/2", res.Proto)
	}
	got := decodeSeen(t, res, body)
	wantNoTwins(t, got.Header)
	if v := got.Header["X_custom_header"]; !slices.Equal(v, []string{"kept"}) {
		t.Errorf("X_Custom_Header = %q, want [kept]", v)
	}
	if v := got.Header["Ms-Aspnetcore-Token"]; !slices.Equal(v, []string{"upstream-token"}) {
		t.Errorf("MS-ASPNETCORE-TOKEN = %q, want the pairing token", v)
	}
}

func TestForwardedHeadersTrust(t *testing.T) {
	tests := []struct {
		name     string
		trusted  []netip.Prefix
		xff, xfp string // what the client sends; "" for none
		wantXFF  string
		wantXFP  string
	}{
		{name: "no trusted proxies", xff: "203.0.113.7", xfp: "https", wantXFF: "127.0.0.1", wantXFP: "http"},
		{name: "client in a trusted network", trusted: loopback, xff: "203.0.113.7", xfp: "https",
			wantXFF: "203.0.113.7, 127.0.0.1", wantXFP: "https, http"},
		{name: "client is a trusted address", trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, xff: "203.0.113.7", xfp: "https",
			wantXFF: "203.0.113.7, 127.0.0.1", wantXFP: "https, http"},
		{name: "client outside the trusted networks", trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
			xff: "203.0.113.7", xfp: "https", wantXFF: "127.0.0.1", wantXFP: "http"},
		{name: "trusted client without forwarding headers", trusted: loopback, wantXFF: "127.0.0.1", wantXFP: "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			TrustedProxies(tt.trusted)(e.fwd)
			e.startBackend(echo)
			e.startFront()
			request := "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Host: spoofed.example\r\n"
			if tt.xff != "" {
				request += "X-Forwarded-For: " + tt.xff + "\r\nX-Forwarded-Proto: " + tt.xfp + "\r\n"
			}
			res, body := e.raw(request + "\r\n")
			got := decodeSeen(t, res, body)
			if v := got.Header["X-Forwarded-For"]; !slices.Equal(v, []string{tt.wantXFF}) {
				t.Errorf("X-Forwarded-For = %q, want %q", v, tt.wantXFF)
			}
			if v := got.Header["X-Forwarded-Proto"]; !slices.Equal(v, []string{tt.wantXFP}) {
				t.Errorf("X-Forwarded-Proto = %q, want %q", v, tt.wantXFP)
			}
			if v, ok := got.Header["X-Forwarded-Host"]; ok {
				t.Errorf("X-Forwarded-Host reached the backend: %q", v)
			}
		})
	}
}

func TestTrusted(t *testing.T) {
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("192.0.2.7/32")}
	tests := []struct {
		ip   string
		want bool
	}{
		{"10.1.2.3", true},
		{"11.0.0.1", false},
		{"192.0.2.7", true},
		{"192.0.2.8", false},
		{"::ffff:10.1.2.3", true}, // an IPv4 client of a dual-stack listener
		{"2001:db8::1", true},
		{"fe80::1%eth0", false},
		{"2001:db8::1%eth0", true}, // the zone does not hide the address
		{"not an address", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := trusted(prefixes, tt.ip); got != tt.want {
			t.Errorf("trusted(%q) = %v, want %v", tt.ip, got, tt.want)
		}
	}
	if trusted(nil, "127.0.0.1") {
		t.Error("trusted with no prefixes = true, want false")
	}
}

// An HTTP/1.0 client may send no Host: the backend gets the address the
// client connected to, never its own loopback address.
func TestHostOfHTTP10Request(t *testing.T) {
	tests := []struct {
		name    string
		request string
		want    string // "" for the front server's address
	}{
		{name: "HTTP/1.0 without Host", request: "GET /h HTTP/1.0\r\n\r\n"},
		{name: "HTTP/1.1 with an empty Host", request: "GET /h HTTP/1.1\r\nHost:\r\n\r\n"},
		{name: "HTTP/1.0 with Host", request: "GET /h HTTP/1.0\r\nHost: app.example\r\n\r\n", want: "app.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			e.startBackend(echo)
			e.startFront()
			want := tt.want
			if want == "" {
				want = e.front.Listener.Addr().String()
			}
			res, body := e.raw(tt.request)
			if got := decodeSeen(t, res, body); got.Host != want {
				t.Errorf("backend got Host %q, want %q (the backend is at %s)", got.Host, want, e.backend.Listener.Addr())
			}
		})
	}
}

func TestRequestHost(t *testing.T) {
	tests := []struct {
		host  string
		local net.Addr
		want  string
	}{
		{"app.example", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80}, "app.example"},
		{"", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8080}, "192.0.2.1:8080"},
		{"", &net.TCPAddr{IP: net.IPv6loopback, Port: 443}, "[::1]:443"},
		{"", nil, "localhost"},
	}
	for _, tt := range tests {
		if got := requestHost(tt.host, tt.local); got != tt.want {
			t.Errorf("requestHost(%q, %v) = %q, want %q", tt.host, tt.local, got, tt.want)
		}
	}
}

func TestOwnedAndTwins(t *testing.T) {
	tests := []struct {
		name        string
		owned, twin bool
	}{
		{name: "MS-ASPNETCORE-TOKEN", owned: true},
		{name: "ms-aspnetcore-event", owned: true},
		{name: "MS_ASPNETCORE_TOKEN", owned: true, twin: true},
		{name: "X-Forwarded-For", owned: true},
		{name: "x_forwarded_for", owned: true, twin: true},
		{name: "X-Forwarded_Proto", owned: true, twin: true},
		{name: "X_Forwarded_Host", owned: true, twin: true},
		{name: "Forwarded", owned: true},
		{name: "Transfer_Encoding", twin: true},
		{name: "Proxy_Authorization", twin: true},
		{name: "Content_Length", twin: true},
		{name: "Transfer-Encoding"}, // hop-by-hop: ReverseProxy's to strip, not a twin
		{name: "Te"},
		{name: "X_Custom"},
		{name: "Accept_Language"},
		{name: "X-Forwarded-Prefix"},
		{name: "X-Checksum"},
	}
	for _, tt := range tests {
		if got := owned(tt.name); got != tt.owned {
			t.Errorf("owned(%q) = %v, want %v", tt.name, got, tt.owned)
		}
		if got := twin(tt.name); got != tt.twin {
			t.Errorf("twin(%q) = %v, want %v", tt.name, got, tt.twin)
		}
	}
}
