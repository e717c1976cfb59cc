package test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roosthq/roost/test/fakebackend"
	"github.com/roosthq/roost/test/testenv"
)

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left)
	for i := range b[:n] {
		b[i] = byte('a' + (p.left-int64(i))%26)
	}
	p.left -= n
	return int(n), nil
}

// TestRunStreamsLargeBodies sends 100 MB up and 100 MB down through roost
// and checks that they arrive intact and that roost's memory does not grow
// with them: bodies are streamed, never buffered whole.
func TestRunStreamsLargeBodies(t *testing.T) {
	const size = 100 << 20
	// maxAllowedContentLength defaults to 30000000: raise it for this test.
	app := fakeApp(t, "", "X", "1")
	os.WriteFile(filepath.Join(app, "web.config"), []byte(strings.Replace(mustReadString(t, filepath.Join(app, "web.config")),
		"</aspNetCore>", "</aspNetCore><security><requestFiltering><requestLimits maxAllowedContentLength=\"4294967295\" /></requestFiltering></security>", 1)), 0o644)
	r := startRoost(t, app)
	r.get("/pid")
	before, memErr := testenv.PeakMemoryKiB(r.cmd.Process.Pid)

	want := sha256.New()
	io.Copy(want, &patternReader{left: size})
	resp, err := http.Post(r.url("/sha256"), "application/octet-stream", &patternReader{left: size})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(body); got != fmt.Sprintf("%x %d", want.Sum(nil), size) {
		t.Errorf("upload arrived as %q", got)
	}

	resp, err = http.Get(r.url("/bytes?n=" + strconv.Itoa(size)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size {
		t.Errorf("download: %d bytes, %v; want %d", n, err, size)
	}

	after, err := testenv.PeakMemoryKiB(r.cmd.Process.Pid)
	switch {
	case memErr != nil || err != nil:
		t.Logf("roost's memory is not measured here (%v, %v): only the bodies were checked", memErr, err)
	case after-before > 32<<10:
		t.Errorf("roost's peak memory grew by %d KiB moving 200 MB; bodies must stream", after-before)
	}
}

func mustReadString(t *testing.T, path string) string {
	t.Helper()
	return string(mustRead(t, path))
}

func TestRunRequestLimitAndTimeout(t *testing.T) {
	app := fakeApp(t, `requestTimeout="00:00:01"`, "X", "1")
	os.WriteFile(filepath.Join(app, "web.config"), []byte(strings.Replace(mustReadString(t, filepath.Join(app, "web.config")),
		"</aspNetCore>", "</aspNetCore><security><requestFiltering><requestLimits maxAllowedContentLength=\"1000\" /></requestFiltering></security>", 1)), 0o644)
	r := startRoost(t, app)

	resp, err := http.Post(r.url("/sha256"), "text/plain", strings.NewReader(strings.Repeat("x", 1001)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "HTTP Error 413") {
		t.Errorf("body over the limit: status %d, body %q", resp.StatusCode, body)
	}

	resp, body2 := r.get("/slow?ms=3000")
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body2, "HTTP Error 504 - Gateway Timeout") {
		t.Errorf("silent backend: status %d, body %q; want the 504 page", resp.StatusCode, body2)
	}
}

// TestRunHTTPS serves https with HTTP/2 and checks what the backend learns
// of it: X-Forwarded-Proto and ASPNETCORE_ANCM_HTTPS_PORT.
func TestRunHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSigned(t, certFile, keyFile)
	clientCertFile, clientKeyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writeSelfSigned(t, clientCertFile, clientKeyFile)
	clientCert, err := tls.LoadX509KeyPair(clientCertFile, clientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	r := startRoost(t, "--listen", "https://127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-certs", fakeApp(t, "", "X", "1"))
	addr := strings.TrimPrefix(r.listenURL("https"), "https://")
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()

	resp, err := client.Get("https://" + addr + "/headers")
	if err != nil {
		t.Fatalf("%v\n%s", err, r.stderr())
	}
	var got struct{ Header http.Header }
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2 over TLS", resp.Proto)
	}
	if got.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("X-Forwarded-Proto = %q, want https", got.Header.Get("X-Forwarded-Proto"))
	}
	if want := base64.StdEncoding.EncodeToString(clientCert.Certificate[0]); got.Header.Get("Ms-Aspnetcore-Clientcert") != want {
		t.Errorf("MS-ASPNETCORE-CLIENTCERT = %q, want the client certificate", got.Header.Get("Ms-Aspnetcore-Clientcert"))
	}
	resp, err = client.Get("https://" + addr + "/env")
	if err != nil {
		t.Fatal(err)
	}
	var report fakebackend.Report
	json.NewDecoder(resp.Body).Decode(&report)
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(addr)
	if !slices.Contains(report.Env, "ASPNETCORE_ANCM_HTTPS_PORT="+port) {
		t.Errorf("ASPNETCORE_ANCM_HTTPS_PORT=%s not in the backend's environment", port)
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 and its key, and
// returns a pool that trusts it.
func writeSelfSigned(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "roost test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// goHTTPBin returns the path of go-httpbin, a backend none of us wrote,
// installing the pinned version when it is not on PATH.
var goHTTPBin = sync.OnceValues(func() (string, error) {
	if p, err := exec.LookPath("go-httpbin"); err == nil {
		return p, nil
	}
	dir, err := os.MkdirTemp("", "roost-httpbin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "install", "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0")
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install go-httpbin: %v\n%s", err, out)
	}
	return filepath.Join(dir, "go-httpbin"), nil
})

func httpbinApp(t *testing.T, attrs string) string {
	t.Helper()
	bin, err := goHTTPBin()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("go-httpbin not available: %v", err)
	}
	return writeApp(t, fmt.Sprintf(`<configuration><system.webServer>
<httpPlatform processPath=%q %s>
<environmentVariables><environmentVariable name="HOST" value="127.0.0.1" /></environmentVariables>
</httpPlatform>
</system.webServer></configuration>`, bin, attrs))
}

func TestRunGoHTTPBin(t *testing.T) {
	r := startRoost(t, httpbinApp(t, ""))

	t.Run("request as the backend sees it", func(t *testing.T) {
		req, _ := http.NewRequest("GET", r.url("/anything/a%2Fb?q=%3F"), nil)
		req.Host = "app.example"
		req.Header.Set("MS-ASPNETCORE-EVENT", "shutdown")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			URL     string
			Headers map[string][]string
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		h := http.Header(got.Headers)
		if h.Get("Host") != "app.example" && !strings.Contains(got.URL, "app.example") {
			t.Errorf("Host not preserved: url %q, headers %v", got.URL, got.Headers)
		}
		if !strings.Contains(got.URL, "/anything/a%2Fb?q=%3F") {
			t.Errorf("URL = %q, want the path and query as sent", got.URL)
		}
		if h.Get("X-Forwarded-For") != "127.0.0.1" || h.Get("X-Forwarded-Proto") != "http" {
			t.Errorf("forwarding headers: %v", got.Headers)
		}
		if h.Get("Ms-Aspnetcore-Event") != "" || h.Get("Ms-Aspnetcore-Token") != "" {
			t.Errorf("MS-ASPNETCORE-* headers reached an httpPlatform backend: %v", got.Headers)
		}
	})

	t.Run("server-sent events arrive one by one", func(t *testing.T) {
		start := time.Now()
		resp, err := http.Get(r.url("/sse?count=3&duration=3s"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("no event: %v", err)
			}
			if strings.HasPrefix(line, "data:") {
				break
			}
		}
		if first := time.Since(start); first > 2*time.Second {
			t.Errorf("first event after %v of a 3 s stream: buffered, not streamed", first)
		}
		io.Copy(io.Discard, br)
	})

	t.Run("trailers", func(t *testing.T) {
		resp, err := http.Get(r.url("/trailers?X-Roost-Trailer=yes"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Trailer.Get("X-Roost-Trailer") != "yes" {
			t.Errorf("trailers = %v", resp.Trailer)
		}
	})

	t.Run("100-continue", func(t *testing.T) {
		got100 := false
		trace := &httptrace.ClientTrace{Got100Continue: func() { got100 = true }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "POST", r.url("/post"), strings.NewReader("payload"))
		req.Header.Set("Expect", "100-continue")
		tr := &http.Transport{ExpectContinueTimeout: 5 * time.Second}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// go-httpbin echoes the body as base64: "payload" is cGF5bG9hZA==.
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "cGF5bG9hZA==") || !got100 {
			t.Errorf("status %d, 100 Continue received %v, body %s", resp.StatusCode, got100, body)
		}
	})

	t.Run("websocket echo", func(t *testing.T) {
		conn, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(conn, "GET /websocket/echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", r.addr)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		msg := []byte("hello through roost")
		mask := []byte{1, 2, 3, 4}
		frame := []byte{0x81, 0x80 | byte(len(msg))}
		frame = append(frame, mask...)
		for i, b := range msg {
			frame = append(frame, b^mask[i%4])
		}
		conn.Write(frame)
		head := make([]byte, 2)
		if _, err := io.ReadFull(br, head); err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, head[1]&0x7f)
		io.ReadFull(br, payload)
		if head[0] != 0x81 || string(payload) != string(msg) {
			t.Errorf("echo frame %x %q, want a text frame %q", head, payload, msg)
		}
	})
}

// A response with a Content-Length is not held back: its headers arrive at
// once and its bytes as the backend sends them (go-httpbin's /drip sends
// 4 bytes over 2 s, one every 0.5 s, the first after 0.5 s), over HTTP/1.1
// and HTTP/2.
func TestRunDripArrivesAsSent(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSigned(t, certFile, keyFile)
	r := startRoost(t, "--listen", "127.0.0.1:0", "--listen", "https://127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile, httpbinApp(t, ""))
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer h2.CloseIdleConnections()
	for _, tt := range []struct {
		name   string
		client *http.Client
		url    string
		proto  int
	}{
		{"HTTP/1.1", http.DefaultClient, r.listenURL("http"), 1},
		{"HTTP/2", h2, r.listenURL("https"), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, err := tt.client.Get(tt.url + "/drip?duration=2&numbytes=4&code=200&delay=0")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			headers := time.Since(start)
			if resp.ProtoMajor != tt.proto || resp.ContentLength != 4 {
				t.Fatalf("%s, Content-Length %d; want HTTP/%d and 4", resp.Proto, resp.ContentLength, tt.proto)
			}
			one := make([]byte, 1)
			if _, err := io.ReadFull(resp.Body, one); err != nil {
				t.Fatal(err)
			}
			first := time.Since(start)
			rest, err := io.ReadAll(resp.Body)
			last := time.Since(start)
			if err != nil || len(rest) != 3 {
				t.Fatalf("rest of the body: %d bytes, %v", len(rest), err)
			}
			// Held back, both would come with the last byte, at 2 s.
			if headers > time.Second {
				t.Errorf("headers after %s: held back until the body came", headers)
			}
			if last-first < time.Second {
				t.Errorf("first byte at %s, last at %s: the body was held back, not streamed", first, last)
			}
		})
	}
}
