package forwarder

import (
	"io"
	"net/http"
	"strconv"
	"testing"
)

// Neither the headers of a response nor the first bytes of its body wait
// for the rest, whatever its framing, over HTTP/1.1 and HTTP/2: the backend
// here sends its headers and one byte, then holds the rest back until the
// client has them, so a proxy that held them back would never answer.
func TestNothingWaitsForTheRest(t *testing.T) {
	for _, tt := range []struct {
		name   string
		length bool // a Content-Length, else chunked
		h2     bool
	}{
		{"content-length", true, false},
		{"chunked", false, false},
		{"content-length over HTTP/2", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			release := make(chan struct{})
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				if tt.length {
					w.Header().Set("Content-Length", strconv.Itoa(len("hello")))
				}
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				io.WriteString(w, "h")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, "ello")
			})
			if tt.h2 {
				e.startTLSFront(true)
			} else {
				e.startFront()
			}
			req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, e.front.URL+"/drip", nil)
			res, err := e.client().Do(req) // returns once the headers are in
			if err != nil {
				t.Fatalf("no headers while the body was held back: %v", err)
			}
			defer res.Body.Close()
			first := make([]byte, 1)
			if _, err := io.ReadFull(res.Body, first); err != nil || first[0] != 'h' {
				t.Fatalf("first byte %q, %v: held back", first, err)
			}
			close(release)
			rest, err := io.ReadAll(res.Body)
			if err != nil || string(rest) != "ello" {
				t.Errorf("rest of the body %q, %v", rest, err)
			}
			if tt.h2 && res.ProtoMajor != 2 {
				t.Errorf("protocol %s, want HTTP/2", res.Proto)
			}
		})
	}
}
