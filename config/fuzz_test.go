package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. It seeds from every web.config
// under testdata. Parse must never panic, and must either return a Config
// that honours its documented invariants or an *Error with at least one
// diagnostic.
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".config") {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil {
			f.Add(data)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(wrap(`<aspNetCore processPath="app" arguments="%PORT% &quot;a b&quot;" requestTimeout="1.00:00:00.5">`,
		`<environmentVariables><clear/><environmentVariable name="ASPNETCORE_PORT" value="5000" /></environmentVariables>`,
		`<handlerSettings><handlerSetting name="debugLevel" value="FILE,TRACE" /></handlerSettings>`,
		`</aspNetCore>`)))
	f.Add([]byte("\xff\xfe<\x00c\x00/\x00>\x00"))
	f.Add([]byte(rulesDoc(`allowDoubleEscaping="true"`, `<requestLimits maxUrl="260"><headerLimits><add header="A" sizeLimit="1" /></headerLimits></requestLimits>`,
		`<hiddenSegments><remove segment="bin" /><add segment="x" /></hiddenSegments>`,
		`<fileExtensions allowUnlisted="false"><clear /><add fileExtension="." allowed="true" /></fileExtensions>`,
		`<denyUrlSequences><add sequence=".." /></denyUrlSequences><verbs><add verb="TRACE" allowed="false" /></verbs>`)))

	env := envMap(map[string]string{"HOME": "/home/x", "PORT": "80"})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(strings.NewReader(string(data)), Options{File: "web.config", Dir: "/app", Getenv: env})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Errors) == 0 {
				t.Fatalf("error %v (%T) is not an *Error with diagnostics", err, err)
			}
			for _, d := range e.Errors {
				if d.File != "web.config" || d.Message == "" {
					t.Fatalf("diagnostic without file or message: %+v", d)
				}
			}
			return
		}
		if c.Kind != AspNetCore && c.Kind != HTTPPlatform {
			t.Fatalf("Kind = %v", c.Kind)
		}
		p := c.Process
		if strings.TrimSpace(p.Path) == "" || p.ProcessesPerApplication < 1 || p.RapidFailsPerMinute < 0 ||
			p.StartupTimeLimit < 0 || p.ShutdownTimeLimit < 0 || c.Proxy.RequestTimeout < 0 ||
			c.Proxy.MaxAllowedContentLength < 0 || c.Stdout.MaxBytes < 1<<10 || c.Stdout.MaxFiles < 1 {
			t.Fatalf("invalid Config accepted: %+v", c)
		}
		if p.Port < 0 || p.Port > 65535 {
			t.Fatalf("Port = %d", p.Port)
		}
		_ = p.Args(8080)
		if len(c.Settings()) == 0 {
			t.Fatal("no settings")
		}
		if f := c.Proxy.Filtering; f == nil || f.MaxURL < 0 || f.MaxQueryString < 0 || slices.ContainsFunc(f.HiddenSegments, func(e FilterEntry) bool { return e.Value == "" }) {
			t.Fatalf("invalid request filtering accepted: %+v", c.Proxy.Filtering)
		}
	})
}

// FuzzSplitCommandLine checks that quoting any words and splitting the
// result gives the same words back, and that splitting never panics.
func FuzzSplitCommandLine(f *testing.F) {
	for _, s := range []string{`a b`, `"a b" c`, `\\"x`, `C:\dir\ "q\"`, `""`, "a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := SplitCommandLine(s)
		if strings.ContainsRune(s, 0) {
			return
		}
		line := make([]string, len(words))
		for i, w := range words {
			line[i] = quoteArg(w)
		}
		if again := SplitCommandLine(strings.Join(line, " ")); !slices.Equal(again, words) && !(len(words) == 0 && len(again) == 0) {
			t.Fatalf("split(%q) = %q; quoted %q; split again %q", s, words, strings.Join(line, " "), again)
		}
	})
}

// quoteArg quotes one word so that SplitCommandLine reads it back whole:
// the inverse of its rules.
func quoteArg(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\"") {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(w[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}
