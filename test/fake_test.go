package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// fakeBackend is the web app the end-to-end tests host: this test binary
// run with FAKE_BACKEND=1. It listens on 127.0.0.1 at the port in
// ASPNETCORE_PORT, HTTP_PLATFORM_PORT or PORT, after FAKE_LISTEN_DELAY_MS,
// refuses requests without ASPNETCORE_TOKEN's value in MS-ASPNETCORE-TOKEN
// when that is set, stops on the IIS shutdown request and on SIGTERM, and
// serves:
//
//	/pid         its process id
//	/headers     the request as it arrived: method, URI, Host and headers (JSON)
//	/slow?ms=N   answers after N ms; appends "slow" to FAKE_LOG first
//	/crash       exits with code 1 without answering
//	/env         its environment (JSON list)
//	/bytes?n=N   N bytes, streamed without a Content-Length
//	/sha256      the SHA-256 and length of the request body
func fakeBackend() int {
	port := firstEnv("ASPNETCORE_PORT", "HTTP_PLATFORM_PORT", "PORT")
	if ms, _ := strconv.Atoi(os.Getenv("FAKE_LISTEN_DELAY_MS")); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond) // the behaviour under test: a slow start
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 3
	}
	fmt.Printf("fake: listening on %s\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "fake: pid %d\n", os.Getpid())
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, os.Interrupt)
	token := os.Getenv("ASPNETCORE_TOKEN")
	mux := http.NewServeMux()
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, os.Getpid()) })
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "uri": r.RequestURI, "host": r.Host, "header": r.Header})
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if f, err := os.OpenFile(os.Getenv("FAKE_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.WriteString("slow\n")
			f.Close()
		}
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond) // the behaviour under test: a slow request
		fmt.Fprint(w, "done")
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) { os.Exit(1) })
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(os.Environ()) })
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for n > 0 {
			k := min(n, int64(len(chunk)))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("/sha256", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%x %d", h.Sum(nil), n)
	})
	mux.HandleFunc("POST /iisintegration", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush() // the answer leaves before the server closes
		select {
		case term <- syscall.SIGTERM:
		default:
		}
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.Header.Get("MS-ASPNETCORE-TOKEN") != token {
			http.Error(w, "bad pairing token", http.StatusBadRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})}
	go func() {
		<-term
		srv.Close() // a fake app: in-flight requests are the test's to finish first
	}()
	srv.Serve(ln)
	return 0
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
