package forwarder

import (
	"cmp"
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

	"github.com/roosthq/roost/forwarder/filter"
)

// Statuses and pages are decided here and nowhere else: every answer that
// roost gives instead of the backend's is a problem, written by
// writeProblem.

// problem is why roost answers a request itself.
type problem int

const (
	startupFailure problem = iota // no backend: restarts paused or none became ready (IIS 502.5)
	badGateway                    // the backend failed before its response headers (502.3)
	gatewayTimeout                // the backend was silent for requestTimeout (504)
	stopping                      // roost is stopping (503)
	offline                       // app_offline.htm is present (503, the file as the page)
	requestTimeout                // the client stalled sending its body (408)
	tooLarge                      // the body is over maxAllowedContentLength (413)
	badBody                       // the client's body was malformed or cut short (400)

	// roost's own HTTP/1.x path refused the request head (package http1
	// says why); the connection closes after the answer.
	malformedRequest    // a framing or syntax error (400)
	headTooLarge        // over the header size or field count limit (431)
	versionNotSupported // not HTTP/1.0 or HTTP/1.1 (505)
	connectRefused      // CONNECT: roost is no forward proxy (405)

	// Request filtering denied the request (package filter says why):
	// IIS's substatus of each is in substatuses.
	urlTooLong        // over requestLimits maxUrl (414)
	queryTooLong      // over requestLimits maxQueryString (414)
	headerTooLong     // over a headerLimits sizeLimit (431)
	verbDenied        // denied by verbs (404)
	highBitCharacters // non-ASCII with allowHighBitCharacters="false" (404)
	doubleEscaped     // double escaped with allowDoubleEscaping="false" (404)
	sequenceDenied    // holds one of denyUrlSequences (404)
	hiddenSegment     // names one of hiddenSegments, or the stdout log folder (404)
	extensionDenied   // denied by fileExtensions (404)

	problems // how many there are
)

// answer is what the client gets for a problem.
type answer struct {
	status    int
	code      string // as IIS names it: "502.5"
	title     string
	solutions []string
	// retryAfter is the Retry-After in seconds when the cause does not
	// say; 0 for none.
	retryAfter int
	close      bool // the rest of the request body is not read: close the connection
}

// defaultRetryAfter is the Retry-After of an unavailable backend whose
// cause does not say when it may be back, in seconds.
const defaultRetryAfter = 5

// offlineRetryAfter is the Retry-After of the offline page, in seconds.
const offlineRetryAfter = 30

var answers = [problems]answer{
	startupFailure: {http.StatusBadGateway, "502.5", "Process Failure", []string{
		"The application process failed to start.",
		"The application process started but then stopped.",
		"The application process started but failed to listen on its port.",
	}, defaultRetryAfter, false},
	badGateway: {http.StatusBadGateway, "502.3", "Bad Gateway", []string{
		"The application process closed the connection or could not be reached.",
	}, 0, false},
	gatewayTimeout: {http.StatusGatewayTimeout, "504", "Gateway Timeout", []string{
		"The application did not answer within requestTimeout. Raise requestTimeout in web.config if it needs longer.",
	}, 0, false},
	stopping: {http.StatusServiceUnavailable, "503", "Service Unavailable", []string{
		"The application is stopping or restarting. Try again shortly.",
	}, defaultRetryAfter, false},
	offline: {http.StatusServiceUnavailable, "503", "Service Unavailable", nil, offlineRetryAfter, false},
	requestTimeout: {http.StatusRequestTimeout, "408", "Request Timeout", []string{
		"The client stopped sending its request for too long.",
	}, 0, true},
	tooLarge: {http.StatusRequestEntityTooLarge, "413", "Request Entity Too Large", []string{
		"The request body is larger than maxAllowedContentLength in web.config.",
	}, 0, true},
	badBody: {http.StatusBadRequest, "400", "Bad Request", []string{
		"The request body was malformed, or ended before its announced end.",
	}, 0, true},
	malformedRequest: {http.StatusBadRequest, "400", "Bad Request", []string{
		"The request is not well-formed HTTP/1.1: roost refuses requests that two HTTP implementations could read differently.",
	}, 0, true},
	headTooLarge: {http.StatusRequestHeaderFieldsTooLarge, "431", "Request Header Fields Too Large", []string{
		"The request's header section is larger than roost accepts (64 KiB, 100 fields).",
	}, 0, true},
	versionNotSupported: {http.StatusHTTPVersionNotSupported, "505", "HTTP Version Not Supported", []string{
		"roost speaks HTTP/1.0 and HTTP/1.1 here, and HTTP/2 over TLS.",
	}, 0, true},
	connectRefused: {http.StatusMethodNotAllowed, "405", "Method Not Allowed", []string{
		"roost is a reverse proxy: it does not open tunnels with CONNECT.",
	}, 0, false},
	urlTooLong: {http.StatusRequestURITooLong, "414", "URI Too Long", []string{
		"The URL is longer than maxUrl in web.config's request filtering allows.",
	}, 0, false},
	queryTooLong: {http.StatusRequestURITooLong, "414", "URI Too Long", []string{
		"The query string is longer than maxQueryString in web.config's request filtering allows.",
	}, 0, false},
	headerTooLong: {http.StatusRequestHeaderFieldsTooLarge, "431", "Request Header Fields Too Large", []string{
		"A request header is longer than headerLimits in web.config's request filtering allow.",
	}, 0, false},
	verbDenied:        {http.StatusNotFound, "404", "Not Found", filteredSolutions, 0, false},
	highBitCharacters: {http.StatusNotFound, "404", "Not Found", filteredSolutions, 0, false},
	doubleEscaped:     {http.StatusNotFound, "404", "Not Found", filteredSolutions, 0, false},
	sequenceDenied:    {http.StatusNotFound, "404", "Not Found", filteredSolutions, 0, false},
	hiddenSegment:     {http.StatusNotFound, "404", "Not Found", filteredSolutions, 0, false},
	extensionDenied:   {http.StatusNotFound, "404", "Not Found", filteredSolutions, 0, false},
}

// filteredSolutions is the page of every 404 that request filtering
// causes: it does not say which rule matched, which the substatus and the
// details tell with detailed errors on.
var filteredSolutions = []string{
	"The resource does not exist, or the request filtering rules in web.config do not let it be served.",
}

// substatuses are IIS's substatuses of the answers to requests that
// request filtering denied. They are sent in X-Roost-Substatus, and named
// in the page's title, only with detailed errors on.
var substatuses = [problems]string{
	urlTooLong:        "404.14",
	queryTooLong:      "404.15",
	headerTooLong:     "431",
	verbDenied:        "404.6",
	highBitCharacters: "404.12",
	doubleEscaped:     "404.11",
	sequenceDenied:    "404.5",
	hiddenSegment:     "404.8",
	extensionDenied:   "404.7",
}

// filterProblems is the problem of each reason request filtering gives.
var filterProblems = map[filter.Reason]problem{
	filter.URLTooLong:          urlTooLong,
	filter.QueryStringTooLong:  queryTooLong,
	filter.HeaderTooLong:       headerTooLong,
	filter.VerbDenied:          verbDenied,
	filter.HighBitCharacters:   highBitCharacters,
	filter.DoubleEscaped:       doubleEscaped,
	filter.URLSequenceDenied:   sequenceDenied,
	filter.HiddenSegment:       hiddenSegment,
	filter.FileExtensionDenied: extensionDenied,
}

// writeProblem sends the answer for p with the HTML page that page makes
// as its body, or none when page is nil. HEAD gets the headers alone, and
// the page is not made. cause, when it is an Unavailable, may set
// Retry-After.
func writeProblem(w http.ResponseWriter, r *http.Request, p problem, cause error, page func() []byte) {
	if n := findNoter(w); n != nil {
		n.noteProblem(p)
	}
	a := answers[p]
	h := w.Header()
	head := r.Method == http.MethodHead
	var body []byte
	if page != nil {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		if !head {
			body = page()
		}
	}
	if !head {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	h.Set("Cache-Control", "no-store")
	if a.retryAfter > 0 {
		h.Set("Retry-After", retryAfter(cause, a.retryAfter))
	}
	if a.close {
		h.Set("Connection", "close")
	}
	w.WriteHeader(a.status)
	if !head {
		w.Write(body)
	}
}

// findNoter finds the problemNoter that is w or that w wraps, if any.
func findNoter(w http.ResponseWriter) problemNoter {
	for {
		if n, ok := w.(problemNoter); ok {
			return n
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// ServeOffline answers a request while the app is offline (app_offline.htm
// is present): 503 with the file's bytes as the page, as ANCM does, plus
// Retry-After and Cache-Control: no-store so that no cache or CDN keeps
// serving the offline page once the app is back.
func ServeOffline(w http.ResponseWriter, r *http.Request, page []byte) {
	writeProblem(w, r, offline, nil, func() []byte { return page })
}

// ServeStopping answers a request that arrives while roost stops, after
// the last backend has been let go: 503 with Retry-After.
func ServeStopping(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, stopping, nil, func() []byte { return renderPage(stopping, nil, false) })
}

// writeError sends p's page. The cause's details (its message and the
// backend's last output) are shown only with detailed errors on.
func (f *Forwarder) writeError(w http.ResponseWriter, r *http.Request, p problem, cause error) {
	writeProblem(w, r, p, cause, func() []byte { return renderPage(p, cause, f.cfg.DetailedErrors) })
}

// refuse answers a request that request filtering denied; it never
// reaches the backend. The log line names the rule; the client learns
// IIS's substatus only with detailed errors on.
func (f *Forwarder) refuse(w http.ResponseWriter, r *http.Request, d *filter.Denial) {
	p := filterProblems[d.Reason]
	fields := []zap.Field{zap.String("rule", d.Rule), zap.String("value", d.Value), zap.String("detail", d.Detail), zap.String("substatus", substatuses[p])}
	if d.Source != "" {
		fields = append(fields, zap.String("source", d.Source))
	}
	f.log.Info("request filtered", requestFields(r, fields...)...)
	if f.cfg.DetailedErrors {
		w.Header().Set("X-Roost-Substatus", substatuses[p])
	}
	f.writeError(w, r, p, d)
}

// unavailable answers a request for which Acquire found no backend.
func (f *Forwarder) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		f.clientGone(r, err)
		return
	}
	var u Unavailable
	if errors.As(err, &u) && u.Stopping() {
		f.writeError(w, r, stopping, err)
		return
	}
	f.log.Warn("no backend for request", requestFields(r, zap.Error(err))...)
	if f.cfg.DisableStartUpErrorPage {
		writeProblem(w, r, startupFailure, err, nil) // no page, as ANCM
		return
	}
	f.writeError(w, r, startupFailure, err)
}

// proxyError is the ReverseProxy's ErrorHandler: the request failed before
// the response headers were sent. (After that, ReverseProxy aborts the
// client connection, so that a cut response never looks complete.) A
// failure while reading the client's body is the client's, whatever the
// Transport made of it: blaming the backend would let any client fake
// backend failures.
func (f *Forwarder) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	st.mu.Lock()
	tooLargeBody, stalled, bodyErr := st.tooLarge, st.stalled, st.badBody
	st.mu.Unlock()
	backendTimeout := errors.Is(context.Cause(r.Context()), errBackendTimeout)
	var acquire *acquireError
	switch {
	case errors.As(err, &acquire):
		f.unavailable(w, r, acquire.err)
	case tooLargeBody:
		f.writeError(w, r, tooLarge, nil)
	case stalled:
		if ce := f.log.Check(zap.DebugLevel, "client stalled sending its body"); ce != nil {
			ce.Write(requestFields(r, zap.Duration("client_idle", f.clientIdle))...)
		}
		f.writeError(w, r, requestTimeout, nil)
	case bodyErr != nil, r.Context().Err() != nil && !backendTimeout && st.body.cutShort():
		f.badClientBody(w, r, cmp.Or(bodyErr, err))
	case backendTimeout:
		f.log.Warn("backend timed out", requestFields(r, zap.Duration("request_timeout", f.cfg.RequestTimeout))...)
		f.writeError(w, r, gatewayTimeout, err)
	case r.Context().Err() != nil:
		f.clientGone(r, err)
	default:
		f.log.Error("backend unreachable", requestFields(r, zap.Error(err))...)
		f.writeError(w, r, badGateway, err)
	}
}

// badClientBody answers a request whose body could not be read whole: it
// was malformed (a bad chunk), or the client closed or reset its
// connection before its end. The 400 still reaches a client that only
// closed its sending side; the connection is closed after it.
func (f *Forwarder) badClientBody(w http.ResponseWriter, r *http.Request, err error) {
	msg := "malformed request body"
	if r.Context().Err() != nil {
		msg = "client went away"
	}
	if ce := f.log.Check(zap.DebugLevel, msg); ce != nil {
		ce.Write(requestFields(r, zap.Error(err))...)
	}
	f.writeError(w, r, badBody, nil)
}

// clientGone logs a request whose client left: nothing can be sent, and it
// is not roost's or the backend's failure.
func (f *Forwarder) clientGone(r *http.Request, err error) {
	if ce := f.log.Check(zap.DebugLevel, "client went away"); ce != nil {
		ce.Write(requestFields(r, zap.Error(err))...)
	}
}

func requestFields(r *http.Request, extra ...zap.Field) []zap.Field {
	uri := r.RequestURI
	if uri == "" && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	return append([]zap.Field{zap.String("method", r.Method), zap.String("uri", uri), zap.String("remote", r.RemoteAddr)}, extra...)
}

// renderPage is the HTML page for p, with the cause's details (its
// message and the backend's last output) when detailed is set.
func renderPage(p problem, cause error, detailed bool) []byte {
	a := answers[p]
	var b strings.Builder
	code := a.code
	if detailed && substatuses[p] != "" {
		code = substatuses[p]
	}
	title := fmt.Sprintf("HTTP Error %s - %s", code, a.title)
	fmt.Fprintf(&b, "<!DOCTYPE html>\r\n<html lang=\"en\">\r\n<head>\r\n<meta charset=\"utf-8\">\r\n<title>%s</title>\r\n", title)
	b.WriteString("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:50em;color:#222}h1{font-size:1.6em}pre{background:#f4f4f4;padding:1em;overflow:auto}</style>\r\n</head>\r\n<body>\r\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\r\n<h2>Common solutions to this issue:</h2>\r\n<ul>\r\n", title)
	for _, s := range a.solutions {
		fmt.Fprintf(&b, "<li>%s</li>\r\n", html.EscapeString(s))
	}
	b.WriteString("</ul>\r\n")
	if detailed && cause != nil {
		b.WriteString("<h2>Specific error detected by roost:</h2>\r\n<pre>")
		b.WriteString(html.EscapeString(cause.Error()))
		var u Unavailable
		if errors.As(cause, &u) && len(u.LastOutput()) > 0 {
			b.WriteString("\r\n\r\nLast output of the application:\r\n")
			b.WriteString(html.EscapeString(strings.Join(u.LastOutput(), "\r\n")))
		}
		b.WriteString("</pre>\r\n")
	}
	if substatuses[p] != "" {
		b.WriteString("<h2>Troubleshooting steps:</h2>\r\n<ul>\r\n" +
			"<li>Read roost's log, which names the request filtering rule that matched.</li>\r\n" +
			"<li>Run <code>roost check</code> in the application's folder to list the rules and where each comes from.</li>\r\n" +
			"</ul>\r\n</body>\r\n</html>\r\n")
		return []byte(b.String())
	}
	b.WriteString("<h2>Troubleshooting steps:</h2>\r\n<ul>\r\n" +
		"<li>Read roost's log, which says why the application failed.</li>\r\n" +
		"<li>Set stdoutLogEnabled=\"true\" in web.config to keep the application's output in files.</li>\r\n" +
		"<li>Run <code>roost check</code> in the application's folder to validate web.config.</li>\r\n" +
		"<li>Set ASPNETCORE_ENVIRONMENT=Development or ASPNETCORE_DETAILEDERRORS=1 to show details on this page.</li>\r\n" +
		"</ul>\r\n</body>\r\n</html>\r\n")
	return []byte(b.String())
}

// retryAfter returns the Retry-After value, in seconds: the time until a
// backend may be back when the cause knows it, else def.
func retryAfter(cause error, def int) string {
	var u Unavailable
	if errors.As(cause, &u) && u.RetryAfter() > 0 {
		return strconv.Itoa(int(math.Ceil(u.RetryAfter().Seconds())))
	}
	return strconv.Itoa(def)
}

// Unavailable is an Upstream's error when no backend can take a request:
// it says why, and what the client is told.
type Unavailable interface {
	error
	// RetryAfter is how long until a backend may be back; 0 when unknown.
	RetryAfter() time.Duration
	// LastOutput is what the failed backend printed last, shown on
	// detailed error pages.
	LastOutput() []string
	// Stopping reports that roost is stopping (503), rather than that the
	// backend failed (502.5).
	Stopping() bool
}
