package forwarder

import (
	"net/http"
	"strconv"
)

// offlineRetryAfter is the Retry-After of the offline page, in seconds.
const offlineRetryAfter = 30

// ServeOffline answers a request while the app is offline (app_offline.htm
// is present): 503 with the file's bytes as the page, as ANCM does, plus
// Retry-After and Cache-Control: no-store so that no cache or CDN keeps
// serving the offline page once the app is back.
func ServeOffline(w http.ResponseWriter, r *http.Request, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", strconv.Itoa(offlineRetryAfter))
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method != http.MethodHead {
		w.Write(page)
	}
}
