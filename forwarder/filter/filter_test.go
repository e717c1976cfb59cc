package filter

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roosthq/roost/config"
)

// rules parses a web.config whose <aspNetCore> has attrs and whose
// <requestFiltering> holds body, in an app folder under dir, and returns
// its request filtering rules.
func rules(t testing.TB, dir, attrs, body string) *config.RequestFiltering {
	t.Helper()
	doc := "<configuration><system.webServer>\n<aspNetCore processPath=\"app\" " + attrs + " />\n" +
		"<security><requestFiltering" + body + "</requestFiltering></security>\n</system.webServer></configuration>\n"
	c, err := config.Parse(strings.NewReader(doc), config.Options{Dir: filepath.Join(dir, "app")})
	if err != nil {
		t.Fatalf("parse:\n%v\n%s", err, doc)
	}
	return c.Proxy.Filtering
}

// The rule sets of the tests, each a <requestFiltering> element's content
// after its name.
const (
	defaults       = `>`
	strict         = ` allowHighBitCharacters="false">`
	lenient        = ` allowDoubleEscaping="true">`
	noBin          = `><hiddenSegments><remove segment="bin" /><add segment="a/b" /></hiddenSegments>`
	noHidden       = `><hiddenSegments><clear /><add segment="Secret. " /></hiddenSegments>`
	allowList      = `><fileExtensions allowUnlisted="false"><add fileExtension="." allowed="true" /><add fileExtension=".html" allowed="true" /></fileExtensions>`
	configAllowed  = `><fileExtensions><remove fileExtension=".config" /><add fileExtension=".config" allowed="true" /></fileExtensions>`
	sequences      = `><denyUrlSequences><add sequence=".." /><add sequence="\" /><add sequence="/Admin" /></denyUrlSequences>`
	noTrace        = `><verbs><add verb="TRACE" allowed="false" /></verbs>`
	onlyGet        = `><verbs allowUnlisted="false"><add verb="GET" allowed="true" /></verbs>`
	limits         = `><requestLimits maxUrl="10" maxQueryString="3"><headerLimits><add header="X-Small" sizeLimit="10" /><add header="host" sizeLimit="9" /></headerLimits></requestLimits>`
	logsFolder     = "logs"   // aspNetCore attrs: stdout log files in .\logs
	logsInAppRoot  = "root"   // aspNetCore attrs: stdout log files beside web.config
	noStdoutHidden = "nologs" // the default: stdout logging off
)

var stdoutAttrs = map[string]string{
	logsFolder:     `stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout"`,
	logsInAppRoot:  `stdoutLogEnabled="true"`,
	noStdoutHidden: ``,
}

type checkCase struct {
	rules, stdout string // the rule set and stdoutAttrs key
	method, path  string
	query         string
	header        http.Header
	host          string
	want          Reason // 0: let through
	value         string // the Denial's Value
}

// checkCases are the table: paths as sent (escaped), the rules, and the
// verdict.
var checkCases = []checkCase{
	// IIS's default hidden segments, in any segment, however written.
	{path: "/", want: 0},
	{path: "/index.html", want: 0},
	{path: "/binary/x", want: 0},
	{path: "/bin", want: HiddenSegment, value: "bin"},
	{path: "/bin/app.dll", want: HiddenSegment, value: "bin"},
	{path: "/api/bin", want: HiddenSegment, value: "bin"},
	{path: "/web.config", want: HiddenSegment, value: "web.config"},
	{path: "/WEB.CONFIG", want: HiddenSegment, value: "web.config"},
	{path: "/web.config.", want: HiddenSegment, value: "web.config"},
	{path: "/web.config%20", want: HiddenSegment, value: "web.config"},
	{path: "/web.config%2e%20.", want: HiddenSegment, value: "web.config"},
	{path: "/web.config::$DATA", want: HiddenSegment, value: "web.config"},
	{path: "/web.config:stream", want: HiddenSegment, value: "web.config"},
	{path: "/web.config%00.txt", want: HiddenSegment, value: "web.config"},
	{path: "/;/web.config", want: HiddenSegment, value: "web.config"},
	{path: "/web.config;x=1", want: HiddenSegment, value: "web.config"},
	{path: "/bin./x", want: HiddenSegment, value: "bin"},
	{path: "/%62in/x", want: HiddenSegment, value: "bin"},
	{path: "/%42IN/x", want: HiddenSegment, value: "bin"},
	{path: "/bin%2fx", want: HiddenSegment, value: "bin"},
	{path: "/bin%5Cx", want: HiddenSegment, value: "bin"},
	{path: `/x\bin`, want: HiddenSegment, value: "bin"},
	{path: "/x/%2e%2e/bin/y", want: HiddenSegment, value: "bin"},
	{path: "/bin/../x", want: HiddenSegment, value: "bin"},
	{path: "/app_data/db.mdf", want: HiddenSegment, value: "App_Data"},
	{path: "/App_Code/x.cs", want: HiddenSegment, value: "App_code"},
	{path: "/App_GlobalResources/", want: HiddenSegment, value: "App_GlobalResources"},
	{path: "/app_localresources", want: HiddenSegment, value: "App_LocalResources"},
	{path: "/App_WebReferences/x", want: HiddenSegment, value: "App_WebReferences"},
	{path: "/App_Browsers/x", want: HiddenSegment, value: "App_Browsers"},
	{path: "/WEB~1.CON", want: HiddenSegment, value: "web.config"},
	{path: "/APP_GL~1/x", want: HiddenSegment, value: "App_GlobalResources"},
	{path: "/AP1F3E~2/x", want: HiddenSegment, value: "App_code"}, // a hashed short name could be any App_*
	{path: "/binder~1", want: 0},
	{path: "/~user/x", want: 0},
	// IIS's default denied extensions, on the last segment.
	{path: "/x.cs", want: FileExtensionDenied, value: ".cs"},
	{path: "/src/X.CS", want: FileExtensionDenied, value: ".cs"},
	{path: "/x.cs.", want: FileExtensionDenied, value: ".cs"},
	{path: "/x.cs::$DATA", want: FileExtensionDenied, value: ".cs"},
	{path: "/x.cs;jsessionid=1", want: FileExtensionDenied, value: ".cs"},
	{path: "/x.cs/", want: FileExtensionDenied, value: ".cs"},
	{path: "/x.cs/.", want: FileExtensionDenied, value: ".cs"},
	{path: "/x.cs/..", want: 0},
	{path: "/x.cs/y", want: 0},
	{path: "/x.csx", want: 0},
	{path: "/x.cs.txt", want: 0},
	{path: "/appsettings.Config", want: FileExtensionDenied, value: ".config"},
	{path: "/a.SDMDOCUMENT", want: FileExtensionDenied, value: ".sdmDocument"},
	{path: "/global.asa", want: FileExtensionDenied, value: ".asa"},
	{path: "/x.rules", want: FileExtensionDenied, value: ".rules"},
	{path: "/APPSET~1.CON", want: FileExtensionDenied, value: ".config"},
	{path: "/x~1.htm", want: 0},
	// Double escaping and high-bit characters.
	{path: "/a+b", want: DoubleEscaped},
	{path: "/a%2Bb", want: DoubleEscaped},
	{path: "/%2562in/x", want: DoubleEscaped},
	{path: "/%252e%252e/x", want: DoubleEscaped},
	{path: "/100%25", want: 0},
	{path: "/caf%C3%A9", want: 0},
	{rules: lenient, path: "/a+b", want: 0},
	{rules: lenient, path: "/%2562in/x", want: 0},
	{rules: strict, path: "/caf%C3%A9", want: HighBitCharacters, value: "false"},
	{rules: strict, path: "/café", want: HighBitCharacters, value: "false"},
	{rules: strict, path: "/cafe", want: 0},
	// Limits, IIS's defaults and written ones.
	{path: "/" + strings.Repeat("a", 4095), want: 0},
	{path: "/" + strings.Repeat("a", 4096), want: URLTooLong, value: "4096"},
	{path: "/", query: strings.Repeat("q", 2048), want: 0},
	{path: "/", query: strings.Repeat("q", 2049), want: QueryStringTooLong, value: "2048"},
	{rules: limits, path: "/123456789", want: 0},
	{rules: limits, path: "/1234567890", want: URLTooLong, value: "10"},
	{rules: limits, path: "/", query: "abcd", want: QueryStringTooLong, value: "3"},
	{rules: limits, path: "/", header: http.Header{"X-Small": {"0123456789"}}, want: 0},
	{rules: limits, path: "/", header: http.Header{"X-Small": {"0123456789A"}}, want: HeaderTooLong, value: "X-Small"},
	{rules: limits, path: "/", header: http.Header{"X-Small": {"01234", "5678"}}, want: HeaderTooLong, value: "X-Small"},
	{rules: limits, path: "/", host: "localhost", want: 0},
	{rules: limits, path: "/", host: "localhost1", want: HeaderTooLong, value: "host"},
	// hiddenSegments written in web.config.
	{rules: noBin, path: "/bin/x", want: 0},
	{rules: noBin, path: "/x/A/b/c", want: HiddenSegment, value: "a/b"},
	{rules: noBin, path: "/a/x/b", want: 0},
	{rules: noHidden, path: "/App_Data/x", want: 0},
	{rules: noHidden, path: "/secret/x", want: HiddenSegment, value: "Secret. "},
	{rules: noHidden, path: "/secret./x", want: HiddenSegment, value: "Secret. "},
	{rules: noHidden, path: "/web.config", want: FileExtensionDenied, value: ".config"},
	// fileExtensions written in web.config.
	{rules: allowList, path: "/", want: 0},
	{rules: allowList, path: "/api/values", want: 0},
	{rules: allowList, path: "/x.HTML", want: 0},
	{rules: allowList, path: "/x.exe", want: FileExtensionDenied, value: "false"},
	{rules: allowList, path: "/x.config", want: FileExtensionDenied, value: ".config"},
	{rules: configAllowed, path: "/app.config", want: 0},
	{rules: configAllowed, path: "/web.config", want: HiddenSegment, value: "web.config"},
	// denyUrlSequences, verbs.
	{rules: sequences, path: "/a..b", want: URLSequenceDenied, value: ".."},
	{rules: sequences, path: "/a/%2E%2E/b", want: URLSequenceDenied, value: ".."},
	{rules: sequences, path: "/a%5cb", want: URLSequenceDenied, value: `\`},
	{rules: sequences, path: "/ADMIN/users", want: URLSequenceDenied, value: "/Admin"},
	{rules: sequences, path: "/administrators", want: URLSequenceDenied, value: "/Admin"},
	{rules: sequences, path: "/a.b/c", want: 0},
	{rules: noTrace, method: "TRACE", path: "/", want: VerbDenied, value: "TRACE"},
	{rules: noTrace, method: "trace", path: "/", want: VerbDenied, value: "TRACE"},
	{rules: noTrace, method: "GET", path: "/", want: 0},
	{rules: onlyGet, method: "GET", path: "/", want: 0},
	{rules: onlyGet, method: "POST", path: "/", want: VerbDenied, value: "false"},
	// The stdout log folder, from the URL root, resolved.
	{stdout: logsFolder, path: "/logs/stdout_20260101000000_1.log", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/LOGS", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/logs./x", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/x/../logs/a", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/%2e%2e/logs/a", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "//logs/a", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/x/..;/logs/a", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/logs/.. /a", want: HiddenSegment, value: "/logs/"},
	{stdout: logsFolder, path: "/api/logs", want: 0},
	{stdout: logsFolder, path: "/logsx/y", want: 0},
	{stdout: logsInAppRoot, path: "/aspnetcore-stdout_20260101000000_1.log", want: HiddenSegment, value: "/aspnetcore-stdout_*"},
	{stdout: logsInAppRoot, path: "/ASPNET~1.LOG", want: HiddenSegment, value: "/aspnetcore-stdout_*"},
	{stdout: logsInAppRoot, path: "/aspnetcore-stdout.txt", want: 0},
	{stdout: logsInAppRoot, path: "/x/aspnetcore-stdout_1.log", want: 0},
	{path: "/logs/stdout_1.log", want: 0},
}

// filters builds each rule set once per test.
type filters struct {
	t   testing.TB
	dir string
	m   map[[2]string]*Filter
}

func newFilters(t testing.TB, dir string) *filters {
	return &filters{t: t, dir: dir, m: make(map[[2]string]*Filter)}
}

func (fs *filters) get(rulesBody, stdout string) *Filter {
	if rulesBody == "" {
		rulesBody = defaults
	}
	if stdout == "" {
		stdout = noStdoutHidden
	}
	key := [2]string{rulesBody, stdout}
	if f, ok := fs.m[key]; ok {
		return f
	}
	f := New(rules(fs.t, fs.dir, stdoutAttrs[stdout], rulesBody))
	fs.m[key] = f
	return f
}

func (c checkCase) request() request {
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	return request{method: method, path: c.path, query: c.query, header: c.header, host: c.host}
}

func TestCheck(t *testing.T) {
	fs := newFilters(t, t.TempDir())
	for _, tt := range checkCases {
		name := tt.rules + tt.stdout + " " + tt.method + " " + tt.path
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			d := fs.get(tt.rules, tt.stdout).check(tt.request())
			switch {
			case d == nil && tt.want != 0:
				t.Fatalf("let through; want reason %d, value %q", tt.want, tt.value)
			case d == nil:
				return
			case tt.want == 0:
				t.Fatalf("denied: %v; want it let through", d)
			}
			if d.Reason != tt.want || tt.value != "" && d.Value != tt.value {
				t.Errorf("denied with reason %d, value %q (%v); want %d, %q", d.Reason, d.Value, d, tt.want, tt.value)
			}
			if d.Rule == "" || d.Value == "" || d.Detail == "" {
				t.Errorf("denial %+v lacks a rule, value or detail", d)
			}
		})
	}
}

// TestCheckRequest checks Check on an http.Request, as the forwarder
// calls it, and that a nil Filter lets everything through.
func TestCheckRequest(t *testing.T) {
	f := New(rules(t, t.TempDir(), "", defaults))
	r := httptest.NewRequest(http.MethodGet, "/%62in/x?y=1", nil)
	d := f.Check(r)
	if d == nil || d.Reason != HiddenSegment || d.Value != "bin" || d.Source != "IIS default" {
		t.Fatalf("Check = %+v; want the hidden segment bin, an IIS default", d)
	}
	if got, want := d.Error(), `request filtering: hiddenSegments "bin" (IIS default): segment "bin"`; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
	if d := f.Check(httptest.NewRequest(http.MethodGet, "/ok?web.config", nil)); d != nil {
		t.Errorf("a hidden name in the query string was denied: %v", d)
	}
	var none *Filter
	if d := none.Check(r); d != nil || New(nil) != nil {
		t.Errorf("nil Filter: Check = %v, New(nil) = %v", d, New(nil))
	}
}

func TestSources(t *testing.T) {
	f := New(rules(t, t.TempDir(), stdoutAttrs[logsFolder], `><hiddenSegments><add segment="secret" /></hiddenSegments>`))
	if d := f.check(request{method: "GET", path: "/secret"}); d == nil || d.Source != "web.config line 3" {
		t.Errorf("denial %+v; want it from web.config line 3", d)
	}
	if d := f.check(request{method: "GET", path: "/logs/x"}); d == nil || d.Rule != "stdoutLogFile" || d.Source != "web.config line 2" {
		t.Errorf("denial %+v; want stdoutLogFile from web.config line 2", d)
	}
	if d := f.check(request{method: "GET", path: "/" + strings.Repeat("a", 5000)}); d == nil || d.Source != "" ||
		d.Error() != `request filtering: requestLimits maxUrl "4096": the path is 5001 bytes` {
		t.Errorf("denial %+v (%v); want maxUrl without a source", d, d)
	}
}

// BenchmarkCheck is the cost per request of IIS's defaults on a typical
// path.
func BenchmarkCheck(b *testing.B) {
	f := New(rules(b, b.TempDir(), stdoutAttrs[logsFolder], defaults))
	r := request{method: "GET", path: "/api/orders/12345/items", query: "page=2&size=50"}
	b.ReportAllocs()
	for b.Loop() {
		if f.check(r) != nil {
			b.Fatal("denied")
		}
	}
}
