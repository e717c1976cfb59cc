package main

import (
	"bytes"
	"flag"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantJSON bool
		wantPos  []string
	}{
		{nil, false, nil},
		{[]string{"--json"}, true, nil},
		{[]string{"app"}, false, []string{"app"}},
		{[]string{"app", "--json"}, true, []string{"app"}},
		{[]string{"-json", "app"}, true, []string{"app"}},
		{[]string{"a", "--json", "b"}, true, []string{"a", "b"}},
		{[]string{"--", "--json"}, false, []string{"--json"}},
		{[]string{"a", "--", "-b", "c"}, false, []string{"a", "-b", "c"}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		asJSON := fs.Bool("json", false, "")
		pos, err := parseFlags(fs, tt.args)
		if err != nil || *asJSON != tt.wantJSON || !slices.Equal(pos, tt.wantPos) {
			t.Errorf("parseFlags(%q) = %q, json=%v, %v; want %q, json=%v", tt.args, pos, *asJSON, err, tt.wantPos, tt.wantJSON)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"nope"}, exitUsage},
		{[]string{"help"}, exitOK},
		{[]string{"version"}, exitOK},
		{[]string{"check", "-h"}, exitOK},
		{[]string{"service", "-h"}, exitOK},
		{[]string{"service"}, exitUsage},
		{[]string{"check", "--bad-flag"}, exitUsage},
		{[]string{"check", "../../web.config.example"}, exitOK},
		{[]string{"check", "../../config/testdata"}, exitUsage},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if got := run(tt.args, strings.NewReader(""), &stdout, &stderr); got != tt.want {
			t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tt.args, got, tt.want, stdout.String(), stderr.String())
		}
	}
}

// The service account's password comes from stdin's first line, on
// Windows only, and never without the account it belongs to.
func TestReadPassword(t *testing.T) {
	if _, err := readPassword("", strings.NewReader("s3cret\n")); err == nil || !strings.Contains(err.Error(), "--user") {
		t.Errorf("no --user: %v, want an error naming --user", err)
	}
	got, err := readPassword(`shop\svc`, strings.NewReader("s3cret pass\r\nmore\n"))
	if runtime.GOOS != "windows" {
		if err == nil || !strings.Contains(err.Error(), "only the Windows service manager") {
			t.Errorf("on %s: %q, %v; want an error saying it is for Windows", runtime.GOOS, got, err)
		}
		return
	}
	if err != nil || got != "s3cret pass" {
		t.Errorf("readPassword = %q, %v; want the first line without its line end", got, err)
	}
	if _, err := readPassword(`shop\svc`, strings.NewReader("")); err == nil {
		t.Error("an empty stdin gave no error")
	}
}

// --password-stdin goes with install alone, and is checked before
// anything is installed.
func TestServicePasswordFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if got := run([]string{"service", "status", "--password-stdin"}, strings.NewReader("x\n"), &stdout, &stderr); got != exitUsage {
		t.Errorf("status --password-stdin: exit %d, want %d", got, exitUsage)
	}
	stderr.Reset()
	got := run([]string{"service", "install", "../../web.config.example", "--password-stdin"}, strings.NewReader("x\n"), &stdout, &stderr)
	if got != exitUsage || !strings.Contains(stderr.String(), "--user") {
		t.Errorf("install --password-stdin without --user: exit %d, %s", got, stderr.String())
	}
}
