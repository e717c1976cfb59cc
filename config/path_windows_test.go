//go:build windows

package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLookPathAddsExe(t *testing.T) {
	app := t.TempDir()
	if err := os.MkdirAll(filepath.Join(app, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(app, "bin", "app.exe")
	if err := os.WriteFile(want, []byte("MZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &Process{Dir: app, Path: `.\bin\app`}
	if got, err := p.LookPath(); err != nil || got != want {
		t.Errorf("LookPath() = %q, %v; want %q", got, err, want)
	}
	// Arguments are passed as written on Windows.
	p.Arguments = expand(`.\MyApp.dll`, nil, true)
	if got := p.Args(1); len(got) != 1 || got[0] != `.\MyApp.dll` {
		t.Errorf("Args = %q", got)
	}
}
