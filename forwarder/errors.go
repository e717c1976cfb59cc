package forwarder

import (
	"context"
	"errors"
	"fmt"
	"html"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Statuses and pages are decided here and nowhere else.

// unavailable answers a request for which Acquire found no backend.
func (f *Forwarder) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		f.clientGone(r, err)
		return
	}
	var stopping interface{ Stopping() bool }
	if errors.As(err, &stopping) && stopping.Stopping() {
		f.writeError(w, r, http.StatusServiceUnavailable, err)
		return
	}
	f.log.Warn("no backend for request", requestFields(r, zap.Error(err))...)
	if f.cfg.DisableStartUpErrorPage {
		w.Header().Set("Retry-After", retryAfter(err))
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	f.writeError(w, r, statusStartupFailure, err)
}

// statusStartupFailure stands for ANCM's 502.5: the status sent is 502.
const statusStartupFailure = 5025

// proxyError is the ReverseProxy's ErrorHandler: the backend failed before
// the response headers were sent. (After that, ReverseProxy aborts the
// client connection, so that a cut response never looks complete.)
func (f *Forwarder) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	st.mu.Lock()
	tooLarge, stalled := st.tooLarge, st.stalled
	st.mu.Unlock()
	var acquire *acquireError
	switch {
	case errors.As(err, &acquire):
		f.unavailable(w, r, acquire.err)
	case tooLarge:
		f.writeError(w, r, http.StatusRequestEntityTooLarge, nil)
	case stalled:
		if ce := f.log.Check(zap.DebugLevel, "client stalled sending its body"); ce != nil {
			ce.Write(requestFields(r, zap.Duration("client_idle", f.clientIdle))...)
		}
		f.writeError(w, r, http.StatusRequestTimeout, nil)
	case errors.Is(context.Cause(r.Context()), errBackendTimeout):
		f.log.Warn("backend timed out", requestFields(r, zap.Duration("request_timeout", f.cfg.RequestTimeout))...)
		f.writeError(w, r, http.StatusGatewayTimeout, err)
	case r.Context().Err() != nil:
		f.clientGone(r, err)
	default:
		f.log.Error("backend unreachable", requestFields(r, zap.Error(err))...)
		f.writeError(w, r, http.StatusBadGateway, err)
	}
}

// clientGone logs a request whose client left: nothing can be sent, and it
// is not roost's or the backend's failure.
func (f *Forwarder) clientGone(r *http.Request, err error) {
	if ce := f.log.Check(zap.DebugLevel, "client went away"); ce != nil {
		ce.Write(requestFields(r, zap.Error(err))...)
	}
}

func requestFields(r *http.Request, extra ...zap.Field) []zap.Field {
	return append([]zap.Field{zap.String("method", r.Method), zap.String("uri", r.URL.RequestURI()), zap.String("remote", r.RemoteAddr)}, extra...)
}

// errorPage describes one error page.
type errorPage struct {
	status    int
	code      string // as IIS names it: "502.5"
	title     string
	solutions []string
}

var errorPages = map[int]errorPage{
	statusStartupFailure: {http.StatusBadGateway, "502.5", "Process Failure", []string{
		"The application process failed to start.",
		"The application process started but then stopped.",
		"The application process started but failed to listen on its port.",
	}},
	http.StatusBadGateway: {http.StatusBadGateway, "502.3", "Bad Gateway", []string{
		"The application process closed the connection or could not be reached.",
	}},
	http.StatusGatewayTimeout: {http.StatusGatewayTimeout, "504", "Gateway Timeout", []string{
		"The application did not answer within requestTimeout. Raise requestTimeout in web.config if it needs longer.",
	}},
	http.StatusServiceUnavailable: {http.StatusServiceUnavailable, "503", "Service Unavailable", []string{
		"The application is stopping or restarting. Try again shortly.",
	}},
	http.StatusRequestTimeout: {http.StatusRequestTimeout, "408", "Request Timeout", []string{
		"The client stopped sending its request for too long.",
	}},
	http.StatusRequestEntityTooLarge: {http.StatusRequestEntityTooLarge, "413", "Request Entity Too Large", []string{
		"The request body is larger than maxAllowedContentLength in web.config.",
	}},
}

// writeError sends the page for kind (an HTTP status, or
// statusStartupFailure). The cause's details (its message and the
// backend's last output) are shown only with detailed errors on.
func (f *Forwarder) writeError(w http.ResponseWriter, r *http.Request, kind int, cause error) {
	p := errorPages[kind]
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.status == http.StatusServiceUnavailable || kind == statusStartupFailure {
		h.Set("Retry-After", retryAfter(cause))
	}
	if p.status == http.StatusRequestEntityTooLarge || p.status == http.StatusRequestTimeout {
		h.Set("Connection", "close") // the rest of the body is not read
	}
	w.WriteHeader(p.status)
	if r.Method == http.MethodHead {
		return
	}
	var b strings.Builder
	title := fmt.Sprintf("HTTP Error %s - %s", p.code, p.title)
	fmt.Fprintf(&b, "<!DOCTYPE html>\r\n<html lang=\"en\">\r\n<head>\r\n<meta charset=\"utf-8\">\r\n<title>%s</title>\r\n", title)
	b.WriteString("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:50em;color:#222}h1{font-size:1.6em}pre{background:#f4f4f4;padding:1em;overflow:auto}</style>\r\n</head>\r\n<body>\r\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\r\n<h2>Common solutions to this issue:</h2>\r\n<ul>\r\n", title)
	for _, s := range p.solutions {
		fmt.Fprintf(&b, "<li>%s</li>\r\n", html.EscapeString(s))
	}
	b.WriteString("</ul>\r\n")
	if f.cfg.DetailedErrors && cause != nil {
		b.WriteString("<h2>Specific error detected by roost:</h2>\r\n<pre>")
		b.WriteString(html.EscapeString(cause.Error()))
		var out interface{ LastOutput() []string }
		if errors.As(cause, &out) && len(out.LastOutput()) > 0 {
			b.WriteString("\r\n\r\nLast output of the application:\r\n")
			b.WriteString(html.EscapeString(strings.Join(out.LastOutput(), "\r\n")))
		}
		b.WriteString("</pre>\r\n")
	}
	b.WriteString("<h2>Troubleshooting steps:</h2>\r\n<ul>\r\n" +
		"<li>Read roost's log, which says why the application failed.</li>\r\n" +
		"<li>Set stdoutLogEnabled=\"true\" in web.config to keep the application's output in files.</li>\r\n" +
		"<li>Run <code>roost check</code> in the application's folder to validate web.config.</li>\r\n" +
		"<li>Set ASPNETCORE_ENVIRONMENT=Development or ASPNETCORE_DETAILEDERRORS=1 to show details on this page.</li>\r\n" +
		"</ul>\r\n</body>\r\n</html>\r\n")
	w.Write([]byte(b.String()))
}

// retryAfter returns the Retry-After value for an unavailable backend: the
// time until restarts resume when the cause knows it, else 5 seconds.
func retryAfter(cause error) string {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(cause, &r) && r.RetryAfter() > 0 {
		return strconv.Itoa(int(math.Ceil(r.RetryAfter().Seconds())))
	}
	return "5"
}
