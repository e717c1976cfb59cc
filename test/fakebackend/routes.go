package fakebackend

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// routes returns the fake's handler for every route in the package doc.
func routes(ln net.Listener, s *stopper) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("/env", serveEnv)
	mux.HandleFunc("/headers", serveHeaders)
	mux.HandleFunc("/slow", serveSlow)
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		os.Exit(1) // the behaviour asked for: a crash with a request in hand
	})
	mux.HandleFunc("/bytes", serveBytes)
	mux.HandleFunc("/sha256", serveSHA256)
	mux.HandleFunc("/trailers", serveTrailers)
	mux.HandleFunc("GET /unlisten", func(w http.ResponseWriter, r *http.Request) {
		ln.Close() // serve goes on waiting, but no connection comes in
	})
	mux.HandleFunc("GET /orphan", serveOrphan)
	mux.HandleFunc("GET /ps", servePS)
	mux.HandleFunc("POST /iisintegration", func(w http.ResponseWriter, r *http.Request) {
		shutdownRequest(w, r, s)
	})
	return mux
}

// checkToken refuses requests without the pairing token, when there is
// one, as ASP.NET Core does behind ANCM.
func checkToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.Header.Get("MS-ASPNETCORE-TOKEN") != token {
			http.Error(w, "bad pairing token", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func serveEnv(w http.ResponseWriter, r *http.Request) {
	dir, _ := os.Getwd()
	json.NewEncoder(w).Encode(Report{Env: os.Environ(), Args: os.Args[1:], Dir: dir})
}

func serveHeaders(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "uri": r.RequestURI, "host": r.Host, "header": r.Header})
}

// slowLog serialises the notes serveSlow appends to FAKE_LOG: requests
// that run at once would otherwise append at once, and not every system
// (wine, for one) keeps concurrent appends whole.
var slowLog sync.Mutex

// serveSlow notes the request in FAKE_LOG, so that a test knows the fake
// has it, then answers after ?ms.
func serveSlow(w http.ResponseWriter, r *http.Request) {
	slowLog.Lock()
	if f, err := os.OpenFile(os.Getenv("FAKE_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.WriteString("slow\n")
		f.Close()
	}
	slowLog.Unlock()
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	time.Sleep(time.Duration(ms) * time.Millisecond) // the behaviour asked for: a slow request
	fmt.Fprint(w, "done")
}

func serveBytes(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

func serveSHA256(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "%x %d", h.Sum(nil), n)
}

// serveTrailers reads the body, then answers with its length and the
// trailer that came after it.
func serveTrailers(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"length": n, "trailer": r.Trailer})
}

// shutdownRequest answers the IIS shutdown request as FAKE_SHUTDOWN says.
func shutdownRequest(w http.ResponseWriter, r *http.Request, s *stopper) {
	switch os.Getenv("FAKE_SHUTDOWN") {
	case "accept":
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush() // the answer leaves before the connections close
		s.stop("shutdown request")
	case "stay":
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// serveOrphan runs a copy of the fake with FAKE_ORPHAN, which leaves an
// orphan, waits for that copy, and answers the orphan's pid.
func serveOrphan(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		http.Error(w, "want ms=N", http.StatusBadRequest)
		return
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FAKE_ORPHAN="+strconv.Itoa(ms))
	out, err := cmd.Output()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(bytes.TrimSpace(out))
}

// servePS lists the processes in /proc with their state.
func servePS(w http.ResponseWriter, r *http.Request) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotImplemented)
		return
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// "PID (NAME) STATE ...": NAME may hold spaces and parentheses.
		open, closing := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || closing < open || closing+2 >= len(stat) {
			continue
		}
		fmt.Fprintf(w, "%s %c %s\n", e.Name(), stat[closing+2], stat[open+1:closing])
	}
}
