package main

import (
	"bytes"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
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
