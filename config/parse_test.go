package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// wrap puts lines inside <configuration><system.webServer>; its first line
// is line 3 of the file.
func wrap(lines ...string) string {
	return "<configuration>\n<system.webServer>\n" + strings.Join(lines, "\n") + "\n</system.webServer>\n</configuration>\n"
}

func parseDoc(t *testing.T, doc string, env map[string]string) (*Config, error) {
	t.Helper()
	return Parse(strings.NewReader(doc), Options{File: "web.config", Dir: testDir(t), Getenv: envMap(env)})
}

// testDir is an absolute app folder that exists on any system.
func testDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "app")
}

func mustParse(t *testing.T, doc string, env map[string]string) *Config {
	t.Helper()
	c, err := parseDoc(t, doc, env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// messages returns the errors of err, one string each.
func messages(t *testing.T, err error) []string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse error = %v (%T), want *Error", err, err)
	}
	return diagStrings(e.Errors)
}

func diagStrings(ds []*Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Error())
	}
	return out
}

func setting(c *Config, elem, name string) (Setting, bool) {
	for _, s := range c.Settings() {
		if s.Element == elem && s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

func TestDefaultsAspNetCore(t *testing.T) {
	doc := wrap(`<aspNetCore processPath="app" />`)
	c, err := Parse(strings.NewReader(doc), Options{Dir: "/srv/app"})
	if err != nil {
		t.Fatal(err)
	}
	dir := "/srv/app"
	wantProcess := Process{
		Kind: AspNetCore, Dir: dir, Path: "app",
		StartupTimeLimit: 120 * time.Second, ShutdownTimeLimit: 10 * time.Second,
		RapidFailsPerMinute: 10, StartupRetryCount: -1, ProcessesPerApplication: 1,
		ConsoleRedirection: true,
	}
	if !reflect.DeepEqual(c.Process, wantProcess) {
		t.Errorf("Process = %+v\nwant      %+v", c.Process, wantProcess)
	}
	// Filtering holds IIS's defaults, which TestFilteringDefaults checks.
	wantProxy := Proxy{Kind: AspNetCore, RequestTimeout: 2 * time.Minute, MaxAllowedContentLength: 30000000, ForwardWindowsAuthToken: true, Filtering: c.Proxy.Filtering}
	if c.Proxy != wantProxy || c.Proxy.Filtering == nil {
		t.Errorf("Proxy = %+v, want %+v", c.Proxy, wantProxy)
	}
	wantStdout := StdoutLog{Path: filepath.Join(dir, "aspnetcore-stdout"), MaxBytes: 10 << 20, MaxFiles: 10}
	if c.Stdout != wantStdout {
		t.Errorf("Stdout = %+v, want %+v", c.Stdout, wantStdout)
	}
	if c.Debug != (DebugLog{}) || c.DisallowRotationOnConfigChange || c.HostingModel != "" || c.RecycleOnFileChange != nil {
		t.Errorf("Debug = %+v, DisallowRotationOnConfigChange = %v, HostingModel = %q, RecycleOnFileChange = %q; want zero values",
			c.Debug, c.DisallowRotationOnConfigChange, c.HostingModel, c.RecycleOnFileChange)
	}
	if c.File != "web.config" || c.Dir != dir || c.Kind != AspNetCore {
		t.Errorf("File, Dir, Kind = %q, %q, %v", c.File, c.Dir, c.Kind)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", diagStrings(c.Warnings))
	}
}

func TestDefaultsHTTPPlatform(t *testing.T) {
	doc := wrap(`<httpPlatform processPath="app" />`)
	c, err := Parse(strings.NewReader(doc), Options{Dir: "/srv/app"})
	if err != nil {
		t.Fatal(err)
	}
	wantProcess := Process{
		Kind: HTTPPlatform, Dir: "/srv/app", Path: "app",
		StartupTimeLimit: 10 * time.Second, ShutdownTimeLimit: 10 * time.Second,
		RapidFailsPerMinute: 10, StartupRetryCount: 10, ProcessesPerApplication: 1,
		ConsoleRedirection: true,
	}
	if !reflect.DeepEqual(c.Process, wantProcess) {
		t.Errorf("Process = %+v\nwant      %+v", c.Process, wantProcess)
	}
	wantProxy := Proxy{Kind: HTTPPlatform, RequestTimeout: 2 * time.Minute, MaxAllowedContentLength: 30000000, Filtering: c.Proxy.Filtering}
	if c.Proxy != wantProxy || c.Proxy.Filtering == nil {
		t.Errorf("Proxy = %+v, want %+v", c.Proxy, wantProxy)
	}
	if want := filepath.Join("/srv/app", "httpplatform-stdout"); c.Stdout.Path != want {
		t.Errorf("Stdout.Path = %q, want %q", c.Stdout.Path, want)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", diagStrings(c.Warnings))
	}
}

// TestAttributeValues checks the range of every attribute: each valid
// value's effective setting, or each invalid value's exact error.
func TestAttributeValues(t *testing.T) {
	tests := []struct {
		elem, attr, value string
		want              string // the effective value; "" when wantErr is set
		wantErr           string // the message after "web.config:3: <elem> <attr>: "
	}{
		{"aspNetCore", "startupTimeLimit", "0", "0", ""},
		{"aspNetCore", "startupTimeLimit", "3600", "3600", ""},
		{"aspNetCore", "startupTimeLimit", "3601", "", "3601 seconds is out of range (0-3600)"},
		{"aspNetCore", "startupTimeLimit", "abc", "", `"abc" is not a number of seconds (0-3600)`},
		{"aspNetCore", "shutdownTimeLimit", "0", "0", ""},
		{"aspNetCore", "shutdownTimeLimit", "600", "600", ""},
		{"aspNetCore", "shutdownTimeLimit", "601", "", "601 seconds is out of range (0-600)"},
		{"aspNetCore", "rapidFailsPerMinute", "0", "0", ""},
		{"aspNetCore", "rapidFailsPerMinute", "100", "100", ""},
		{"aspNetCore", "rapidFailsPerMinute", "101", "", "101 is out of range (0-100)"},
		{"aspNetCore", "rapidFailsPerMinute", "-1", "", "-1 is out of range (0-100)"},
		{"aspNetCore", "requestTimeout", "00:00:00", "00:00:00", ""},
		{"aspNetCore", "requestTimeout", "1.02:03:04", "26:03:04", ""},
		{"aspNetCore", "requestTimeout", "360:00:00", "360:00:00", ""},
		{"aspNetCore", "requestTimeout", "360:00:01", "", `"360:00:01" is out of range (00:00:00-360:00:00)`},
		{"aspNetCore", "requestTimeout", "00:60:00", "", `"00:60:00" is not a TimeSpan: minutes must be 00-59 (want hh:mm:ss, e.g. "00:02:00", at most 360:00:00)`},
		{"aspNetCore", "stdoutLogEnabled", "TRUE", "true", ""},
		{"aspNetCore", "stdoutLogEnabled", "yes", "", `"yes" is not a boolean (true or false)`},
		{"aspNetCore", "processesPerApplication", "1", "1", ""},
		{"aspNetCore", "processesPerApplication", "100", "100", ""},
		{"aspNetCore", "processesPerApplication", "0", "", "0 is out of range (1-100)"},
		{"aspNetCore", "processesPerApplication", "101", "", "101 is out of range (1-100)"},
		{"aspNetCore", "forwardWindowsAuthToken", "False", "false", ""},
		{"aspNetCore", "disableStartUpErrorPage", "true", "true", ""},
		{"aspNetCore", "disableStartUpErrorPage", "1", "", `"1" is not a boolean (true or false)`},
		{"aspNetCore", "hostingModel", "OutOfProcess", "outofprocess", ""},
		{"aspNetCore", "hostingModel", "", "", ""},
		{"aspNetCore", "hostingModel", "hybrid", "", `unknown hosting model "hybrid" (inprocess or outofprocess)`},
		{"aspNetCore", "arguments", `a "b c"`, `a "b c"`, ""},
		{"httpPlatform", "startupTimeLimit", "3600", "3600", ""},
		{"httpPlatform", "startupTimeLimit", "3601", "", "3601 seconds is out of range (0-3600)"},
		{"httpPlatform", "startupRetryCount", "0", "0", ""},
		{"httpPlatform", "startupRetryCount", "100", "100", ""},
		{"httpPlatform", "startupRetryCount", "101", "", "101 is out of range (0-100)"},
		{"httpPlatform", "rapidFailsPerMinute", "101", "", "101 is out of range (0-100)"},
		{"httpPlatform", "requestTimeout", "720:00:00", "720:00:00", ""},
		{"httpPlatform", "requestTimeout", "30.00:00:01", "", `"30.00:00:01" is out of range (00:00:00-720:00:00)`},
		{"httpPlatform", "processesPerApplication", "101", "", "101 is out of range (1-100)"},
		{"httpPlatform", "forwardWindowsAuthToken", "true", "true", ""},
		{"httpPlatform", "stdoutLogEnabled", "maybe", "", `"maybe" is not a boolean (true or false)`},
	}
	for _, tt := range tests {
		t.Run(tt.elem+"/"+tt.attr+"="+tt.value, func(t *testing.T) {
			doc := wrap(`<` + tt.elem + ` processPath="app" ` + tt.attr + `="` + strings.ReplaceAll(tt.value, `"`, "&quot;") + `" />`)
			c, err := parseDoc(t, doc, nil)
			if tt.wantErr != "" {
				want := []string{"web.config:3: " + tt.elem + " " + tt.attr + ": " + tt.wantErr}
				if got := messages(t, err); !slices.Equal(got, want) {
					t.Errorf("errors = %q\nwant %q", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s, ok := setting(c, tt.elem, tt.attr)
			if !ok || s.Value != tt.want || s.Line != 3 || s.Source != "web.config" {
				t.Errorf("setting = %+v (found %v), want value %q from web.config line 3", s, ok, tt.want)
			}
		})
	}
}

func TestHandlerSettingValues(t *testing.T) {
	tests := []struct {
		name, value string
		want        string
		wantErr     string
	}{
		{"disallowRotationOnConfigChange", "TRUE", "true", ""},
		{"disallowRotationOnConfigChange", "yes", "", `"yes" is not a boolean (true or false)`},
		{"shutdownDelay", "1000", "1000", ""},
		{"shutdownDelay", "-1", "", `"-1" is not a number of milliseconds (0-3600000)`},
		{"forwardResponseConnectionHeader", "true", "true", ""},
		{"enableOutOfProcessConsoleRedirection", "false", "false", ""},
		{"debugLevel", "FILE,TRACE", "trace", ""},
		{"debugLevel", "error, warning", "warning", ""},
		{"debugLevel", "verbose", "", `unknown level or sink "verbose" (ERROR, WARNING, INFO, TRACE, CONSOLE, EVENTLOG, FILE)`},
		{"roost.stdoutLogMaxBytes", "1MB", "1MB", ""},
		{"roost.stdoutLogMaxBytes", "1000", "", `"1000" is out of range (1KB-1024GB)`},
		{"roost.stdoutLogMaxFiles", "3", "3", ""},
		{"roost.stdoutLogMaxFiles", "0", "", "0 is out of range (1-10000)"},
		{"roost.stdoutLogTimestamps", "true", "true", ""},
		// Names are matched ignoring case, as ANCM does.
		{"ROOST.STDOUTLOGMAXFILES", "4", "4", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			doc := wrap(
				`<aspNetCore processPath="app">`,
				`<handlerSettings>`,
				`<handlerSetting name="`+tt.name+`" value="`+tt.value+`" />`,
				`</handlerSettings>`,
				`</aspNetCore>`)
			c, err := parseDoc(t, doc, nil)
			canonical := findSpec(handlerSettingSpecs, tt.name, true).name
			if tt.wantErr != "" {
				want := []string{"web.config:5: handlerSettings " + canonical + ": " + tt.wantErr}
				if got := messages(t, err); !slices.Equal(got, want) {
					t.Errorf("errors = %q\nwant %q", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s, ok := setting(c, "handlerSettings", canonical)
			if !ok || s.Value != tt.want || s.Line != 5 {
				t.Errorf("setting = %+v (found %v), want value %q from line 5", s, ok, tt.want)
			}
		})
	}
}

func TestHandlerSettingsFields(t *testing.T) {
	doc := wrap(
		`<aspNetCore processPath="app">`,
		`<handlerSettings>`,
		`<handlerSetting name="disallowRotationOnConfigChange" value="true" />`,
		`<handlerSetting name="shutdownDelay" value="250" />`,
		`<handlerSetting name="forwardResponseConnectionHeader" value="true" />`,
		`<handlerSetting name="enableOutOfProcessConsoleRedirection" value="false" />`,
		`<handlerSetting name="debugLevel" value="CONSOLE,INFO" />`,
		`<handlerSetting name="roost.stdoutLogMaxBytes" value="64KB" />`,
		`<handlerSetting name="roost.stdoutLogMaxFiles" value="2" />`,
		`<handlerSetting name="roost.stdoutLogTimestamps" value="true" />`,
		`</handlerSettings>`,
		`</aspNetCore>`)
	c := mustParse(t, doc, nil)
	if !c.DisallowRotationOnConfigChange || c.Process.ShutdownDelay != 250*time.Millisecond ||
		!c.Proxy.ForwardResponseConnectionHeader || c.Process.ConsoleRedirection {
		t.Errorf("DisallowRotationOnConfigChange = %v, ShutdownDelay = %v, ForwardResponseConnectionHeader = %v, ConsoleRedirection = %v",
			c.DisallowRotationOnConfigChange, c.Process.ShutdownDelay, c.Proxy.ForwardResponseConnectionHeader, c.Process.ConsoleRedirection)
	}
	if want := (DebugLog{Level: "info", Console: true}); c.Debug != want {
		t.Errorf("Debug = %+v, want %+v", c.Debug, want)
	}
	if c.Stdout.MaxBytes != 64<<10 || c.Stdout.MaxFiles != 2 || !c.Stdout.Timestamps {
		t.Errorf("Stdout = %+v", c.Stdout)
	}
}

func TestDebugFile(t *testing.T) {
	tests := []struct {
		name     string
		settings []string
		wantFile string // relative to the app folder; "" for none
		want     DebugLog
	}{
		{"level alone writes the default file", []string{`debugLevel" value="TRACE`}, "aspnetcore-debug.log", DebugLog{Level: "trace"}},
		{"FILE sink writes the default file", []string{`debugLevel" value="FILE"`}, "aspnetcore-debug.log", DebugLog{Level: "info"}},
		{"console only", []string{`debugLevel" value="CONSOLE,ERROR`}, "", DebugLog{Level: "error", Console: true}},
		{"debugFile after debugLevel", []string{`debugLevel" value="FILE,TRACE`, `debugFile" value=".\logs\debug.log`}, "logs/debug.log", DebugLog{Level: "trace"}},
		{"debugFile alone", []string{`debugFile" value="d.log`}, "d.log", DebugLog{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{`<aspNetCore processPath="app">`, `<handlerSettings>`}
			for _, s := range tt.settings {
				lines = append(lines, `<handlerSetting name="`+strings.TrimSuffix(s, `"`)+`" />`)
			}
			lines = append(lines, `</handlerSettings>`, `</aspNetCore>`)
			c := mustParse(t, wrap(lines...), nil)
			want := tt.want
			if tt.wantFile != "" {
				want.File = filepath.Join(c.Dir, filepath.FromSlash(tt.wantFile))
			}
			if c.Debug != want {
				t.Errorf("Debug = %+v, want %+v", c.Debug, want)
			}
		})
	}
}

func TestRequestLimits(t *testing.T) {
	tests := []struct {
		value   string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"104857600", 104857600, ""},
		{"4294967295", 4294967295, ""},
		{"4294967296", 0, "web.config:3: requestLimits maxAllowedContentLength: 4294967296 is out of range (0-4294967295)"},
		{"-1", 0, "web.config:3: requestLimits maxAllowedContentLength: -1 is out of range (0-4294967295)"},
		{"lots", 0, `web.config:3: requestLimits maxAllowedContentLength: "lots" is not a whole number (0-4294967295)`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			doc := wrap(
				`<security><requestFiltering><requestLimits maxAllowedContentLength="`+tt.value+`" /></requestFiltering></security>`,
				`<aspNetCore processPath="app" />`)
			c, err := parseDoc(t, doc, nil)
			if tt.wantErr != "" {
				if got := messages(t, err); !slices.Equal(got, []string{tt.wantErr}) {
					t.Errorf("errors = %q, want %q", got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Proxy.MaxAllowedContentLength != tt.want {
				t.Errorf("MaxAllowedContentLength = %d, want %d", c.Proxy.MaxAllowedContentLength, tt.want)
			}
		})
	}
}

// TestErrors checks each kind of invalid file, with the exact message,
// line and attribute of every error.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			"malformed XML",
			"<configuration>\n<system.webServer>\n<aspNetCore processPath=\"app\">\n</system.webServer>\n</configuration>\n",
			[]string{"web.config:4: malformed XML: element <aspNetCore> closed by </system.webServer> (<aspNetCore> at line 3 is still open)"},
		},
		{
			"unterminated attribute",
			"<configuration>\n<system.webServer>\n<aspNetCore processPath=\"app />\n",
			[]string{"web.config:4: malformed XML: unexpected EOF (<system.webServer> at line 2 is still open)"},
		},
		{
			"empty file",
			"",
			[]string{"web.config:1: no XML element found; want <configuration>"},
		},
		{
			"duplicate attribute",
			wrap(`<aspNetCore processPath="a" processPath="b" />`),
			[]string{"web.config:3: aspNetCore processPath: malformed XML: attribute given twice"},
		},
		{
			"wrong root",
			"<?xml version=\"1.0\"?>\n<settings>\n</settings>\n",
			[]string{"web.config:2: root element is <settings>; want <configuration>"},
		},
		{
			"neither element",
			wrap(`<handlers />`),
			[]string{"web.config:1: no <aspNetCore> or <httpPlatform> element in <system.webServer>; want exactly one, to say what to run"},
		},
		{
			"both elements",
			wrap(`<aspNetCore processPath="a" />`, `<httpPlatform processPath="b" />`),
			[]string{"web.config:4: httpPlatform: <aspNetCore> at line 3 already configures the app; want exactly one <aspNetCore> or <httpPlatform>"},
		},
		{
			"element in root and in location",
			"<configuration>\n<system.webServer><aspNetCore processPath=\"a\" /></system.webServer>\n<location path=\".\">\n<system.webServer><aspNetCore processPath=\"b\" /></system.webServer>\n</location>\n</configuration>\n",
			[]string{"web.config:4: aspNetCore: <aspNetCore> at line 2 already configures the app; want exactly one <aspNetCore> or <httpPlatform>"},
		},
		{
			"missing processPath",
			wrap(`<aspNetCore arguments="x" />`),
			[]string{`web.config:3: aspNetCore processPath: required attribute is missing or empty; want the program to run, e.g. "dotnet", ".\MyApp.exe" or "python"`},
		},
		{
			"empty processPath",
			wrap(`<httpPlatform`, `  processPath="  " />`),
			[]string{`web.config:4: httpPlatform processPath: required attribute is missing or empty; want the program to run, e.g. "dotnet", ".\MyApp.exe" or "python"`},
		},
		{
			"attribute lines in a multi-line element",
			wrap(`<aspNetCore processPath="dotnet"`, `  arguments=".\app.dll"`, `  stdoutLogEnabled="false"`, `  startupTimeLimit="abc"`, `  requestTimeout="00:60:00" />`),
			[]string{
				`web.config:6: aspNetCore startupTimeLimit: "abc" is not a number of seconds (0-3600)`,
				`web.config:7: aspNetCore requestTimeout: "00:60:00" is not a TimeSpan: minutes must be 00-59 (want hh:mm:ss, e.g. "00:02:00", at most 360:00:00)`,
			},
		},
		{
			"add in environmentVariables",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<add name="A" value="1" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{`web.config:5: environmentVariables: <add> is not valid here; write <environmentVariable name="…" value="…"/> or <clear/>`},
		},
		{
			"remove in handlerSettings",
			wrap(`<aspNetCore processPath="app">`, `<handlerSettings>`, `<remove name="A" />`, `</handlerSettings>`, `</aspNetCore>`),
			[]string{`web.config:5: handlerSettings: <remove> is not valid here; write <handlerSetting name="…" value="…"/> or <clear/>`},
		},
		{
			"empty environment variable name",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<environmentVariable name="" value="1" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{`web.config:5: environmentVariable name: is empty; want a variable name`},
		},
		{
			"equals sign in environment variable name",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<environmentVariable name="A=B" value="1" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{`web.config:5: environmentVariable name: "A=B" contains '='; want a variable name`},
		},
		{
			"environment variable without value",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<environmentVariable name="A" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{`web.config:5: environmentVariable value: required attribute is missing`},
		},
		{
			"handler setting without name",
			wrap(`<aspNetCore processPath="app">`, `<handlerSettings>`, `<handlerSetting value="1" />`, `</handlerSettings>`, `</aspNetCore>`),
			[]string{`web.config:5: handlerSetting name: required attribute is missing`},
		},
		{
			"fixed port with several processes",
			wrap(`<aspNetCore processPath="app" processesPerApplication="2">`, `<environmentVariables>`, `<environmentVariable name="ASPNETCORE_PORT" value="5000" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{`web.config:5: environmentVariables ASPNETCORE_PORT: fixes one port, but processesPerApplication is 2 and each process needs its own; leave it empty to let roost choose`},
		},
		{
			"every error at once, in line order",
			wrap(
				`<aspNetCore processPath=""`,
				`  shutdownTimeLimit="700"`,
				`  hostingModel="weird">`,
				`<environmentVariables>`,
				`<add name="A" value="1" />`,
				`<environmentVariable name="ASPNETCORE_PORT" value="80" />`,
				`</environmentVariables>`,
				`</aspNetCore>`,
				`<security><requestFiltering><requestLimits maxAllowedContentLength="x" /></requestFiltering></security>`),
			[]string{
				`web.config:3: aspNetCore processPath: required attribute is missing or empty; want the program to run, e.g. "dotnet", ".\MyApp.exe" or "python"`,
				`web.config:4: aspNetCore shutdownTimeLimit: 700 seconds is out of range (0-600)`,
				`web.config:5: aspNetCore hostingModel: unknown hosting model "weird" (inprocess or outofprocess)`,
				`web.config:7: environmentVariables: <add> is not valid here; write <environmentVariable name="…" value="…"/> or <clear/>`,
				`web.config:8: environmentVariables ASPNETCORE_PORT: "80" is not a port (1025-48000, or empty to let roost choose)`,
				`web.config:11: requestLimits maxAllowedContentLength: "x" is not a whole number (0-4294967295)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseDoc(t, tt.doc, nil)
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want errors", c)
			}
			if got := messages(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q, want the errors one per line", err.Error())
			}
		})
	}
}

func TestErrorUnwrapsToDiagnostics(t *testing.T) {
	_, err := parseDoc(t, wrap(`<aspNetCore processPath="app" startupTimeLimit="x" />`), nil)
	var d *Diagnostic
	if !errors.As(err, &d) {
		t.Fatalf("errors.As(%v, *Diagnostic) = false", err)
	}
	if d.File != "web.config" || d.Line != 3 || d.Element != "aspNetCore" || d.Attribute != "startupTimeLimit" {
		t.Errorf("Diagnostic = %+v", d)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			"unknown attribute",
			wrap(`<aspNetCore processPath="app" colour="blue" />`),
			[]string{"web.config:3: aspNetCore colour: unknown attribute; ignored"},
		},
		{
			"attribute in the wrong case",
			wrap(`<aspNetCore processPath="app" StartupTimeLimit="5" />`),
			[]string{`web.config:3: aspNetCore StartupTimeLimit: unknown attribute (names are case-sensitive: did you mean "startupTimeLimit"?); ignored`},
		},
		{
			"attribute of the other element",
			wrap(`<httpPlatform processPath="app" shutdownTimeLimit="5" />`),
			[]string{"web.config:3: httpPlatform shutdownTimeLimit: is an attribute of <aspNetCore>, not of <httpPlatform>; ignored"},
		},
		{
			"namespaced attributes are not warned about",
			wrap(`<aspNetCore xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform" processPath="app" xdt:Transform="SetAttributes" />`),
			nil,
		},
		{
			"inprocess",
			wrap(`<aspNetCore processPath="app" hostingModel="InProcess" />`),
			[]string{`web.config:3: aspNetCore hostingModel: "inprocess" is not supported; roost always runs the app out of process`},
		},
		{
			"unknown child element",
			wrap(`<aspNetCore processPath="app">`, `<extras />`, `</aspNetCore>`),
			[]string{"web.config:4: aspNetCore: unknown element <extras>; ignored"},
		},
		{
			"IIS settings roost does not apply",
			wrap(`<rewrite />`, `<security><authentication /><requestFiltering><alwaysAllowedUrls /><requestLimits maxUrl="10" /></requestFiltering></security>`, `<aspNetCore processPath="app" />`),
			[]string{
				"web.config:3: system.webServer: <rewrite> is an IIS setting roost does not apply; ignored",
				"web.config:4: security: <authentication> is an IIS setting roost does not apply; ignored",
				"web.config:4: requestFiltering: <alwaysAllowedUrls> is an IIS setting roost does not apply; ignored",
			},
		},
		{
			"location for another path",
			"<configuration>\n<system.webServer><aspNetCore processPath=\"app\" /></system.webServer>\n<location path=\"admin\">\n<system.webServer><aspNetCore processPath=\"other\" /></system.webServer>\n</location>\n</configuration>\n",
			[]string{`web.config:3: location path: "admin" is not the app root; roost hosts the whole app with the root's settings, so this <location> is ignored`},
		},
		{
			"variable set twice",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<environmentVariable name="A" value="1" />`, `<environmentVariable name="a" value="2" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{"web.config:6: environmentVariables a: is set again; this value replaces the one at line 5"},
		},
		{
			"unknown handler settings",
			wrap(`<aspNetCore processPath="app">`, `<handlerSettings>`, `<handlerSetting name="roost.colour" value="1" />`, `<handlerSetting name="somethingElse" value="1" />`, `<handlerSetting name="handlerVersion" value="2.0" />`, `<handlerSetting name="experimentalEnableShadowCopy" value="true" />`, `</handlerSettings>`, `</aspNetCore>`),
			[]string{
				"web.config:5: handlerSettings roost.colour: unknown roost setting (roost.stdoutLogMaxBytes, roost.stdoutLogMaxFiles, roost.stdoutLogTimestamps); ignored",
				"web.config:6: handlerSettings somethingElse: unknown handler setting; ignored",
				"web.config:7: handlerSettings handlerVersion: roost has no request handler versions; ignored",
				"web.config:8: handlerSettings experimentalEnableShadowCopy: shadow copying is not supported; ignored",
			},
		},
		{
			"variables roost sets itself",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<environmentVariable name="ASPNETCORE_APPL_PATH" value="/x" />`, `<environmentVariable name="ASPNETCORE_IIS_HTTPAUTH" value="windows;" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{
				`web.config:5: environmentVariables ASPNETCORE_APPL_PATH: roost sets this variable itself (to "/"); the web.config value is replaced`,
				`web.config:6: environmentVariables ASPNETCORE_IIS_HTTPAUTH: roost sets this variable itself (to "anonymous;"); the web.config value is replaced`,
			},
		},
		{
			"PORT fixed to another port",
			wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`, `<environmentVariable name="PORT" value="5000" />`, `</environmentVariables>`, `</aspNetCore>`),
			[]string{`web.config:5: environmentVariables PORT: is fixed to "5000", but roost waits for the app on the port in ASPNETCORE_PORT; an app that reads PORT will not be found (write %ASPNETCORE_PORT% instead)`},
		},
		{
			"PORT following the assigned port is fine",
			wrap(`<httpPlatform processPath="app">`, `<environmentVariables>`, `<environmentVariable name="PORT" value="%HTTP_PLATFORM_PORT%" />`, `</environmentVariables>`, `</httpPlatform>`),
			nil,
		},
		{
			"recycleOnFileChange",
			wrap(`<aspNetCore processPath="app">`, `<recycleOnFileChange>`, `<file path="app.dll" />`, `</recycleOnFileChange>`, `</aspNetCore>`),
			[]string{"web.config:4: aspNetCore recycleOnFileChange: is not acted on (ANCM ignores it too); edit or touch web.config to recycle the app"},
		},
		{
			"handlers, modules and other sections are silent",
			"<configuration>\n<appSettings><add key=\"a\" value=\"b\" /></appSettings>\n<system.web />\n<system.webServer>\n<handlers><add name=\"aspNetCore\" path=\"*\" verb=\"*\" modules=\"AspNetCoreModuleV2\" resourceType=\"Unspecified\" /></handlers>\n<modules />\n<aspNetCore processPath=\"app\" />\n</system.webServer>\n</configuration>\n",
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.doc, nil)
			if got := diagStrings(c.Warnings); !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestWarningsKeptWithErrors(t *testing.T) {
	_, err := parseDoc(t, wrap(`<aspNetCore processPath="app" colour="blue" startupTimeLimit="x" />`), nil)
	var e *Error
	if !errors.As(err, &e) || len(e.Errors) != 1 || len(e.Warnings) != 1 {
		t.Fatalf("err = %#v, want one error and one warning", err)
	}
}

func TestEnvironmentVariables(t *testing.T) {
	doc := wrap(
		`<aspNetCore processPath="app">`,
		`<environmentVariables>`,
		`<environmentVariable name="DROPPED" value="x" />`,
		`<clear />`,
		`<environmentVariable name="ASPNETCORE_ENVIRONMENT" value="Development" />`,
		`<environmentVariable name="EXPANDED" value="%TestVariable%;Hello" />`,
		`<environmentVariable name="SERVER_PORT" value="%ASPNETCORE_PORT%" />`,
		`<environmentVariable name="EMPTY" value="" />`,
		`<environmentVariable name="LONG" value="`+strings.Repeat("x", 400)+`" />`,
		`<environmentVariable name="aspnetcore_environment" value="Staging" />`,
		`</environmentVariables>`,
		`</aspNetCore>`)
	c := mustParse(t, doc, map[string]string{"TestVariable": "World"})
	type kv struct {
		name, value, filled string
		line                int
	}
	var got []kv
	for _, v := range c.Process.Env {
		got = append(got, kv{v.Name, v.Value.String(), v.Value.Fill(4321), v.Line})
	}
	want := []kv{
		{"aspnetcore_environment", "Staging", "Staging", 12},
		{"EXPANDED", "World;Hello", "World;Hello", 8},
		{"SERVER_PORT", "%ASPNETCORE_PORT%", "4321", 9},
		{"EMPTY", "", "", 10},
		{"LONG", strings.Repeat("x", 400), strings.Repeat("x", 400), 11},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Env =\n%+v\nwant\n%+v", got, want)
	}
}

func TestFixedPort(t *testing.T) {
	tests := []struct {
		elem, name, value string
		want              int
		wantErr           string
	}{
		{"aspNetCore", "ASPNETCORE_PORT", "5000", 5000, ""},
		{"aspNetCore", "ASPNETCORE_PORT", "", 0, ""},
		{"aspNetCore", "ASPNETCORE_PORT", "%P%", 6000, ""},
		{"aspNetCore", "ASPNETCORE_PORT", "1025", 1025, ""},
		{"aspNetCore", "ASPNETCORE_PORT", "48000", 48000, ""},
		{"aspNetCore", "ASPNETCORE_PORT", "1024", 0, `"1024" is not a port (1025-48000, or empty to let roost choose)`},
		{"aspNetCore", "ASPNETCORE_PORT", "48001", 0, `"48001" is not a port (1025-48000, or empty to let roost choose)`},
		{"aspNetCore", "ASPNETCORE_PORT", "noninteger", 0, `"noninteger" is not a port (1025-48000, or empty to let roost choose)`},
		{"aspNetCore", "ASPNETCORE_PORT", "%PORT%", 0, `"%PORT%" refers to the port it sets; want a port number (1025-48000), or empty to let roost choose`},
		{"aspNetCore", "HTTP_PLATFORM_PORT", "80", 0, ""},
		{"httpPlatform", "HTTP_PLATFORM_PORT", "8080", 8080, ""},
		{"httpPlatform", "HTTP_PLATFORM_PORT", "80", 80, ""},
		{"httpPlatform", "HTTP_PLATFORM_PORT", "65536", 0, `"65536" is not a port (1-65535, or empty to let roost choose)`},
		{"httpPlatform", "ASPNETCORE_PORT", "5000", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.elem+"/"+tt.name+"="+tt.value, func(t *testing.T) {
			doc := wrap(`<`+tt.elem+` processPath="app">`, `<environmentVariables>`,
				`<environmentVariable name="`+tt.name+`" value="`+tt.value+`" />`,
				`</environmentVariables>`, `</`+tt.elem+`>`)
			c, err := parseDoc(t, doc, map[string]string{"P": "6000"})
			if tt.wantErr != "" {
				want := []string{"web.config:5: environmentVariables " + tt.name + ": " + tt.wantErr}
				if got := messages(t, err); !slices.Equal(got, want) {
					t.Errorf("errors = %q\nwant %q", got, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Process.Port != tt.want {
				t.Errorf("Port = %d, want %d", c.Process.Port, tt.want)
			}
		})
	}
}

func TestExpansionInAttributes(t *testing.T) {
	doc := wrap(`<aspNetCore processPath="%ROOT%\bin\app.exe" arguments="%ARGS% --port %PORT% %MISSING%" stdoutLogFile="%LOGS%\stdout" />`)
	c := mustParse(t, doc, map[string]string{"ROOT": "/opt/app", "ARGS": `"a b"`, "LOGS": "/var/log/app", "PORT": "9999"})
	wantPath := nativePath(`/opt/app\bin\app.exe`)
	if c.Process.Path != wantPath {
		t.Errorf("Process.Path = %q, want %q", c.Process.Path, wantPath)
	}
	// %PORT% stays open for the supervisor even though roost's own
	// environment has PORT (roost may listen on it).
	if got, want := c.Process.Args(5000), []string{"a b", "--port", "5000", "%MISSING%"}; !slices.Equal(got, want) {
		t.Errorf("Args(5000) = %q, want %q", got, want)
	}
	if got, want := c.Process.Args(0), []string{"a b", "--port", "%PORT%", "%MISSING%"}; !slices.Equal(got, want) {
		t.Errorf("Args(0) = %q, want %q", got, want)
	}
	if got, want := c.Process.CommandLine(5000), `"a b" --port 5000 %MISSING%`; got != want {
		t.Errorf("CommandLine(5000) = %q, want %q", got, want)
	}
	// On Windows, \var\log is on the app folder's drive.
	if want := filepath.Join(filepath.VolumeName(c.Dir), nativePath(`/var/log/app\stdout`)); c.Stdout.Path != want {
		t.Errorf("Stdout.Path = %q, want %q", c.Stdout.Path, want)
	}
}

func TestLauncherOverrides(t *testing.T) {
	doc := wrap(`<aspNetCore processPath="nope" arguments="nope" />`)
	c := mustParse(t, doc, map[string]string{"ANCM_LAUNCHER_PATH": "dotnet", "ANCM_LAUNCHER_ARGS": "app.dll"})
	if c.Process.Path != "dotnet" || c.Process.Arguments.String() != "app.dll" {
		t.Errorf("Path, Arguments = %q, %q; want the launcher overrides", c.Process.Path, c.Process.Arguments)
	}
	s, _ := setting(c, "aspNetCore", "processPath")
	if s.Source != "environment variable ANCM_LAUNCHER_PATH" {
		t.Errorf("processPath source = %q", s.Source)
	}
	// The override also stands in for a missing processPath.
	if _, err := parseDoc(t, wrap(`<aspNetCore />`), map[string]string{"ANCM_LAUNCHER_PATH": "dotnet"}); err != nil {
		t.Errorf("missing processPath with ANCM_LAUNCHER_PATH set: %v", err)
	}
}

func TestPreferEnvironmentVariables(t *testing.T) {
	doc := wrap(`<aspNetCore processPath="app">`, `<environmentVariables>`,
		`<environmentVariable name="ASPNETCORE_ENVIRONMENT" value="Development" />`,
		`<environmentVariable name="OTHER" value="kept" />`,
		`</environmentVariables>`, `</aspNetCore>`)
	env := map[string]string{"ASPNETCORE_ENVIRONMENT": "Production"}
	c := mustParse(t, doc, env)
	if len(c.Process.Env) != 2 || len(c.Warnings) != 0 {
		t.Fatalf("without ANCM_PREFER_ENVIRONMENT_VARIABLES: Env = %v, warnings %q", c.Process.Env, diagStrings(c.Warnings))
	}
	env["ANCM_PREFER_ENVIRONMENT_VARIABLES"] = "true"
	c = mustParse(t, doc, env)
	if len(c.Process.Env) != 1 || c.Process.Env[0].Name != "OTHER" {
		t.Errorf("with ANCM_PREFER_ENVIRONMENT_VARIABLES: Env = %v, want only OTHER", c.Process.Env)
	}
	if len(c.Warnings) != 1 {
		t.Errorf("warnings = %q, want one about ASPNETCORE_ENVIRONMENT", diagStrings(c.Warnings))
	}
}

func TestDetailedErrors(t *testing.T) {
	tests := []struct {
		name     string
		roostEnv map[string]string
		appEnv   string // ASPNETCORE_ENVIRONMENT in web.config, or ""
		want     bool
	}{
		{"nothing set", nil, "", false},
		{"development in web.config", nil, "Development", true},
		{"development in any case", nil, "development", true},
		{"production in web.config", nil, "Production", false},
		{"roost's environment wins", map[string]string{"ASPNETCORE_ENVIRONMENT": "Production"}, "Development", false},
		{"DOTNET_ENVIRONMENT", map[string]string{"DOTNET_ENVIRONMENT": "Development"}, "", true},
		{"ASPNETCORE_DETAILEDERRORS=1", map[string]string{"ASPNETCORE_DETAILEDERRORS": "1"}, "", true},
		{"ASPNETCORE_DETAILEDERRORS=true", map[string]string{"ASPNETCORE_DETAILEDERRORS": "TRUE"}, "Production", true},
		{"ASPNETCORE_DETAILEDERRORS=0", map[string]string{"ASPNETCORE_DETAILEDERRORS": "0"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{`<aspNetCore processPath="app">`}
			if tt.appEnv != "" {
				lines = append(lines, `<environmentVariables><environmentVariable name="ASPNETCORE_ENVIRONMENT" value="`+tt.appEnv+`" /></environmentVariables>`)
			}
			lines = append(lines, `</aspNetCore>`)
			c := mustParse(t, wrap(lines...), tt.roostEnv)
			if c.Proxy.DetailedErrors != tt.want {
				t.Errorf("DetailedErrors = %v, want %v", c.Proxy.DetailedErrors, tt.want)
			}
		})
	}
}

func TestEncodings(t *testing.T) {
	const doc = "<?xml version=\"1.0\" encoding=\"%s\"?>\r\n<configuration>\r\n<!-- a comment -->\r\n<location path=\".\" inheritInChildApplications=\"false\">\r\n<system.webServer>\r\n<aspNetCore processPath=\"app\" arguments=\"caf\u00e9\" startupTimeLimit=\"x\" />\r\n</system.webServer>\r\n</location>\r\n</configuration>\r\n"
	utf16 := func(s string, bigEndian bool) []byte {
		var b []byte
		if bigEndian {
			b = []byte{0xFE, 0xFF}
		} else {
			b = []byte{0xFF, 0xFE}
		}
		for _, r := range s { // the test text is all in the BMP
			hi, lo := byte(r>>8), byte(r)
			if bigEndian {
				b = append(b, hi, lo)
			} else {
				b = append(b, lo, hi)
			}
		}
		return b
	}
	latin1 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"utf-8", []byte(strings.Replace(doc, "%s", "utf-8", 1))},
		{"utf-8 with BOM", append([]byte{0xEF, 0xBB, 0xBF}, strings.Replace(doc, "%s", "utf-8", 1)...)},
		{"utf-16 little-endian", utf16(strings.Replace(doc, "%s", "utf-16", 1), false)},
		{"utf-16 big-endian", utf16(strings.Replace(doc, "%s", "utf-16", 1), true)},
		{"iso-8859-1", latin1(strings.Replace(doc, "%s", "iso-8859-1", 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad startupTimeLimit proves that lines are counted right.
			_, err := Parse(strings.NewReader(string(tt.data)), Options{File: "web.config", Dir: testDir(t)})
			want := []string{`web.config:6: aspNetCore startupTimeLimit: "x" is not a number of seconds (0-3600)`}
			if got := messages(t, err); !slices.Equal(got, want) {
				t.Fatalf("errors = %q, want %q", got, want)
			}
			fixed := strings.Replace(string(tt.data), `startupTimeLimit="x"`, `startupTimeLimit="1"`, 1)
			if strings.HasPrefix(tt.name, "utf-16") {
				return // the replacement above does not apply to UTF-16 bytes
			}
			c, err := Parse(strings.NewReader(fixed), Options{Dir: testDir(t)})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Process.Arguments.String(); got != "café" {
				t.Errorf("arguments = %q, want %q", got, "café")
			}
		})
	}
}

func TestUnsupportedEncoding(t *testing.T) {
	_, err := parseDoc(t, "<?xml version=\"1.0\" encoding=\"shift_jis\"?>\n<configuration/>", nil)
	want := []string{`web.config:1: encoding "shift_jis" is not supported (save the file as UTF-8)`}
	if got := messages(t, err); !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	_, err = Parse(strings.NewReader("<configuration>\xff\xfe\xfd</configuration>"), Options{})
	if got := messages(t, err); len(got) != 1 || !strings.Contains(got[0], "not valid UTF-8") {
		t.Errorf("errors = %q, want one about UTF-8", got)
	}
}

func TestFileTooLarge(t *testing.T) {
	big := "<configuration>" + strings.Repeat(" ", maxFileSize) + "</configuration>"
	_, err := parseDoc(t, big, nil)
	if got := messages(t, err); len(got) != 1 || !strings.Contains(got[0], "is larger than") {
		t.Errorf("errors = %q, want one about the size", got)
	}
}

func TestSettingsSources(t *testing.T) {
	doc := wrap(`<aspNetCore processPath="app"`, ` startupTimeLimit="30">`,
		`<environmentVariables><environmentVariable name="A" value="1" /></environmentVariables>`,
		`</aspNetCore>`)
	c := mustParse(t, doc, nil)
	tests := []struct {
		elem, name string
		want       Setting
	}{
		{"aspNetCore", "processPath", Setting{"aspNetCore", "processPath", "app", 3, "web.config"}},
		{"aspNetCore", "startupTimeLimit", Setting{"aspNetCore", "startupTimeLimit", "30", 4, "web.config"}},
		{"aspNetCore", "shutdownTimeLimit", Setting{"aspNetCore", "shutdownTimeLimit", "10", 0, "default"}},
		{"aspNetCore", "stdoutLogFile", Setting{"aspNetCore", "stdoutLogFile", filepath.Join(c.Dir, "aspnetcore-stdout"), 0, "default"}},
		{"environmentVariables", "A", Setting{"environmentVariables", "A", "1", 5, "web.config"}},
		{"handlerSettings", "roost.stdoutLogMaxBytes", Setting{"handlerSettings", "roost.stdoutLogMaxBytes", "10MB", 0, "default"}},
		{"requestLimits", "maxAllowedContentLength", Setting{"requestLimits", "maxAllowedContentLength", "30000000", 0, "default"}},
	}
	for _, tt := range tests {
		if got, _ := setting(c, tt.elem, tt.name); got != tt.want {
			t.Errorf("setting %s %s = %+v, want %+v", tt.elem, tt.name, got, tt.want)
		}
	}
	// Settings returns a copy.
	c.Settings()[0].Value = "changed"
	if c.Settings()[0].Value == "changed" {
		t.Error("Settings returned the Config's own slice")
	}
}

// TestDefaultsAreValid makes sure every default goes through its own
// parser: a default that fails would be reported as an error on a file
// that does not even set the attribute.
func TestDefaultsAreValid(t *testing.T) {
	for _, specs := range [][]attrSpec{aspNetCoreAttrs, httpPlatformAttrs, requestLimitsAttrs, handlerSettingSpecs} {
		for _, s := range specs {
			if !s.hasDef || s.name == "processPath" {
				continue
			}
			p := &parser{cfg: &Config{}, opts: Options{Dir: "/app"}}
			if msg := s.set(p, s.def, 0); msg != "" {
				t.Errorf("default of %s %q: %s", s.name, s.def, msg)
			}
			if s.get != nil {
				if got := s.get(p.cfg); got != s.def && s.name != "stdoutLogFile" {
					t.Errorf("%s: default %q shows as %q", s.name, s.def, got)
				}
			}
		}
	}
}

func TestKind(t *testing.T) {
	if AspNetCore.String() != "aspNetCore" || HTTPPlatform.String() != "httpPlatform" || Kind(7).String() != "Kind(7)" {
		t.Errorf("Kind.String: %v %v %v", AspNetCore, HTTPPlatform, Kind(7))
	}
	if AspNetCore.PortVariable() != "ASPNETCORE_PORT" || HTTPPlatform.PortVariable() != "HTTP_PLATFORM_PORT" {
		t.Errorf("Kind.PortVariable: %v %v", AspNetCore.PortVariable(), HTTPPlatform.PortVariable())
	}
}
