package test

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// filteredApp is fakeApp with <security><requestFiltering attrs>body after
// <aspNetCore>, FAKE_LOG in the app folder, and env.
func filteredApp(t *testing.T, aspNetCoreAttrs, attrs, body string, env ...string) (app, fakeLog string) {
	t.Helper()
	fakeLog = filepath.Join(t.TempDir(), "fake.log")
	app = fakeApp(t, aspNetCoreAttrs, append([]string{"FAKE_LOG", fakeLog}, env...)...)
	file := filepath.Join(app, "web.config")
	doc := strings.Replace(mustReadString(t, file), "</aspNetCore>",
		"</aspNetCore>\n<security><requestFiltering"+attrs+">"+body+"</requestFiltering></security>", 1)
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return app, fakeLog
}

// front is one of roost's listeners, with a client for it.
type front struct {
	t      *testing.T
	r      *roostRun
	base   string // scheme://host:port
	client *http.Client
	proto  int // the HTTP major version its answers must have
}

// fronts starts roost on app with an http and an https listener, and
// returns a front for each: HTTP/1.1, and HTTP/2 over TLS.
func fronts(t *testing.T, app string) []front {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSigned(t, certFile, keyFile)
	r := startRoost(t, "--listen", "https://127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, app)
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	t.Cleanup(h2.CloseIdleConnections)
	return []front{
		{t: t, r: r, base: r.listenURL("http"), client: http.DefaultClient, proto: 1},
		{t: t, r: r, base: r.listenURL("https"), client: h2, proto: 2},
	}
}

// do sends method target (a path as sent, with any query) with header,
// and returns the answer and its body.
func (f front) do(method, target string, header http.Header) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+target, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v\nroost:\n%s", method, target, err, f.r.stderr())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != f.proto {
		f.t.Errorf("%s %s answered over %s, want HTTP/%d", method, target, resp.Proto, f.proto)
	}
	return resp, string(body)
}

// refused checks that roost itself answered with status and its page
// titled code (the backend's own 404 is "404 page not found"), and
// returns X-Roost-Substatus.
func (f front) refused(method, target string, header http.Header, status int, code string) string {
	f.t.Helper()
	resp, body := f.do(method, target, header)
	if resp.StatusCode != status || !strings.Contains(body, "<h1>HTTP Error "+code+" - ") {
		f.t.Errorf("%s %s over HTTP/%d: status %d, want %d from roost with the %s page; body:\n%.300s", method, target, f.proto, resp.StatusCode, status, code, body)
	}
	return resp.Header.Get("X-Roost-Substatus")
}

// reached checks that the backend answered: with its own 404 for a path
// it does not serve, or with 200.
func (f front) reached(method, target string, header http.Header) {
	f.t.Helper()
	resp, body := f.do(method, target, header)
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound && body == "404 page not found\n" {
		return
	}
	f.t.Errorf("%s %s over HTTP/%d: status %d, body %.300q; want it to reach the backend", method, target, f.proto, resp.StatusCode, body)
}

// iisHidden and iisDenied are IIS's default hidden segments and denied
// extensions, as applicationHost.config ships them.
var (
	iisHidden = []string{"web.config", "bin", "App_code", "App_GlobalResources", "App_LocalResources", "App_WebReferences", "App_Data", "App_Browsers"}
	iisDenied = []string{
		".asa", ".asax", ".ascx", ".master", ".skin", ".browser", ".sitemap", ".config", ".cs", ".csproj", ".vb",
		".vbproj", ".webinfo", ".licx", ".resx", ".resources", ".mdb", ".vjsproj", ".java", ".jsl", ".ldb",
		".dsdgm", ".ssdgm", ".lsad", ".ssmap", ".cd", ".dsprototype", ".lsaprototype", ".sdm", ".sdmDocument",
		".mdf", ".ldf", ".ad", ".dd", ".ldd", ".sd", ".adprototype", ".lddprototype", ".exclude", ".refresh",
		".compiled", ".msgx", ".vsdisco", ".rules",
	}
)

// TestRunRequestFilteringDefaults: with no <requestFiltering>, IIS's
// defaults keep every hidden segment, denied extension and the stdout log
// folder from the backend, over HTTP/1.1 and HTTP/2, however the path is
// written; the rest reaches it.
func TestRunRequestFilteringDefaults(t *testing.T) {
	app, fakeLog := filteredApp(t, `stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout"`, "", "")
	fs := fronts(t, app)
	for _, f := range fs {
		for _, seg := range iisHidden {
			f.refused("GET", "/"+seg, nil, 404, "404")
			f.refused("GET", "/x/"+strings.ToUpper(seg)+"./y", nil, 404, "404")
		}
		for _, ext := range iisDenied {
			f.refused("GET", "/files/name"+ext, nil, 404, "404")
		}
		for _, target := range []string{
			"/web.config%20", "/web.config::$DATA", "/%62in/app.dll", "/bin%2fapp.dll", "/a/%2e%2e/bin/x", "/;/web.config",
			"/WEB~1.CON", "/Program.CS.", "/logs/stdout_20260101000000_1.log", "/a+b", "/%252e",
		} {
			f.refused("GET", target, nil, 404, "404")
		}
		f.refused("GET", "/slow?ms=0&q="+strings.Repeat("q", 2048), nil, 414, "414")
		f.refused("GET", "/"+strings.Repeat("u", 4096), nil, 414, "414")
		if sub := f.refused("GET", "/bin/x", nil, 404, "404"); sub != "" {
			t.Errorf("X-Roost-Substatus %q without detailed errors", sub)
		}
		for _, target := range []string{"/headers", "/binary/x", "/x.cshtml", "/web.config.txt", "/api/logs", "/caf%C3%A9", "/slow?ms=0"} {
			f.reached("GET", target, nil)
		}
	}
	if data, _ := os.ReadFile(fakeLog); string(data) != "slow\nslow\n" {
		t.Errorf("the backend noted %q; want only the two /slow requests let through", data)
	}
	line := fs[0].r.waitLog(`"uri": "/bin/x"`, 10*time.Second)
	for _, want := range []string{"INFO", "request filtered", `"rule": "hiddenSegments", "value": "bin"`, `"substatus": "404.8"`, `"source": "IIS default"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}

// TestRunRequestFilteringConfig: each element of <requestFiltering>
// changes what reaches the backend as IIS documents, <add>, <remove> and
// <clear/> included, over HTTP/1.1 and HTTP/2; with detailed errors on
// (Development), each answer tells IIS's substatus.
func TestRunRequestFilteringConfig(t *testing.T) {
	app, fakeLog := filteredApp(t, "", ` allowDoubleEscaping="true" allowHighBitCharacters="false"`, `
<requestLimits maxUrl="100" maxQueryString="20">
  <headerLimits><add header="X-Gone" sizeLimit="1" /><clear /><add header="X-Small" sizeLimit="5" /></headerLimits>
</requestLimits>
<hiddenSegments><remove segment="bin" /><add segment="slow" /></hiddenSegments>
<fileExtensions allowUnlisted="false"><clear /><add fileExtension="." allowed="true" /><add fileExtension=".txt" allowed="true" /><add fileExtension=".exe" allowed="false" /></fileExtensions>
<denyUrlSequences><add sequence="secret" /><add sequence="public" /><remove sequence="public" /></denyUrlSequences>
<verbs><add verb="DELETE" allowed="false" /></verbs>`, "ASPNETCORE_ENVIRONMENT", "Development")
	for _, f := range fronts(t, app) {
		for _, c := range []struct {
			method, target string
			header         http.Header
			status         int
			substatus      string
		}{
			{"GET", "/slow?ms=0", nil, 404, "404.8"},                     // added hidden segment
			{"GET", "/App_Data/x", nil, 404, "404.8"},                    // a default one still there
			{"GET", "/x.config", nil, 404, "404.7"},                      // cleared, so unlisted: denied
			{"GET", "/setup.exe", nil, 404, "404.7"},                     // added as denied
			{"GET", "/a/secret/b", nil, 404, "404.5"},                    // added sequence
			{"DELETE", "/headers", nil, 404, "404.6"},                    // denied verb
			{"GET", "/caf%C3%A9", nil, 404, "404.12"},                    // allowHighBitCharacters="false"
			{"GET", "/" + strings.Repeat("u", 100), nil, 414, "404.14"},  // maxUrl
			{"GET", "/?" + strings.Repeat("q", 21), nil, 414, "404.15"},  // maxQueryString
			{"GET", "/", http.Header{"X-Small": {"123456"}}, 431, "431"}, // headerLimits
		} {
			if sub := f.refused(c.method, c.target, c.header, c.status, c.substatus); sub != c.substatus {
				t.Errorf("%s %s: X-Roost-Substatus %q, want %q", c.method, c.target, sub, c.substatus)
			}
		}
		for _, target := range []string{
			"/bin/x",      // removed hidden segment
			"/a/public/b", // removed sequence
			"/x.txt",      // allowed extension
			"/headers",    // no extension: "." allowed
			"/a+b",        // allowDoubleEscaping="true"
			"/%2562in",    // likewise
			"/" + strings.Repeat("u", 99),
		} {
			f.reached("GET", target, nil)
		}
		f.reached("GET", "/headers", http.Header{"X-Small": {"12345"}, "X-Gone": {"cleared"}})
		f.reached("POST", "/headers", nil)
	}
	if data, _ := os.ReadFile(fakeLog); len(data) != 0 {
		t.Errorf("the backend noted %q; /slow is hidden and must not reach it", data)
	}
}
