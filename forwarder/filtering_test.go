package forwarder

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/forwarder/filter"
)

// filteringConfig is baseConfig with the request filtering of a
// web.config whose <requestFiltering> holds body, stdout log files in
// .\logs, and detailed errors when detailed is set.
func filteringConfig(t *testing.T, body string, detailed bool) config.Proxy {
	t.Helper()
	doc := `<configuration><system.webServer><aspNetCore processPath="app" stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout" />` +
		`<security><requestFiltering>` + body + `</requestFiltering></security></system.webServer></configuration>`
	c, err := config.Parse(strings.NewReader(doc), config.Options{Dir: filepath.Join(t.TempDir(), "app")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	cfg.Filtering = c.Proxy.Filtering
	cfg.DetailedErrors = detailed
	return cfg
}

// TestFilteredRequestsNeverReachTheBackend sends requests that request
// filtering denies, over HTTP/1.1 and HTTP/2: each gets its status, and
// neither Acquire nor the backend sees it. One it lets through does
// reach the backend.
func TestFilteredRequestsNeverReachTheBackend(t *testing.T) {
	denied := []struct {
		method, target string
		header         http.Header
		status         int
	}{
		{"GET", "/web.config", nil, 404},
		{"GET", "/WEB.CONFIG.", nil, 404},
		{"GET", "/%62in/app.dll", nil, 404},
		{"GET", "/App_Data/db.mdf", nil, 404},
		{"GET", "/src/Program.cs", nil, 404},
		{"POST", "/appsettings.config", nil, 404},
		{"GET", "/logs/stdout_20260101000000_1.log", nil, 404},
		{"GET", "/a+b", nil, 404},
		{"GET", "/secret/x", nil, 404},
		{"TRACE", "/", nil, 404},
		{"GET", "/x/../../admin", nil, 404},
		{"GET", "/" + strings.Repeat("u", 300), nil, 414},
		{"GET", "/?" + strings.Repeat("q", 101), nil, 414},
		{"GET", "/", http.Header{"X-Big": {strings.Repeat("h", 11)}}, 431},
	}
	rules := `<hiddenSegments><add segment="secret" /></hiddenSegments><verbs><add verb="TRACE" allowed="false" /></verbs>` +
		`<denyUrlSequences><add sequence="admin" /></denyUrlSequences>` +
		`<requestLimits maxUrl="260" maxQueryString="100"><headerLimits><add header="X-Big" sizeLimit="10" /></headerLimits></requestLimits>`
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2], func(t *testing.T) {
			e := newEnv(t, filteringConfig(t, rules, false))
			var backendCalls atomic.Int32
			e.startBackend(func(w http.ResponseWriter, r *http.Request) {
				backendCalls.Add(1)
				echo(w, r)
			})
			e.startTLSFront(h2)
			for _, tt := range denied {
				req, err := http.NewRequestWithContext(testCtx(t), tt.method, e.front.URL+tt.target, strings.NewReader("body"))
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range tt.header {
					req.Header[k] = v
				}
				res, body := e.do(req)
				if res.StatusCode != tt.status || res.ProtoMajor != map[bool]int{false: 1, true: 2}[h2] {
					t.Errorf("%s %s: %s %d, want %d:\n%s", tt.method, tt.target, res.Proto, res.StatusCode, tt.status, body)
				}
			}
			if calls, _, _ := e.up.counts(); calls != 0 || backendCalls.Load() != 0 {
				t.Fatalf("Acquire called %d times, backend %d times, for denied requests; want 0", calls, backendCalls.Load())
			}
			res, body := e.get("/binary/app.js?x=1")
			if got := decodeSeen(t, res, body); got.RequestURI != "/binary/app.js?x=1" || backendCalls.Load() != 1 {
				t.Errorf("the backend saw %q (%d calls); want the allowed request once", got.RequestURI, backendCalls.Load())
			}
		})
	}
}

// TestFilteredAnswer checks what a client and the log learn of a denial:
// without detailed errors, a plain 404 page; with them, IIS's substatus
// in X-Roost-Substatus and in the title, and the rule. The log always
// names the rule, at info level.
func TestFilteredAnswer(t *testing.T) {
	for _, detailed := range []bool{false, true} {
		e := newEnv(t, filteringConfig(t, "", detailed))
		e.startFront()
		res, body := e.get("/Bin./x")
		page := string(body)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("detailed=%v: status %d, Cache-Control %q", detailed, res.StatusCode, res.Header.Get("Cache-Control"))
		}
		substatus, title := res.Header.Get("X-Roost-Substatus"), "<h1>HTTP Error 404 - Not Found</h1>"
		if detailed {
			title = "<h1>HTTP Error 404.8 - Not Found</h1>"
		}
		switch {
		case !strings.Contains(page, title):
			t.Errorf("detailed=%v: page lacks %q:\n%s", detailed, title, page)
		case detailed && (substatus != "404.8" || !strings.Contains(page, `hiddenSegments &#34;bin&#34; (IIS default): segment &#34;Bin.&#34;`)):
			t.Errorf("detailed: X-Roost-Substatus %q, page:\n%s", substatus, page)
		case !detailed && (substatus != "" || strings.Contains(page, "hiddenSegments") || strings.Contains(page, "404.8")):
			t.Errorf("not detailed: X-Roost-Substatus %q, page tells the rule:\n%s", substatus, page)
		}
		le := e.wantLog(zapcore.InfoLevel, "request filtered")
		fields := le.ContextMap()
		if fields["rule"] != "hiddenSegments" || fields["value"] != "bin" || fields["source"] != "IIS default" ||
			fields["substatus"] != "404.8" || fields["uri"] != "/Bin./x" {
			t.Errorf("detailed=%v: log fields %v", detailed, fields)
		}
	}
}

func TestFilteredHead(t *testing.T) {
	e := newEnv(t, filteringConfig(t, "", true))
	e.startFront()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodHead, e.front.URL+"/App_Data/x", nil)
	res, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || len(body) != 0 || res.Header.Get("X-Roost-Substatus") != "404.8" {
		t.Errorf("HEAD: status %d, %d bytes, substatus %q", res.StatusCode, len(body), res.Header.Get("X-Roost-Substatus"))
	}
}

// TestNoFilteringWithoutRules checks that a Proxy made by hand, without
// rules, lets everything through.
func TestNoFilteringWithoutRules(t *testing.T) {
	e := newEnv(t, baseConfig())
	e.startBackend(echo)
	e.startFront()
	res, body := e.get("/web.config")
	if got := decodeSeen(t, res, body); got.RequestURI != "/web.config" {
		t.Errorf("backend saw %q", got.RequestURI)
	}
}

// TestEveryFilterReasonHasAnAnswer: each reason package filter gives is
// a problem with an answer and an IIS substatus.
func TestEveryFilterReasonHasAnAnswer(t *testing.T) {
	for r := filter.URLTooLong; r <= filter.FileExtensionDenied; r++ {
		p, ok := filterProblems[r]
		if !ok || substatuses[p] == "" || answers[p].status == 0 {
			t.Errorf("reason %d: problem %d (%v), substatus %q", r, p, ok, substatuses[p])
		}
	}
	if len(filterProblems) != int(filter.FileExtensionDenied) {
		t.Errorf("%d reasons mapped, want %d", len(filterProblems), filter.FileExtensionDenied)
	}
}
