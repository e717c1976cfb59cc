package forwarder

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap/zapcore"
)

// A body the client botches is the client's error: 400 (413 when too
// large) and the connection closed, logged at debug level, never a 502
// with an error line, which any client could otherwise cause at will.
func TestMalformedRequestBody(t *testing.T) {
	const chunked = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name       string
		request    string
		halfClose  bool  // the client then closes its sending side
		limit      int64 // maxAllowedContentLength; 0 for the default
		wantStatus int
		wantLog    string // the debug line; "" for none
	}{
		{name: "bad chunk size", request: chunked + "zz\r\nhello\r\n0\r\n\r\n",
			wantStatus: 400, wantLog: "malformed request body"},
		{name: "chunk size overflows", request: chunked + "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
			wantStatus: 400, wantLog: "malformed request body"},
		{name: "chunk longer than announced", request: chunked + "3\r\nhello\r\n0\r\n\r\n",
			wantStatus: 400, wantLog: "malformed request body"},
		{name: "bad chunk terminator", request: chunked + "5\r\nhelloXX0\r\n\r\n",
			wantStatus: 400, wantLog: "malformed request body"},
		{name: "chunked body over the limit", request: chunked + "400\r\n" + strings.Repeat("x", 1024) + "\r\n0\r\n\r\n", limit: 1000,
			wantStatus: 413},
		{name: "client closes mid-body with content-length", request: "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789",
			halfClose: true, wantStatus: 400, wantLog: "client went away"},
		{name: "client closes mid-chunk", request: chunked + "a\r\n01234",
			halfClose: true, wantStatus: 400, wantLog: "client went away"},
		{name: "client closes in the trailer", request: chunked + "5\r\nhello\r\n0\r\nX-Checksum: 1\r\n",
			halfClose: true, wantStatus: 400, wantLog: "client went away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			if tt.limit > 0 {
				cfg.MaxAllowedContentLength = tt.limit
			}
			e := newEnv(t, cfg)
			var whole atomic.Int32
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.Copy(io.Discard, r.Body); err == nil {
					whole.Add(1)
				}
			})
			e.startFront()

			conn := e.dial()
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			if tt.halfClose {
				conn.(*net.TCPConn).CloseWrite()
			}
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d:\n%s", res.StatusCode, tt.wantStatus, body)
			}
			if !res.Close {
				t.Error("answered without Connection: close")
			}
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				t.Errorf("after the answer: %v, want the connection closed (EOF)", err)
			}
			if whole.Load() != 0 {
				t.Error("the backend read a whole body")
			}
			if tt.wantLog != "" {
				e.wantLog(zapcore.DebugLevel, tt.wantLog)
			}
			if bad := e.logsAtLeast(zapcore.WarnLevel); len(bad) > 0 {
				t.Errorf("logged %v", messages(bad))
			}
		})
	}
}
