package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// rulesDoc is a web.config with <requestFiltering attrs> and body, the
// first line of body being line 5.
func rulesDoc(attrs string, body ...string) string {
	return "<configuration>\n<system.webServer>\n<aspNetCore processPath=\"app\" />\n<security><requestFiltering " + attrs + ">\n" +
		strings.Join(body, "\n") + "\n</requestFiltering></security>\n</system.webServer>\n</configuration>\n"
}

func values(entries []FilterEntry) []string {
	var out []string
	for _, e := range entries {
		s := e.Value
		if e.Allowed {
			s += " allowed"
		}
		if e.SizeLimit > 0 {
			s += fmt.Sprintf(" %d", e.SizeLimit)
		}
		if e.Line > 0 {
			s += fmt.Sprintf(" @%d", e.Line)
		}
		out = append(out, s)
	}
	return out
}

var (
	iisHidden     = []string{"web.config", "bin", "App_code", "App_GlobalResources", "App_LocalResources", "App_WebReferences", "App_Data", "App_Browsers"}
	iisExtensions = []string{
		".asa", ".asax", ".ascx", ".master", ".skin", ".browser", ".sitemap", ".config", ".cs", ".csproj", ".vb",
		".vbproj", ".webinfo", ".licx", ".resx", ".resources", ".mdb", ".vjsproj", ".java", ".jsl", ".ldb",
		".dsdgm", ".ssdgm", ".lsad", ".ssmap", ".cd", ".dsprototype", ".lsaprototype", ".sdm", ".sdmDocument",
		".mdf", ".ldf", ".ad", ".dd", ".ldd", ".sd", ".adprototype", ".lddprototype", ".exclude", ".refresh",
		".compiled", ".msgx", ".vsdisco", ".rules",
	}
)

// TestFilteringDefaults checks IIS's defaults, as applicationHost.config
// ships them, with no <requestFiltering> in web.config.
func TestFilteringDefaults(t *testing.T) {
	c := mustParse(t, wrap(`<aspNetCore processPath="app" />`), nil)
	f := c.Proxy.Filtering
	if f == nil {
		t.Fatal("Proxy.Filtering is nil")
	}
	if f.AllowDoubleEscaping || !f.AllowHighBitCharacters || f.MaxURL != 4096 || f.MaxQueryString != 2048 ||
		!f.AllowUnlistedFileExtensions || !f.AllowUnlistedVerbs {
		t.Errorf("attributes = %+v; want IIS's defaults", f)
	}
	if got := values(f.HiddenSegments); !slices.Equal(got, iisHidden) {
		t.Errorf("HiddenSegments = %q\nwant %q", got, iisHidden)
	}
	if got := values(f.FileExtensions); !slices.Equal(got, iisExtensions) {
		t.Errorf("FileExtensions = %q\nwant %q", got, iisExtensions)
	}
	if f.DenyURLSequences != nil || f.Verbs != nil || f.HeaderLimits != nil || f.StdoutLogs != nil {
		t.Errorf("sequences, verbs, header limits, stdout logs = %v %v %v %v; want none", f.DenyURLSequences, f.Verbs, f.HeaderLimits, f.StdoutLogs)
	}
	for _, want := range []Setting{
		{"requestLimits", "maxUrl", "4096", 0, "default"},
		{"requestLimits", "maxQueryString", "2048", 0, "default"},
		{"requestFiltering", "allowDoubleEscaping", "false", 0, "default"},
		{"requestFiltering", "allowHighBitCharacters", "true", 0, "default"},
		{"fileExtensions", "allowUnlisted", "true", 0, "default"},
		{"verbs", "allowUnlisted", "true", 0, "default"},
		{"hiddenSegments", "App_Data", "hidden", 0, "default"},
		{"fileExtensions", ".config", "denied", 0, "default"},
	} {
		if got, _ := setting(c, want.Element, want.Name); got != want {
			t.Errorf("setting %s %s = %+v, want %+v", want.Element, want.Name, got, want)
		}
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings = %q", diagStrings(c.Warnings))
	}
}

// TestFilteringCollections checks what each element does to the rules:
// <add>, <remove> (in any letter case) and <clear/>, and the attributes.
func TestFilteringCollections(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		field func(*RequestFiltering) []FilterEntry
		want  []string
	}{
		{"hiddenSegments add", rulesDoc("", `<hiddenSegments>`, `<add segment="secret" />`, `</hiddenSegments>`),
			hidden, append(slices.Clone(iisHidden), "secret @6")},
		{"hiddenSegments remove in another case", rulesDoc("", `<hiddenSegments>`, `<remove segment="BIN" />`, `</hiddenSegments>`),
			hidden, slices.DeleteFunc(slices.Clone(iisHidden), func(s string) bool { return s == "bin" })},
		{"hiddenSegments clear then add", rulesDoc("", `<hiddenSegments applyToWebDAV="true">`, `<add segment="a" />`, `<clear />`, `<add segment="b" />`, `</hiddenSegments>`),
			hidden, []string{"b @8"}},
		{"fileExtensions allow list", rulesDoc("", `<fileExtensions allowUnlisted="false">`, `<clear/>`, `<add fileExtension="." allowed="true" />`, `<add fileExtension=".html" />`, `<add fileExtension=".exe" allowed="False" />`, `</fileExtensions>`),
			exts, []string{". allowed @7", ".html allowed @8", ".exe @9"}},
		{"fileExtensions remove then allow .config", rulesDoc("", `<fileExtensions>`, `<remove fileExtension=".config" />`, `<add fileExtension=".config" allowed="true" />`, `</fileExtensions>`),
			exts, append(slices.DeleteFunc(slices.Clone(iisExtensions), func(s string) bool { return s == ".config" }), ".config allowed @7")},
		{"denyUrlSequences add and remove", rulesDoc("", `<denyUrlSequences>`, `<add sequence=".." />`, `<add sequence="./" />`, `<remove sequence="./" />`, `<add sequence=":" />`, `</denyUrlSequences>`),
			seqs, []string{".. @6", ": @9"}},
		{"verbs", rulesDoc("", `<verbs allowUnlisted="false" applyToWebDAV="true">`, `<add verb="GET" allowed="true" />`, `<add verb="TRACE" allowed="false" />`, `</verbs>`),
			verbs, []string{"GET allowed @6", "TRACE @7"}},
		{"headerLimits", rulesDoc("", `<requestLimits maxUrl="260">`, `<headerLimits>`, `<add header="Content-Type" sizeLimit="100" />`, `<add header="X-Empty" sizeLimit="0" />`, `<remove header="x-empty" />`, `</headerLimits>`, `</requestLimits>`),
			headers, []string{"Content-Type 100 @7"}},
		{"two requestFiltering elements add up",
			"<configuration>\n<location path=\".\">\n<system.webServer>\n<aspNetCore processPath=\"app\" />\n" +
				"<security><requestFiltering><hiddenSegments><clear/><add segment=\"a\" /></hiddenSegments></requestFiltering></security>\n" +
				"</system.webServer>\n</location>\n<system.webServer><security><requestFiltering>\n" +
				"<hiddenSegments><add segment=\"b\" /></hiddenSegments>\n</requestFiltering></security></system.webServer>\n</configuration>\n",
			hidden, []string{"a @5", "b @9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.doc, nil)
			if got := values(tt.field(c.Proxy.Filtering)); !slices.Equal(got, tt.want) {
				t.Errorf("entries = %q\nwant      %q", got, tt.want)
			}
			if len(c.Warnings) != 0 {
				t.Errorf("warnings = %q", diagStrings(c.Warnings))
			}
		})
	}
}

func hidden(f *RequestFiltering) []FilterEntry  { return f.HiddenSegments }
func exts(f *RequestFiltering) []FilterEntry    { return f.FileExtensions }
func seqs(f *RequestFiltering) []FilterEntry    { return f.DenyURLSequences }
func verbs(f *RequestFiltering) []FilterEntry   { return f.Verbs }
func headers(f *RequestFiltering) []FilterEntry { return f.HeaderLimits }

func TestFilteringAttributes(t *testing.T) {
	doc := rulesDoc(`allowDoubleEscaping="TRUE" allowHighBitCharacters="false"`,
		`<requestLimits maxAllowedContentLength="10" maxUrl="260" maxQueryString="0" />`,
		`<fileExtensions allowUnlisted="false" />`,
		`<verbs allowUnlisted="False" />`)
	c := mustParse(t, doc, nil)
	f := c.Proxy.Filtering
	if !f.AllowDoubleEscaping || f.AllowHighBitCharacters || f.MaxURL != 260 || f.MaxQueryString != 0 ||
		f.AllowUnlistedFileExtensions || f.AllowUnlistedVerbs || c.Proxy.MaxAllowedContentLength != 10 {
		t.Errorf("Filtering = %+v, MaxAllowedContentLength = %d", f, c.Proxy.MaxAllowedContentLength)
	}
	for _, want := range []Setting{
		{"requestLimits", "maxUrl", "260", 5, "web.config"},
		{"requestLimits", "maxQueryString", "0", 5, "web.config"},
		{"requestFiltering", "allowDoubleEscaping", "true", 4, "web.config"},
		{"fileExtensions", "allowUnlisted", "false", 6, "web.config"},
		{"verbs", "allowUnlisted", "false", 7, "web.config"},
	} {
		if got, _ := setting(c, want.Element, want.Name); got != want {
			t.Errorf("setting %s %s = %+v, want %+v", want.Element, want.Name, got, want)
		}
	}
}

// TestFilteringErrors checks that every invalid value is an error naming
// its line, element and attribute, and that they are all reported at once.
func TestFilteringErrors(t *testing.T) {
	doc := rulesDoc(`allowDoubleEscaping="yes"`,
		`<requestLimits maxUrl="x" maxQueryString="4294967296">`, // 5
		`<headerLimits>`,
		`<add header="Accept" />`,                // 7
		`<add header="Cookie" sizeLimit="-1" />`, // 8
		`<add sizeLimit="10" />`,                 // 9
		`</headerLimits>`,
		`</requestLimits>`,
		`<hiddenSegments>`,
		`<add segment="" />`,       // 13
		`<add segment="secret" />`, // 14
		`<add segment="SECRET" />`, // 15
		`<remove />`,               // 16
		`</hiddenSegments>`,
		`<fileExtensions allowUnlisted="nah" applyToWebDAV="nope">`, // 18
		`<add fileExtension=".CONFIG" allowed="true" />`,            // 19
		`<add fileExtension=".x" allowed="maybe" />`,                // 20
		`</fileExtensions>`,
		`<verbs><add verb="" /></verbs>`, // 22
	)
	_, err := parseDoc(t, doc, nil)
	want := []string{
		`web.config:4: requestFiltering allowDoubleEscaping: "yes" is not a boolean (true or false)`,
		`web.config:5: requestLimits maxUrl: "x" is not a whole number (0-4294967295)`,
		`web.config:5: requestLimits maxQueryString: 4294967296 is out of range (0-4294967295)`,
		`web.config:7: headerLimits sizeLimit: required attribute is missing in <add>; want the longest value accepted, in bytes`,
		`web.config:8: headerLimits sizeLimit: -1 is out of range (0-4294967295)`,
		`web.config:9: headerLimits header: required attribute is missing in <add>`,
		`web.config:13: hiddenSegments segment: is empty in <add>; want a folder or file name, such as "App_Data"`,
		`web.config:15: hiddenSegments segment: "SECRET" is already in <hiddenSegments> (line 14), and IIS refuses a duplicate entry; write <remove segment="secret"/> before this <add>`,
		`web.config:16: hiddenSegments segment: required attribute is missing in <remove>`,
		`web.config:18: fileExtensions allowUnlisted: "nah" is not a boolean (true or false)`,
		`web.config:18: fileExtensions applyToWebDAV: "nope" is not a boolean (true or false)`,
		`web.config:19: fileExtensions fileExtension: ".CONFIG" is already in <fileExtensions> (IIS's default list), and IIS refuses a duplicate entry; write <remove fileExtension=".config"/> before this <add>`,
		`web.config:20: fileExtensions allowed: "maybe" is not a boolean (true or false)`,
		`web.config:22: verbs verb: is empty in <add>; want an HTTP method, such as "TRACE"`,
	}
	if got := messages(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFilteringWarnings checks what is accepted but cannot do what it
// says, or is not applied: each a warning with its line.
func TestFilteringWarnings(t *testing.T) {
	doc := rulesDoc(`unescapeQueryString="false" colour="red"`,
		`<requestLimits><headerLimit /></requestLimits>`, // 5
		`<hiddenSegments applyToWebDAV="false">`,         // 6
		`<add segment="a/b" size="1" />`,                 // 7
		`<remove segment="nothere" />`,                   // 8
		`<extra />`,                                      // 9
		`</hiddenSegments>`,
		`<fileExtensions AllowUnlisted="false">`,        // 11
		`<add fileExtension="exe" allowed="false" />`,   // 12
		`<remove fileExtension=".cs" allowed="true" />`, // 13
		`</fileExtensions>`,
		`<denyQueryStringSequences />`, // 15
	)
	c := mustParse(t, doc, nil)
	want := []string{
		`web.config:4: requestFiltering colour: unknown attribute; ignored`,
		`web.config:4: requestFiltering unescapeQueryString: roost does not filter query strings; ignored`,
		`web.config:5: requestLimits: unknown element <headerLimit>; ignored`,
		`web.config:6: hiddenSegments applyToWebDAV: roost does not tell WebDAV requests apart: these rules apply to every request`,
		`web.config:7: hiddenSegments size: unknown attribute of <add>; ignored`,
		`web.config:7: hiddenSegments segment: "a/b" holds a path separator: it hides paths in which these segments follow each other`,
		`web.config:8: hiddenSegments segment: "nothere" is not in <hiddenSegments>; nothing to remove`,
		`web.config:9: hiddenSegments: unknown element <extra>; ignored`,
		`web.config:11: fileExtensions AllowUnlisted: unknown attribute (names are case-sensitive: did you mean "allowUnlisted"?); ignored`,
		`web.config:12: fileExtensions fileExtension: "exe" does not start with a dot, so it matches no extension (write ".exe")`,
		`web.config:13: fileExtensions allowed: unknown attribute of <remove>; ignored`,
		`web.config:15: requestFiltering: <denyQueryStringSequences> is an IIS setting roost does not apply; ignored`,
	}
	if got := diagStrings(c.Warnings); !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !c.Proxy.Filtering.AllowUnlistedFileExtensions {
		t.Error("a misspelt allowUnlisted was applied")
	}
	if got := values(c.Proxy.Filtering.HiddenSegments); got[len(got)-1] != "a/b @7" {
		t.Errorf("HiddenSegments = %q; want a/b kept", got)
	}
}

// TestStdoutLogsHidden checks which part of the URL space the stdout log
// files take: their folder when it is inside the app folder, or their
// names when they are in the app folder itself, and nothing otherwise.
func TestStdoutLogsHidden(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "elsewhere", "stdout")
	tests := []struct {
		name, element, attrs string
		want                 *HiddenLogs
	}{
		{"folder", "aspNetCore", `stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout"`, &HiddenLogs{Folder: []string{"logs"}, Line: 3}},
		{"nested folder", "aspNetCore", `stdoutLogEnabled="true" stdoutLogFile="logs/app/out"`, &HiddenLogs{Folder: []string{"logs", "app"}, Line: 3}},
		{"app folder, default name", "aspNetCore", `stdoutLogEnabled="true"`, &HiddenLogs{Prefix: "aspnetcore-stdout_"}},
		{"httpPlatform default name", "httpPlatform", `stdoutLogEnabled="true"`, &HiddenLogs{Prefix: "httpplatform-stdout_"}},
		{"disabled", "aspNetCore", `stdoutLogEnabled="false" stdoutLogFile=".\logs\stdout"`, nil},
		{"above the app folder", "aspNetCore", `stdoutLogEnabled="true" stdoutLogFile="..\logs\stdout"`, nil},
		{"elsewhere", "aspNetCore", `stdoutLogEnabled="true" stdoutLogFile="` + outside + `"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, wrap(`<`+tt.element+` processPath="app" `+tt.attrs+` />`), nil)
			got := c.Proxy.Filtering.StdoutLogs
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("StdoutLogs = %+v, want %+v", got, tt.want)
			}
			if got == nil {
				return
			}
			want := Setting{"hiddenSegments", got.Path(), "hidden: stdout log files", tt.want.Line, "stdoutLogFile"}
			if s, _ := setting(c, "hiddenSegments", got.Path()); s != want {
				t.Errorf("setting = %+v, want %+v", s, want)
			}
		})
	}
	if p := (&HiddenLogs{Folder: []string{"logs", "app"}}).Path(); p != "/logs/app/" {
		t.Errorf("Path = %q", p)
	}
	if p := (&HiddenLogs{Prefix: "aspnetcore-stdout_"}).Path(); p != "/aspnetcore-stdout_*" {
		t.Errorf("Path = %q", p)
	}
}

func TestFilterEntrySource(t *testing.T) {
	if s := (FilterEntry{Value: "bin"}).Source(); s != "IIS default" {
		t.Errorf("Source = %q", s)
	}
	if s := (FilterEntry{Value: "x", Line: 12}).Source(); s != "web.config line 12" {
		t.Errorf("Source = %q", s)
	}
}
