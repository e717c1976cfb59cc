package main

import (
	"bytes"
	"flag"
	"io"
	"slices"
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
		if got := run(tt.args, &stdout, &stderr); got != tt.want {
			t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tt.args, got, tt.want, stdout.String(), stderr.String())
		}
	}
}
