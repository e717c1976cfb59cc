package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The request-smuggling corpus of issue 13: each case is sent raw over one
// connection to roost, followed by a pipelined GET /NN/after, in front of
// a backend that records every request it gets.
//
// Every request the client sends as one has the target /NN/<name>, NN
// being the case's number; every request hidden in a body, or made of
// bytes that a strict reader takes for a body, is /NN/smuggled. So the
// backend getting a request the client did not send is a record whose
// target is /NN/smuggled, or that belongs to no case.

// recordEnv names the file the recording backend appends to: a test
// binary that finds it set is that backend (see TestMain).
const recordEnv = "ROOST_TEST_RECORD"

// recorded is one request as the recording backend got it, framed by
// net/http's server (roost speaks clean HTTP/1.1 to its backends).
type recorded struct {
	Method  string      `json:"method"`
	Target  string      `json:"target"`
	Proto   string      `json:"proto"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
	Trailer http.Header `json:"trailer,omitempty"`
	Err     string      `json:"err,omitempty"` // why the body broke off
}

func (r recorded) request() string { return r.Method + " " + r.Target }

// recordMain is the recording backend: it listens on HTTP_PLATFORM_PORT,
// appends every request to file as a JSON line before answering it with
// "METHOD target", and stops on SIGTERM or os.Interrupt.
func recordMain(file string) int {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		return 2
	}
	defer f.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", os.Getenv("HTTP_PLATFORM_PORT")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		return 3
	}
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Target: r.RequestURI, Proto: r.Proto, Header: r.Header, Body: string(body), Trailer: r.Trailer}
		if err != nil {
			rec.Err = err.Error()
		}
		line, _ := json.Marshal(rec)
		mu.Lock()
		f.Write(append(line, '\n'))
		mu.Unlock()
		if err == nil {
			fmt.Fprint(w, rec.request())
		}
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		<-ctx.Done()
		srv.Close()
	}()
	srv.Serve(ln)
	stop()
	<-closed
	return 0
}

// recordingApp returns a web.config that hosts the recording backend,
// appending to file.
func recordingApp(t *testing.T, file string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return writeApp(t, fmt.Sprintf(`<configuration><system.webServer>
<httpPlatform processPath=%q>
<environmentVariables><environmentVariable name=%q value=%q /></environmentVariables>
</httpPlatform>
</system.webServer></configuration>`, exe, recordEnv, file))
}

// readRecord returns every request the recording backend has written to
// file so far.
func readRecord(t *testing.T, file string) []recorded {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var recs []recorded
	for line := range bytes.Lines(data) {
		var r recorded
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("record line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// http1Engine is the HTTP/1.x engine under test: ROOST_TEST_HTTP1, or
// roost run's default, "roost", when it is unset.
func http1Engine(t *testing.T) string {
	t.Helper()
	switch e := os.Getenv("ROOST_TEST_HTTP1"); e {
	case "", "roost":
		return "roost"
	case "net/http":
		return e
	default:
		t.Fatalf("ROOST_TEST_HTTP1=%q: want roost or net/http", e)
		return ""
	}
}

// seen is a request the backend must get whole: "METHOD target", its
// body, and a trailer field "Name: value" when there is one.
type seen struct{ req, body, trailer string }

// netHTTPDiff is how net/http's server, roost's fallback HTTP/1.x engine,
// is known to differ from the corpus's expectations on a case.
type netHTTPDiff struct {
	unsafe bool // the case is a known hole of the fallback: skip it
	why    string
}

var (
	clWithTE = netHTTPDiff{true, "Content-Length with Transfer-Encoding: net/http decodes chunked and keeps the connection open (RFC 9112 §6.1: close it)"}
	teOn10   = netHTTPDiff{true, "Transfer-Encoding on HTTP/1.0: net/http ignores it and frames by Content-Length, or reads no body"}
	obsFold  = netHTTPDiff{true, "obs-fold: net/http joins a folded line to the field before it"}
	// Leniencies: net/http accepts the case, safely, where roost refuses
	// it; only the safety checks apply.
	sameCL    = netHTTPDiff{false, "net/http accepts identical Content-Length fields (RFC 9110 §8.6 allows it)"}
	bareLF    = netHTTPDiff{false, "net/http accepts a bare LF line ending (RFC 9112 §2.2 allows it)"}
	longExt   = netHTTPDiff{false, "net/http accepts chunk extensions up to 4 KiB a line"}
	version12 = netHTTPDiff{false, "net/http takes HTTP/1.2 for HTTP/1.1"}
	hugeChunk = netHTTPDiff{false, "net/http takes ffffffffffffffff for a chunk of 2^64-1 bytes, and waits for them"}
)

// Statuses a refusal may have besides 400.
var (
	badCoding  = []int{400, 501} // an unknown transfer coding (RFC 9112 §6.1 suggests 501)
	badVersion = []int{400, 505}
	tooLarge   = []int{400, 431}
)

// smuggleCase is one entry of the corpus. "/@@/" in its input and in
// want becomes "/NN/", which changes no length.
type smuggleCase struct {
	name string
	in   string
	want []seen // the requests the backend gets whole, in order, before GET /NN/after
	// refused: after want's requests, roost answers one of status (400
	// when nil) and closes the connection; GET /NN/after is never
	// answered nor forwarded. Otherwise GET /NN/after is answered too.
	refused bool
	status  []int
	aborted bool // the refusal is in the body: the backend may see the request begin and break off
	netHTTP netHTTPDiff
}

const (
	post11    = "POST /@@/x HTTP/1.1\r\nHost: h\r\n"
	chunked   = "Transfer-Encoding: chunked\r\n"
	lastChunk = "0\r\n\r\n"
	smuggle   = "GET /@@/smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
	smuggle10 = "GET /@@/smuggled HTTP/1.0\r\n\r\n"
)

func sizeLine(data string) string { return fmt.Sprintf("%x\r\n", len(data)) }
func chunk(data string) string    { return sizeLine(data) + data + "\r\n" }
func length(body string) string   { return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n" }

// hello is a chunked body holding "hello".
var hello = chunk("hello") + lastChunk

var smuggleCorpus = []smuggleCase{
	// Legitimate shapes, which must keep working over one connection.
	{name: "pipelined GETs", in: "GET /@@/a HTTP/1.1\r\nHost: h\r\n\r\nGET /@@/b HTTP/1.1\r\nHost: h\r\n\r\n",
		want: []seen{{"GET /@@/a", "", ""}, {"GET /@@/b", "", ""}}},
	{name: "Content-Length body", in: post11 + length("hello") + "\r\nhello",
		want: []seen{{"POST /@@/x", "hello", ""}}},
	{name: "chunked upload with a trailer", in: post11 + chunked + "Trailer: X-Sum\r\n\r\n" + chunk("hello") + chunk(", world") + "0\r\nX-Sum: 42\r\n\r\n",
		want: []seen{{"POST /@@/x", "hello, world", "X-Sum: 42"}}},
	{name: "HTTP/1.0 keep-alive", in: "POST /@@/x HTTP/1.0\r\nConnection: keep-alive\r\n" + length("hi") + "\r\nhi",
		want: []seen{{"POST /@@/x", "hi", ""}}},
	{name: "TE Chunked, any case", in: post11 + "Transfer-Encoding: Chunked\r\n\r\n" + hello,
		want: []seen{{"POST /@@/x", "hello", ""}}},
	{name: "TE with spaces before the value", in: post11 + "Transfer-Encoding:   chunked\r\n\r\n" + hello,
		want: []seen{{"POST /@@/x", "hello", ""}}},
	{name: "TE with a tab after the value", in: post11 + "Transfer-Encoding: chunked\t\r\n\r\n" + hello,
		want: []seen{{"POST /@@/x", "hello", ""}}},
	{name: "Transfer_Encoding is another field", in: post11 + "Transfer_Encoding: chunked\r\n" + length(lastChunk+smuggle) + "\r\n" + lastChunk + smuggle,
		want: []seen{{"POST /@@/x", lastChunk + smuggle, ""}}},
	{name: "GET with a body that looks like a request", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\n" + length(smuggle) + "\r\n" + smuggle,
		want: []seen{{"GET /@@/x", smuggle, ""}}},

	// Content-Length with Transfer-Encoding, in both orders, with the
	// chunked body ending first and with Content-Length ending first.
	{name: "CL then TE, chunked ends first", in: post11 + length(lastChunk+smuggle) + chunked + "\r\n" + lastChunk + smuggle,
		refused: true, netHTTP: clWithTE},
	{name: "TE then CL, chunked ends first", in: post11 + chunked + length(lastChunk+smuggle) + "\r\n" + lastChunk + smuggle,
		refused: true, netHTTP: clWithTE},
	{name: "CL then TE, CL ends first", in: post11 + length(sizeLine(smuggle)) + chunked + "\r\n" + chunk(smuggle) + lastChunk,
		refused: true, netHTTP: clWithTE},
	{name: "TE then CL, CL ends first", in: post11 + chunked + length(sizeLine(smuggle)) + "\r\n" + chunk(smuggle) + lastChunk,
		refused: true, netHTTP: clWithTE},

	// Transfer-Encoding on HTTP/1.0.
	{name: "TE on HTTP/1.0 keep-alive with CL (issue 13)", in: "POST /@@/x HTTP/1.0\r\nConnection: keep-alive\r\n" + length(sizeLine(smuggle10)) + chunked + "\r\n" + chunk(smuggle10) + lastChunk,
		refused: true, netHTTP: teOn10},
	{name: "TE on HTTP/1.0 keep-alive without CL", in: "POST /@@/x HTTP/1.0\r\nConnection: keep-alive\r\n" + chunked + "\r\n" + hello,
		refused: true, netHTTP: teOn10},

	// Transfer-Encoding obfuscations.
	{name: "TE chunked, identity", in: post11 + "Transfer-Encoding: chunked, identity\r\n\r\n" + hello, refused: true, status: badCoding},
	{name: "TE identity, chunked", in: post11 + "Transfer-Encoding: identity, chunked\r\n\r\n" + hello, refused: true, status: badCoding},
	{name: "TE xchunked", in: post11 + "Transfer-Encoding: xchunked\r\n\r\n" + hello, refused: true, status: badCoding},
	{name: "TE twice", in: post11 + chunked + chunked + "\r\n" + hello, refused: true, status: badCoding},
	{name: "TE with NUL", in: post11 + "Transfer-Encoding: chunked\x00\r\n\r\n" + hello, refused: true},
	{name: "TE with space before the colon", in: post11 + "Transfer-Encoding : chunked\r\n" + length(lastChunk) + "\r\n" + lastChunk, refused: true},
	{name: "TE hidden in obs-fold", in: post11 + "X-Pad: a\r\n Transfer-Encoding: chunked\r\n" + length(sizeLine(smuggle)) + "\r\n" + chunk(smuggle) + lastChunk,
		refused: true, netHTTP: obsFold},
	{name: "TE value obs-folded", in: post11 + "Transfer-Encoding:\r\n chunked\r\n\r\n" + hello,
		refused: true, status: badCoding, netHTTP: obsFold},
	{name: "whitespace before the first field", in: "POST /@@/x HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n" + length(sizeLine(smuggle)) + "\r\n" + chunk(smuggle) + lastChunk,
		refused: true},

	// Content-Length.
	{name: "CL twice, equal", in: post11 + length("hello") + length("hello") + "\r\nhello", refused: true, netHTTP: sameCL},
	{name: "CL twice, differing", in: post11 + "Content-Length: 0\r\n" + length(smuggle) + "\r\n" + smuggle, refused: true},
	{name: "CL +5", in: post11 + "Content-Length: +5\r\n\r\nhello", refused: true},
	{name: "CL 0x5", in: post11 + "Content-Length: 0x5\r\n\r\nhello", refused: true},
	{name: "CL 5, 6", in: post11 + "Content-Length: 5, 6\r\n\r\nhello", refused: true},
	{name: "CL -1", in: post11 + "Content-Length: -1\r\n\r\nhello", refused: true},

	// Chunk sizes and extensions.
	{name: "chunk size over 16 digits", in: post11 + chunked + "\r\n10000000000000005\r\nhello\r\n" + lastChunk, refused: true, aborted: true},
	{name: "chunk size overflowing int64", in: post11 + chunked + "\r\nffffffffffffffff\r\nhello\r\n" + lastChunk,
		refused: true, aborted: true, netHTTP: hugeChunk},
	{name: "chunk size 0x5", in: post11 + chunked + "\r\n0x5\r\nhello\r\n" + lastChunk, refused: true, aborted: true},
	{name: "chunk size -5", in: post11 + chunked + "\r\n-5\r\nhello\r\n" + lastChunk, refused: true, aborted: true},
	{name: "chunk size with junk", in: post11 + chunked + "\r\n5 x\r\nhello\r\n" + lastChunk, refused: true, aborted: true},
	{name: "chunk extension over 1 KiB", in: post11 + chunked + "\r\n5;ext=" + strings.Repeat("x", 1100) + "\r\nhello\r\n" + lastChunk,
		refused: true, aborted: true, netHTTP: longExt},
	{name: "bare LF after the chunk size", in: post11 + chunked + "\r\n5\nhello\r\n" + lastChunk, refused: true, aborted: true},
	{name: "chunk data longer than its size", in: post11 + chunked + "\r\n2\r\nhello\r\n" + lastChunk, refused: true, aborted: true},

	// Field lines.
	{name: "bare CR in a field value", in: post11 + "X-Pad: a\rTransfer-Encoding: chunked\r\n" + length("hello") + "\r\nhello", refused: true},
	{name: "bare LF ending a field line", in: "GET /@@/x HTTP/1.1\r\nHost: h\nX-Pad: a\r\n\r\n", refused: true, netHTTP: bareLF},
	{name: "space before the colon", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX-Pad : a\r\n\r\n", refused: true},
	{name: "control character in a field name", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX\x01Pad: a\r\n\r\n", refused: true},
	{name: "control character in a field value", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX-Pad: a\x01b\r\n\r\n", refused: true},
	{name: "DEL in a field value", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX-Pad: a\x7fb\r\n\r\n", refused: true},
	{name: "NUL in a field name", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX\x00Pad: a\r\n\r\n", refused: true},
	{name: "NUL in a field value", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX-Pad: a\x00b\r\n\r\n", refused: true},
	{name: "two Host fields", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nHost: evil\r\n\r\n", refused: true},
	{name: "no Host on HTTP/1.1", in: "GET /@@/x HTTP/1.1\r\n\r\n", refused: true},
	{name: "head over 64 KiB", in: "GET /@@/x HTTP/1.1\r\nHost: h\r\nX-Pad: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", refused: true, status: tooLarge},

	// Request lines.
	{name: "double space", in: "GET  /@@/x HTTP/1.1\r\nHost: h\r\n\r\n", refused: true},
	{name: "tab for space", in: "GET\t/@@/x HTTP/1.1\r\nHost: h\r\n\r\n", refused: true},
	{name: "NUL in the target", in: "GET /@@/x\x00 HTTP/1.1\r\nHost: h\r\n\r\n", refused: true},
	{name: "HTTP/1.2", in: "GET /@@/x HTTP/1.2\r\nHost: h\r\n\r\n", refused: true, status: badVersion, netHTTP: version12},
	{name: "HTTP/2.0 over HTTP/1", in: "GET /@@/x HTTP/2.0\r\nHost: h\r\n\r\n", refused: true, status: badVersion},
	{name: "lower-case http/1.1", in: "GET /@@/x http/1.1\r\nHost: h\r\n\r\n", refused: true, status: badVersion},
	{name: "no version", in: "GET /@@/x\r\nHost: h\r\n\r\n", refused: true},

	// Pipelining stops at the first refused request.
	{name: "bad request after a good one", in: "GET /@@/a HTTP/1.1\r\nHost: h\r\n\r\n" + post11 + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		want: []seen{{"GET /@@/a", "", ""}}, refused: true},
}

// TestSmuggling runs the corpus against the engine ROOST_TEST_HTTP1
// names.
func TestSmuggling(t *testing.T) {
	runSmuggleCorpus(t, http1Engine(t))
}

// runSmuggleCorpus starts roost with engine in front of the recording
// backend and runs every case of the corpus through it, one subtest each.
// On net/http, the known-unsafe cases are skipped, and on its known
// leniencies only the safety checks apply: no smuggled request, and no
// request that no case sent, reaches the backend.
func runSmuggleCorpus(t *testing.T, engine string) {
	file := filepath.Join(t.TempDir(), "record.jsonl")
	r := startRoost(t, recordingApp(t, file)) // startRoost passes --http1 from ROOST_TEST_HTTP1
	for i, tc := range smuggleCorpus {
		t.Run(tc.name, func(t *testing.T) {
			strict := true
			if engine == "net/http" && tc.netHTTP.why != "" {
				if tc.netHTTP.unsafe {
					t.Skipf("known unsafe on net/http: %s", tc.netHTTP.why)
				}
				t.Logf("safety checks only on net/http: %s", tc.netHTTP.why)
				strict = false
			}
			prefix := fmt.Sprintf("/%02d/", i)
			ex := tc.exchange(t, r.addr, prefix)
			recs := caseRecords(readRecord(t, file), prefix)
			checkSafe(t, recs)
			if strict {
				tc.check(t, ex, recs, prefix)
			}
			if t.Failed() {
				t.Logf("sent %q\nreceived %s\nbackend got %+v", tc.input(prefix), ex, recs)
			}
		})
	}
	// A request forwarded after its case ended would have escaped it.
	t.Run("whole record", func(t *testing.T) {
		recs := readRecord(t, file)
		checkSafe(t, recs)
		for _, rec := range recs {
			n, err := strconv.Atoi(strings.SplitN(rec.Target+"/", "/", 3)[1])
			if err != nil || n >= len(smuggleCorpus) {
				t.Errorf("the backend got %q, which no case sent", rec.request())
			}
		}
	})
}

// input is what the case sends, with its requests under prefix.
func (tc smuggleCase) input(prefix string) string {
	return strings.ReplaceAll(tc.in, "/@@/", prefix) + "GET " + prefix + "after HTTP/1.1\r\nHost: h\r\n\r\n"
}

// exchanged is what came back on a case's connection.
type exchanged struct {
	statuses []int
	bodies   []string
	end      error // what ended the reading: nil after GET /NN/after's answer
}

func (ex exchanged) String() string {
	return fmt.Sprintf("statuses %v, bodies %q, then %v", ex.statuses, ex.bodies, ex.end)
}

// closed reports whether roost closed the connection after its last
// response, sending nothing more: a read error other than a timeout, on
// the first byte of a would-be response.
func (ex exchanged) closed() bool {
	return ex.end != nil && !errors.Is(ex.end, os.ErrDeadlineExceeded) && !errors.Is(ex.end, errPartial)
}

// errPartial says bytes came that are not a whole response.
var errPartial = errors.New("bytes that are not a whole response")

// exchange sends the case over a new connection to addr and reads
// responses until the one to GET /NN/after, or until the connection ends
// or stays silent for 5 s.
func (tc smuggleCase) exchange(t *testing.T, addr, prefix string) exchanged {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// A write error is no failure: roost may refuse and close before it
	// has read everything. The reading says what happened.
	io.WriteString(conn, tc.input(prefix))
	br := bufio.NewReader(conn)
	var ex exchanged
	for {
		if _, err := br.Peek(1); err != nil {
			ex.end = err
			return ex
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			ex.end = fmt.Errorf("%w: %v", errPartial, err)
			return ex
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ex.statuses = append(ex.statuses, resp.StatusCode)
		ex.bodies = append(ex.bodies, string(body))
		if err != nil {
			ex.end = fmt.Errorf("%w: body: %v", errPartial, err)
			return ex
		}
		if string(body) == "GET "+prefix+"after" {
			return ex
		}
	}
}

// caseRecords returns the records of the requests under prefix.
func caseRecords(recs []recorded, prefix string) []recorded {
	var mine []recorded
	for _, r := range recs {
		if strings.HasPrefix(r.Target, prefix) {
			mine = append(mine, r)
		}
	}
	return mine
}

// checkSafe fails t if the backend got a smuggled request.
func checkSafe(t *testing.T, recs []recorded) {
	t.Helper()
	for _, r := range recs {
		if strings.Contains(r.Target, "smuggled") {
			t.Errorf("SMUGGLED: the backend got %q, which the client sent as body bytes", r.request())
		}
	}
}

// check holds the exchange and the backend's records to the case.
func (tc smuggleCase) check(t *testing.T, ex exchanged, recs []recorded, prefix string) {
	t.Helper()
	want := make([]seen, len(tc.want))
	for i, w := range tc.want {
		want[i] = seen{strings.ReplaceAll(w.req, "/@@/", prefix), strings.ReplaceAll(w.body, "/@@/", prefix), w.trailer}
	}
	if !tc.refused {
		want = append(want, seen{req: "GET " + prefix + "after"})
	}
	tc.checkResponses(t, ex, want)
	var whole []recorded
	for _, r := range recs {
		switch {
		case r.Err == "":
			whole = append(whole, r)
		case !tc.aborted:
			t.Errorf("the backend got %q, which broke off (%s)", r.request(), r.Err)
		}
	}
	if len(whole) != len(want) {
		t.Errorf("the backend got %d whole requests, want %d: %v", len(whole), len(want), want)
		return
	}
	for i, w := range want {
		checkSeen(t, whole[i], w)
	}
}

// checkResponses holds the responses to want's requests, and the
// refusal if the case is refused.
func (tc smuggleCase) checkResponses(t *testing.T, ex exchanged, want []seen) {
	t.Helper()
	n := len(want)
	if tc.refused {
		n++
	}
	if len(ex.statuses) != n {
		t.Errorf("got %d responses, want %d", len(ex.statuses), n)
		return
	}
	for i, w := range want {
		if ex.statuses[i] != http.StatusOK || ex.bodies[i] != w.req {
			t.Errorf("response %d: %d %q, want 200 %q", i+1, ex.statuses[i], ex.bodies[i], w.req)
		}
	}
	if !tc.refused {
		return
	}
	status := tc.status
	if status == nil {
		status = []int{http.StatusBadRequest}
	}
	if got := ex.statuses[n-1]; !slices.Contains(status, got) {
		t.Errorf("refused with %d, want one of %v", got, status)
	}
	if !ex.closed() {
		t.Errorf("the connection was not closed after the refusal: %v", ex.end)
	}
}

// checkSeen holds one whole request the backend got to w.
func checkSeen(t *testing.T, got recorded, w seen) {
	t.Helper()
	if got.request() != w.req || got.Body != w.body {
		t.Errorf("the backend got %q with body %q, want %q with body %q", got.request(), got.Body, w.req, w.body)
	}
	if name, value, ok := strings.Cut(w.trailer, ": "); ok && got.Trailer.Get(name) != value {
		t.Errorf("the backend got trailer %v, want %s", got.Trailer, w.trailer)
	}
}
