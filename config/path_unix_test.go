//go:build !windows

package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/false\n"), mode); err != nil {
		t.Fatal(err)
	}
}

func TestLookPath(t *testing.T) {
	app := t.TempDir()
	pathDir := t.TempDir()
	writeFile(t, filepath.Join(app, "bin", "app"), 0o755)
	writeFile(t, filepath.Join(app, "bin", "data.txt"), 0o644)
	writeFile(t, filepath.Join(app, "tool"), 0o755)
	writeFile(t, filepath.Join(pathDir, "tool"), 0o755)
	writeFile(t, filepath.Join(pathDir, "onpath"), 0o755)
	writeFile(t, filepath.Join(pathDir, "python3"), 0o755)
	t.Setenv("PATH", pathDir)

	tests := []struct {
		name, processPath string
		want              string // found file; "" when an error is wanted
		wantErr           string // substring of the error
	}{
		{"windows relative path with .exe", `.\bin\app.exe`, filepath.Join(app, "bin", "app"), ""},
		{"windows relative path", `.\bin\app`, filepath.Join(app, "bin", "app"), ""},
		{"unix relative path", "bin/app", filepath.Join(app, "bin", "app"), ""},
		{"dot-dot stays inside the path given", `bin\..\bin\app`, filepath.Join(app, "bin", "app"), ""},
		{"absolute path", filepath.Join(app, "bin", "app"), filepath.Join(app, "bin", "app"), ""},
		{"absolute path with .exe", filepath.Join(app, "bin", "app.exe"), filepath.Join(app, "bin", "app"), ""},
		{"bare name on PATH", "onpath", filepath.Join(pathDir, "onpath"), ""},
		{"bare name with .exe on PATH", "python3.exe", filepath.Join(pathDir, "python3"), ""},
		{"app folder before PATH", "tool", filepath.Join(app, "tool"), ""},
		{"not executable", `.\bin\data.txt`, "", "is not executable"},
		{"a folder", "bin", "", "is a folder, not a program"},
		{"missing bare name", "nosuchprogram", "", `processPath "nosuchprogram": not found (tried ` + filepath.Join(app, "nosuchprogram") + ", PATH)"},
		{"missing relative path is not looked up in PATH", `.\sub\onpath`, "", `not found (tried ` + filepath.Join(app, "sub", "onpath") + ")"},
		{"missing absolute path", "/nonexistent/app.exe", "", `processPath "/nonexistent/app.exe": no such file (tried /nonexistent/app.exe, /nonexistent/app)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Process{Dir: app, Path: nativePath(tt.processPath)}
			got, err := p.LookPath()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("LookPath(%q) = %q, %v; want error containing %q", tt.processPath, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("LookPath(%q) = %q, %v; want %q", tt.processPath, got, err, tt.want)
			}
		})
	}
}

func TestNativePaths(t *testing.T) {
	tests := []struct{ in, want string }{
		{`.\bin\app.exe`, "./bin/app.exe"},
		{`\\?\C:\home\LogFiles\stdout`, "C:/home/LogFiles/stdout"},
		{`/already/unix`, "/already/unix"},
	}
	for _, tt := range tests {
		if got := nativePath(tt.in); got != tt.want {
			t.Errorf("nativePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	p := &Process{Arguments: expand(`.\MyApp.dll ..\shared\x.dll --path=.\keep C:\keep\too`, nil, true)}
	if got, want := p.Args(1), []string{"./MyApp.dll", "../shared/x.dll", `--path=.\keep`, `C:\keep\too`}; !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
}
