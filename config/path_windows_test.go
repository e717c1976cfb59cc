//go:build windows

package config

import (
	"os"
	"path/filepath"
	"strings"
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

// A path rooted without a drive is on the app folder's drive (or share),
// as Windows and ANCM resolve it, not under the app folder.
func TestResolveInDriveRooted(t *testing.T) {
	tests := []struct{ dir, path, want string }{
		{`C:\sites\shop`, `\logs\stdout`, `C:\logs\stdout`},
		{`D:\sites\shop`, `/app/bin/x.exe`, `D:\app\bin\x.exe`},
		{`\\server\share\shop`, `\logs\stdout`, `\\server\share\logs\stdout`},
		{`C:\sites\shop`, `E:\logs\stdout`, `E:\logs\stdout`},
		{`C:\sites\shop`, `.\logs\stdout`, `C:\sites\shop\logs\stdout`},
		{`C:\sites\shop`, `logs\stdout`, `C:\sites\shop\logs\stdout`},
		{`C:\sites\shop`, `..\logs`, `C:\sites\logs`},
	}
	for _, tt := range tests {
		if got := resolveIn(tt.dir, tt.path); got != tt.want {
			t.Errorf("resolveIn(%q, %q) = %q, want %q", tt.dir, tt.path, got, tt.want)
		}
	}
}

// web.config's drive-rooted stdoutLogFile and processPath land on the app
// folder's drive.
func TestDriveRootedPathsInWebConfig(t *testing.T) {
	app := t.TempDir()
	drive := filepath.VolumeName(app)
	exe := filepath.Join(app, "bin", "x.exe")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("MZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	rooted := exe[len(drive):] // \...\bin\x.exe
	doc := `<configuration><system.webServer><aspNetCore processPath="` + rooted +
		`" stdoutLogEnabled="true" stdoutLogFile="\logs\stdout" /></system.webServer></configuration>`
	c, err := Parse(strings.NewReader(doc), Options{Dir: app, File: filepath.Join(app, "web.config")})
	if err != nil {
		t.Fatal(err)
	}
	if want := drive + `\logs\stdout`; c.Stdout.Path != want {
		t.Errorf("Stdout.Path = %q, want %q", c.Stdout.Path, want)
	}
	if got, err := c.Process.LookPath(); err != nil || got != exe {
		t.Errorf("LookPath() = %q, %v; want %q", got, err, exe)
	}
}
