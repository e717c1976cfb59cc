package forwarder

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// wsAccept is the Sec-WebSocket-Accept value for key (RFC 6455 4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsEcho is a backend that completes a WebSocket handshake and then
// echoes raw bytes until its connection closes. It sends the request
// header on got and closes done when it returns.
func (e *env) wsEcho(got chan<- http.Header, done chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		got <- r.Header.Clone()
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "not a websocket request", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			e.t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		var wg sync.WaitGroup
		defer wg.Wait()
		stop := make(chan struct{})
		defer close(stop)
		wg.Go(func() {
			select {
			case <-e.quit:
				conn.Close()
			case <-stop:
			}
		})
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		if err := brw.Flush(); err != nil {
			return
		}
		io.Copy(conn, brw.Reader)
	}
}

func TestWebSocket(t *testing.T) {
	tests := []struct {
		name string
		tls  bool
		idle time.Duration // how long the socket stays silent before the second echo
	}{
		{name: "echo"},
		{name: "echo over tls", tls: true},
		{name: "idle longer than requestTimeout", idle: 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig()
			cfg.RequestTimeout = 200 * time.Millisecond
			e := newEnv(t, cfg)
			obs := newRecorder()
			e.obs = obs
			gotHeader := make(chan http.Header, 1)
			backendDone := make(chan struct{})
			e.startBackend(e.wsEcho(gotHeader, backendDone))
			if tt.tls {
				e.startTLSFront(false)
			} else {
				e.startFront()
			}

			conn := e.dial()
			const key = "dGhlIHNhbXBsZSBub25jZQ=="
			fmt.Fprintf(conn, "GET /ws?room=1 HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nMS-ASPNETCORE-TOKEN: spoofed\r\n\r\n", key)
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if res.StatusCode != http.StatusSwitchingProtocols ||
				!strings.EqualFold(res.Header.Get("Upgrade"), "websocket") ||
				res.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Fatalf("handshake answered %d %v", res.StatusCode, res.Header)
			}
			h := recv(t, gotHeader, "the backend's request")
			if h.Get("Sec-WebSocket-Key") != key || h.Get("Ms-Aspnetcore-Token") != "upstream-token" || !strings.EqualFold(h.Get("Connection"), "Upgrade") {
				t.Errorf("backend got %v", h)
			}

			echoes := func(msg string) {
				t.Helper()
				if _, err := io.WriteString(conn, msg); err != nil {
					t.Fatalf("write %q: %v", msg, err)
				}
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
					t.Fatalf("echo of %q: %q, %v", msg, buf, err)
				}
			}
			echoes("\x81\x05hello")
			if tt.idle > 0 {
				// Silence longer than requestTimeout is the behaviour under test.
				idle := time.NewTimer(tt.idle)
				<-idle.C
			}
			echoes("\x81\x05again")

			if _, acquired, released := e.up.counts(); acquired != 1 || released != 0 {
				t.Errorf("while the socket is open: acquired %d, released %d; want 1, 0", acquired, released)
			}
			conn.Close()
			e.up.waitReleased(t, 1)
			recv(t, backendDone, "the backend to see the socket close")
			recv(t, obs.done, "the request's record")
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if len(obs.ws) != 2 || !obs.ws[0] || obs.ws[1] || obs.records[0].Status != http.StatusSwitchingProtocols {
				t.Errorf("observer told of WebSockets %v and status %d; want open, close and 101", obs.ws, obs.records[0].Status)
			}
		})
	}
}

func TestWebSocketBackendCloses(t *testing.T) {
	e := newEnv(t, baseConfig())
	backendDone := make(chan struct{})
	e.startBackend(func(w http.ResponseWriter, r *http.Request) {
		defer close(backendDone)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			e.t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye")
		brw.Flush()
	})
	e.startFront()

	conn := e.dial()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a2V5\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v, %v", res, err)
	}
	rest, err := io.ReadAll(br)
	if string(rest) != "bye" || isTimeout(err) {
		t.Errorf("after the backend closed: %q, %v; want bye and the end of the stream", rest, err)
	}
	conn.Close()
	e.up.waitReleased(t, 1)
	recv(t, backendDone, "the backend to return")
}
