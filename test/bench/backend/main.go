// Command backend is the origin server of the proxy benchmark in
// test/bench/run.sh: it answers every request with the same fixed 1 KiB
// text/plain body, and does nothing else, so that a benchmark measures the
// proxy in front of it rather than the app. A request body (the upload
// scenario's POSTs) is read to its end and discarded first.
//
// One other path: /bytes/N answers N bytes (0 to 64 MiB) of the same text
// instead, for the download scenario; /bytes/1048576 is 1 MiB.
//
// It listens on 127.0.0.1 at the port given as its first argument, else in
// the PORT environment variable, and stops on SIGTERM or Ctrl+C.
//
//	backend 18080
//	PORT=18080 backend
package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// body is the response: 1024 bytes of text, ending in a newline.
var body = append(bytes.Repeat([]byte("hello, roost! "), 74)[:1023], '\n')

// maxBytes bounds /bytes/N.
const maxBytes = 64 << 20

// sized holds the bodies /bytes/N answered so far, by N, built once each.
var sized sync.Map // int -> []byte

// sizedBody is N bytes of the body's text repeated.
func sizedBody(n int) []byte {
	if b, ok := sized.Load(n); ok {
		return b.([]byte)
	}
	b := bytes.Repeat(body, n/len(body)+1)[:n]
	sized.Store(n, b)
	return b
}

func main() {
	port := os.Getenv("PORT")
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		log.Fatalf("backend: want a port 1-65535 as the first argument or in PORT, got %q", port)
	}

	length := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			io.Copy(io.Discard, r.Body)
		}
		h := w.Header()
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		if rest, ok := strings.CutPrefix(r.URL.Path, "/bytes/"); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n > maxBytes {
				http.Error(w, "want /bytes/N with N from 0 to 67108864", http.StatusBadRequest)
				return
			}
			b := sizedBody(n)
			h["Content-Length"] = []string{strconv.Itoa(n)}
			w.Write(b)
			return
		}
		h["Content-Length"] = []string{length}
		w.Write(body)
	})

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		log.Fatalf("backend: %v", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	log.Printf("backend: listening on http://%s (pid %d)", ln.Addr(), os.Getpid())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("backend: %v", err)
	}
	<-drained
}
