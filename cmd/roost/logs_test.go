package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logsApp writes a web.config with the given <aspNetCore> attributes into
// a new folder and returns the folder.
func logsApp(t *testing.T, attrs string) string {
	t.Helper()
	dir := t.TempDir()
	conf := `<configuration><system.webServer><aspNetCore processPath="app" ` + attrs + ` /></system.webServer></configuration>`
	if err := os.WriteFile(filepath.Join(dir, "web.config"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLogsCommand(t *testing.T) {
	on := `stdoutLogEnabled="true" stdoutLogFile=".\logs\stdout"`
	withFile := logsApp(t, on)
	if err := os.MkdirAll(filepath.Join(withFile, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(withFile, "logs", "stdout_20260102030405_77.log"), []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStdout string
		wantStderr string
	}{
		{"off", []string{logsApp(t, "")}, exitFailure, "", `stdout logging is off in web.config; set stdoutLogEnabled="true"`},
		{"no file yet", []string{logsApp(t, on)}, exitFailure, "", "no stdout log file yet"},
		{"invalid web.config", []string{logsApp(t, on+` startupTimeLimit="soon"`)}, exitUsage, "", `startupTimeLimit: "soon"`},
		{"no web.config", []string{t.TempDir()}, exitUsage, "", "web.config"},
		{"negative -n", []string{"-n", "-1", withFile}, exitUsage, "", "want 0 or more lines"},
		{"two apps", []string{withFile, withFile}, exitUsage, "", "want at most one APP"},
		{"last lines", []string{withFile, "-n", "2"}, exitOK, "two\nthree\n", ""},
		{"default 10", []string{withFile}, exitOK, "one\ntwo\nthree\n", ""},
		{"help", []string{"-h"}, exitOK, "", "usage: roost logs [-f] [-n N] [APP]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(append([]string{"logs"}, tt.args...), strings.NewReader(""), &stdout, &stderr)
			if got != tt.want || stdout.String() != tt.wantStdout || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("roost logs %q = %d, stdout %q, stderr %q; want %d, %q, stderr with %q",
					tt.args, got, stdout.String(), stderr.String(), tt.want, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}
