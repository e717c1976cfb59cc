package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestExample loads the web.config.example at the repository root, which
// documents every setting, and compares its effective settings with
// testdata/example.golden. Run with -update after changing either.
func TestExample(t *testing.T) {
	path := filepath.Join("..", "web.config.example")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(strings.NewReader(string(data)), Options{File: "web.config.example", Dir: "/app"})
	if err != nil {
		t.Fatalf("web.config.example does not parse:\n%v", err)
	}
	if len(c.Warnings) > 0 {
		t.Errorf("web.config.example has warnings:\n%s", strings.Join(diagStrings(c.Warnings), "\n"))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "kind: %s\n", c.Kind)
	for _, s := range c.Settings() {
		fmt.Fprintf(&b, "%s %s = %q (%s line %d)\n", s.Element, s.Name, filepath.ToSlash(s.Value), s.Source, s.Line)
	}
	golden := filepath.Join("testdata", "example.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("effective settings of web.config.example:\n%s\nwant (%s; run go test -update to accept):\n%s", b.String(), golden, want)
	}

	// Every attribute and handler setting roost reads appears in the
	// example, so that it documents them all.
	for _, specs := range [][]attrSpec{aspNetCoreAttrs, requestLimitsAttrs, handlerSettingSpecs} {
		for _, s := range specs {
			if s.get == nil || s.name == "debugFile" || s.name == "debugLevel" {
				continue // ignored settings, and the debug log (described in a comment)
			}
			if !strings.Contains(string(data), `"`+s.name+`"`) && !strings.Contains(string(data), s.name+`="`) {
				t.Errorf("web.config.example does not show %s", s.name)
			}
		}
	}
}
