package test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRealWorldFiles runs roost check --json on every real-world
// web.config sample in config/testdata/real: each must be valid, and the
// settings must come from the file.
func TestCheckRealWorldFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "testdata", "real", "*.config"))
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d samples (%v), want at least 10", len(files), err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := exec.Command(roostBin, "check", "--json", file).Output()
			if err != nil {
				t.Fatalf("roost check --json %s: %v\n%s", file, err, out)
			}
			var report struct {
				Valid    bool
				Element  string
				Settings []struct {
					Name, Value, Source string
					Line                int
				}
			}
			if err := json.Unmarshal(out, &report); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			want := "aspNetCore"
			if strings.Contains(string(mustRead(t, file)), "<httpPlatform") {
				want = "httpPlatform"
			}
			if !report.Valid || report.Element != want {
				t.Errorf("valid, element = %v, %q; want true, %q", report.Valid, report.Element, want)
			}
			if len(report.Settings) == 0 || report.Settings[0].Name != "processPath" || report.Settings[0].Line == 0 {
				t.Errorf("first setting = %+v, want processPath with its line", report.Settings)
			}
		})
	}
}
