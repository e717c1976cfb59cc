package main

import (
	"bytes"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/roosthq/roost/logs/access"
)

func TestTrustedProxiesFlag(t *testing.T) {
	fs, v := newRunFlagSet(io.Discard)
	if _, err := parseFlags(fs, []string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.7", "app", "--trusted-proxies=::1"}); err != nil {
		t.Fatal(err)
	}
	f, err := v.check()
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("::1/128")}
	if err != nil || !slices.Equal(f.opts.TrustedProxies, want) {
		t.Errorf("trusted proxies %v, %v; want %v", f.opts.TrustedProxies, err, want)
	}

	fs, v = newRunFlagSet(io.Discard)
	parseFlags(fs, nil)
	if f, err := v.check(); err != nil || f.opts.TrustedProxies != nil {
		t.Errorf("without the flag: %v, %v; want none trusted", f.opts.TrustedProxies, err)
	}
}

// An invalid --trusted-proxies is a usage error naming the value, found
// before anything starts, for roost run and for the run flags roost
// service install is given.
func TestTrustedProxiesFlagInvalid(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--trusted-proxies", "10.0.0.0/8,300.1.1.1", "../../web.config.example"},
		{"service", "install", "../../web.config.example", "--", "--trusted-proxies", "300.1.1.1"},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(args, strings.NewReader(""), &stdout, &stderr); got != exitUsage || !strings.Contains(stderr.String(), `"300.1.1.1"`) {
			t.Errorf("roost %q: exit %d, want %d and the bad value named:\n%s", args, got, exitUsage, stderr.String())
		}
	}
}

func TestAccessLogFlags(t *testing.T) {
	fs, v := newRunFlagSet(io.Discard)
	parseFlags(fs, nil)
	f, err := v.check()
	if err != nil || f.accessLog != "" || accessLogHook(f, zap.NewNop(), io.Discard) != nil {
		t.Errorf("without --access-log: %q, %v; want no access log", f.accessLog, err)
	}
	if o := f.accessOptions; o.Format != access.W3C || o.MaxBytes != 100<<20 || o.MaxFiles != 10 {
		t.Errorf("defaults %+v, want w3c, 100MB, 10 files", o)
	}

	fs, v = newRunFlagSet(io.Discard)
	if _, err := parseFlags(fs, []string{"--access-log", "-", "--access-log-format", "json", "--access-log-max-size", "2MB", "--access-log-max-files", "3"}); err != nil {
		t.Fatal(err)
	}
	f, err = v.check()
	if o := f.accessOptions; err != nil || f.accessLog != "-" || o.Format != access.JSON || o.MaxBytes != 2<<20 || o.MaxFiles != 3 {
		t.Errorf("got %q %+v, %v", f.accessLog, o, err)
	}
}

// Bad --access-log-* values are usage errors naming the flag, for roost
// run and for the run flags roost service install is given. (An access
// log file that cannot be opened is tested through the binary: roost run
// gets as far as starting its watchdog.)
func TestAccessLogFlagsInvalid(t *testing.T) {
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"run", "--access-log-format", "ncsa", "../../web.config.example"}, "--access-log-format"},
		{[]string{"run", "--access-log", "-", "--access-log-max-size", "10XB", "../../web.config.example"}, "--access-log-max-size"},
		{[]string{"run", "--access-log-max-size", "100", "../../web.config.example"}, "--access-log-max-size"},
		{[]string{"run", "--access-log-max-files", "0", "../../web.config.example"}, "--access-log-max-files"},
		{[]string{"service", "install", "../../web.config.example", "--", "--access-log-format", "xml"}, "--access-log-format"},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(tt.args, strings.NewReader(""), &stdout, &stderr); got != exitUsage || !strings.Contains(stderr.String(), tt.flag) {
			t.Errorf("roost %q: exit %d, want %d and %s named:\n%s", tt.args, got, exitUsage, tt.flag, stderr.String())
		}
	}
}
