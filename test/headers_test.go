package test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// seenHeaders is what the fake's /headers reports.
type seenHeaders struct {
	Host   string
	Header http.Header
}

// rawExchange sends request over a new connection to addr, closing the
// sending side after it when halfClose is set, and reads one response.
// closed reports whether roost then closed the connection.
func rawExchange(t *testing.T, addr, request string, halfClose bool) (res *http.Response, body []byte, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		conn.(*net.TCPConn).CloseWrite()
	}
	br := bufio.NewReader(conn)
	res, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response to %.40q: %v", request, err)
	}
	body, err = io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	_, err = br.ReadByte()
	return res, body, errors.Is(err, io.EOF)
}

func decodeHeaders(t *testing.T, res *http.Response, body []byte) seenHeaders {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", res.StatusCode, body)
	}
	var got seenHeaders
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return got
}

// httpsRoost starts roost with an http and an https listener (HTTP/2)
// and extra args, and returns it with a client for the https one.
func httpsRoost(t *testing.T, app string, args ...string) (*roostRun, *http.Client, string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSigned(t, certFile, keyFile)
	r := startRoost(t, append([]string{"--listen", "https://127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, append(args, app)...)...)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return r, &http.Client{Transport: tr}, r.listenURL("https")
}

// TestRunUnderscoreTwins sends underscore spellings of the headers roost
// owns, over HTTP/1.1 and HTTP/2: none reaches the app; other underscore
// headers do.
func TestRunUnderscoreTwins(t *testing.T) {
	r, client, base := httpsRoost(t, fakeApp(t, ""))
	twins := []string{"MS_ASPNETCORE_TOKEN", "Ms_AspNetCore_Event", "X_Forwarded_For", "x_forwarded_proto", "X_Forwarded_Host", "Proxy_Authorization"}
	check := func(proto string, got seenHeaders) {
		for name, v := range got.Header {
			if k := strings.ToUpper(name); strings.Contains(name, "_") && (strings.HasPrefix(k, "MS_ASPNETCORE") ||
				slices.Contains([]string{"X_FORWARDED_FOR", "X_FORWARDED_PROTO", "X_FORWARDED_HOST", "PROXY_AUTHORIZATION"}, k)) {
				t.Errorf("%s: %s reached the app: %q", proto, name, v)
			}
		}
		if v := got.Header.Get("X_custom"); v != "kept" {
			t.Errorf("%s: X_Custom = %q, want kept", proto, v)
		}
	}

	var req strings.Builder
	req.WriteString("GET /headers HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\nX_Custom: kept\r\n")
	for _, name := range twins {
		req.WriteString(name + ": spoofed\r\n")
	}
	res, body, _ := rawExchange(t, r.addr, req.String()+"\r\n", false)
	check("HTTP/1.1", decodeHeaders(t, res, body))

	h2, err := http.NewRequest(http.MethodGet, base+"/headers", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(twins, "X_Custom") {
		h2.Header[name] = []string{"spoofed"}
	}
	h2.Header["X_Custom"] = []string{"kept"}
	res, body = doHTTP2(t, r, client, h2)
	check("HTTP/2", decodeHeaders(t, res, body))
}

// TestRunHTTP10WithoutHost: the app gets the address the client connected
// to as Host, never its own.
func TestRunHTTP10WithoutHost(t *testing.T) {
	r := startRoost(t, fakeApp(t, ""))
	res, body, _ := rawExchange(t, r.addr, "GET /headers HTTP/1.0\r\n\r\n", false)
	if got := decodeHeaders(t, res, body); got.Host != r.addr {
		t.Errorf("the app got Host %q, want %q (where the client connected)", got.Host, r.addr)
	}
}

// TestRunTrustedProxies checks what the app learns in X-Forwarded-For and
// X-Forwarded-Proto from a client that sent its own, trusted or not.
func TestRunTrustedProxies(t *testing.T) {
	tests := []struct {
		name             string
		args             []string
		wantXFF, wantXFP string
	}{
		{name: "none trusted", wantXFF: "127.0.0.1", wantXFP: "http"},
		{name: "client not trusted", args: []string{"--trusted-proxies", "10.0.0.0/8,::1"}, wantXFF: "127.0.0.1", wantXFP: "http"},
		{name: "client trusted", args: []string{"--trusted-proxies", "10.0.0.0/8", "--trusted-proxies", "127.0.0.1"},
			wantXFF: "203.0.113.7, 127.0.0.1", wantXFP: "https, http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRoost(t, append(tt.args, fakeApp(t, ""))...)
			res, body, _ := rawExchange(t, r.addr, "GET /headers HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n"+
				"X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: spoofed.example\r\n\r\n", false)
			got := decodeHeaders(t, res, body)
			if v := got.Header.Values("X-Forwarded-For"); !slices.Equal(v, []string{tt.wantXFF}) {
				t.Errorf("X-Forwarded-For = %q, want %q", v, tt.wantXFF)
			}
			if v := got.Header.Values("X-Forwarded-Proto"); !slices.Equal(v, []string{tt.wantXFP}) {
				t.Errorf("X-Forwarded-Proto = %q, want %q", v, tt.wantXFP)
			}
			if v := got.Header.Values("X-Forwarded-Host"); v != nil {
				t.Errorf("X-Forwarded-Host reached the app: %q", v)
			}
		})
	}
}

func TestRunTrustedProxiesInvalid(t *testing.T) {
	out, err := exec.Command(roostBin, "run", "--listen", "127.0.0.1:0", "--trusted-proxies", "10.0.0.0/33", fakeApp(t, "")).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `"10.0.0.0/33"`) {
		t.Errorf("roost run --trusted-proxies 10.0.0.0/33: %v, want exit code 2 naming the value\n%s", err, out)
	}
}

// TestRunMalformedBodies sends bodies the client botches: each is the
// client's error (400, 413 when too large), the connection is closed, and
// roost logs no error.
func TestRunMalformedBodies(t *testing.T) {
	app := fakeApp(t, "")
	config := filepath.Join(app, "web.config")
	os.WriteFile(config, []byte(strings.Replace(mustReadString(t, config), "</aspNetCore>",
		`</aspNetCore><security><requestFiltering><requestLimits maxAllowedContentLength="1000" /></requestFiltering></security>`, 1)), 0o644)
	r := startRoost(t, app)
	const chunked = "POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name       string
		request    string
		halfClose  bool
		wantStatus int
	}{
		{"bad chunk size", chunked + "zz\r\nhello\r\n0\r\n\r\n", false, 400},
		{"chunk longer than announced", chunked + "3\r\nhello\r\n0\r\n\r\n", false, 400},
		{"bad chunk terminator", chunked + "5\r\nhelloXX0\r\n\r\n", false, 400},
		{"chunked body over maxAllowedContentLength", chunked + "400\r\n" + strings.Repeat("x", 1024) + "\r\n0\r\n\r\n", false, 413},
		{"client closes mid-body", "POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", true, 400},
		{"client closes mid-chunk", chunked + "a\r\n01234", true, 400},
	}
	for _, tt := range tests {
		res, body, closed := rawExchange(t, r.addr, tt.request, tt.halfClose)
		if res.StatusCode != tt.wantStatus {
			t.Errorf("%s: status %d, want %d\n%s", tt.name, res.StatusCode, tt.wantStatus, body)
		}
		if !closed {
			t.Errorf("%s: the connection stayed open", tt.name)
		}
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if log := r.stderr(); strings.Contains(log, "\tERROR\t") || strings.Contains(log, "backend unreachable") {
		t.Errorf("roost logged an error for a client's malformed body:\n%s", log)
	}
}

// trailerReader is a request body that sets its request's trailer at its
// end, as a client computing a checksum while it sends does.
type trailerReader struct {
	io.Reader
	req     *http.Request
	trailer http.Header
}

func (r *trailerReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF {
		maps.Copy(r.req.Trailer, r.trailer)
	}
	return n, err
}

// TestRunRequestTrailers sends trailers over HTTP/1.1 (chunked) and
// HTTP/2: the app reads them after the body, without the fields that may
// not be trailers.
func TestRunRequestTrailers(t *testing.T) {
	r, client, base := httpsRoost(t, fakeApp(t, ""))
	type seen struct {
		Length  int64
		Trailer http.Header
	}
	check := func(proto string, res *http.Response, body []byte) {
		var got seen
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil {
			t.Fatalf("%s: status %d, body %q", proto, res.StatusCode, body)
		}
		maps.DeleteFunc(got.Trailer, func(_ string, v []string) bool { return len(v) == 0 })
		if want := (http.Header{"X-Checksum": {"abc"}}); got.Length != 11 || !maps.EqualFunc(got.Trailer, want, slices.Equal) {
			t.Errorf("%s: the app read %d bytes and trailer %v; want 11 and %v", proto, got.Length, got.Trailer, want)
		}
	}

	res, body, _ := rawExchange(t, r.addr, "POST /trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"+
		"Trailer: X-Checksum, Authorization, MS-ASPNETCORE-TOKEN\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n"+
		"X-Checksum: abc\r\nAuthorization: Basic c3Bvb2Y=\r\nMS-ASPNETCORE-TOKEN: spoofed\r\nX_Forwarded_For: 192.0.2.66\r\nContent-Length: 3\r\n\r\n", false)
	check("HTTP/1.1", res, body)

	req, err := http.NewRequest(http.MethodPost, base+"/trailers", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(&trailerReader{Reader: strings.NewReader("hello world"), req: req,
		trailer: http.Header{"X-Checksum": {"abc"}, "Ms-Aspnetcore-Token": {"spoofed"}}})
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Checksum": nil, "Ms-Aspnetcore-Token": nil}
	res, body = doHTTP2(t, r, client, req)
	check("HTTP/2", res, body)
}

// doHTTP2 sends req through roost with client, which must speak HTTP/2,
// and returns the response with its whole body.
func doHTTP2(t *testing.T, r *roostRun, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.stderr())
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Errorf("spoke %s, want HTTP/2", res.Proto)
	}
	return res, body
}
