// Command hello is the demo app that web.config.example hosts: a small
// HTTP server that behaves like an ASP.NET Core app behind IIS. It listens
// on 127.0.0.1 at the port in ASPNETCORE_PORT (else HTTP_PLATFORM_PORT,
// else PORT), refuses requests that lack the pairing token in
// MS-ASPNETCORE-TOKEN when ASPNETCORE_TOKEN is set, and stops when it
// receives the IIS shutdown request (POST /iisintegration with
// MS-ASPNETCORE-EVENT: shutdown) or SIGTERM/Ctrl+C.
package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	port := firstEnv("ASPNETCORE_PORT", "HTTP_PLATFORM_PORT", "PORT")
	if port == "" {
		log.Fatal("hello: no port: set ASPNETCORE_PORT, HTTP_PLATFORM_PORT or PORT (roost does)")
	}
	token := os.Getenv("ASPNETCORE_TOKEN")
	started := time.Now()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /iisintegration", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("MS-ASPNETCORE-EVENT") != "shutdown" {
			http.Error(w, "unknown event", http.StatusBadRequest)
			return
		}
		log.Print("hello: shutdown requested by the host")
		w.WriteHeader(http.StatusAccepted)
		stop()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>roost demo</title><h1>Hello from behind roost</h1>\n"+
			"<p>process %d on port %s, up %s</p>\n<p>%s %s from %s (X-Forwarded-For: %s, X-Forwarded-Proto: %s)</p>\n",
			os.Getpid(), port, time.Since(started).Round(time.Second), html.EscapeString(r.Method), html.EscapeString(r.URL.RequestURI()),
			html.EscapeString(r.RemoteAddr), html.EscapeString(r.Header.Get("X-Forwarded-For")), html.EscapeString(r.Header.Get("X-Forwarded-Proto")))
		if g := os.Getenv("HELLO_GREETING"); g != "" {
			fmt.Fprintf(w, "<p>HELLO_GREETING: %s</p>\n", html.EscapeString(g))
		}
	})

	var handler http.Handler = mux
	if token != "" {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// As ASP.NET Core's IIS integration does: only the host that
			// started this process may talk to it.
			if r.Header.Get("MS-ASPNETCORE-TOKEN") != token {
				log.Printf("hello: refused %s %s: wrong or missing MS-ASPNETCORE-TOKEN", r.Method, r.URL.Path)
				http.Error(w, "bad pairing token", http.StatusBadRequest)
				return
			}
			mux.ServeHTTP(w, r)
		})
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		log.Fatalf("hello: %v", err)
	}
	log.Printf("hello: listening on http://%s (pid %d)", ln.Addr(), os.Getpid())
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("hello: %v", err)
	}
	<-drained // Serve returns as soon as Shutdown starts; let requests finish
	log.Print("hello: stopped")
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
