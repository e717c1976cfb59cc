package host

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantBad string // the item the error names; "" for no error
	}{
		{in: "", want: nil},
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: "192.0.2.7", want: []string{"192.0.2.7/32"}},
		{in: "::1", want: []string{"::1/128"}},
		{in: "10.0.0.0/8, 2001:db8::/32,192.0.2.7", want: []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{in: "::ffff:192.0.2.7", want: []string{"192.0.2.7/32"}},
		{in: "10.0.0.0/8,,", want: []string{"10.0.0.0/8"}},
		{in: "300.1.1.1", wantBad: "300.1.1.1"},
		{in: "10.0.0.0/33", wantBad: "10.0.0.0/33"},
		{in: "10.0.0.0/8,example.com", wantBad: "example.com"},
		{in: "fe80::1%eth0", wantBad: "fe80::1%eth0"},
		{in: "10.0.0.0/", wantBad: "10.0.0.0/"},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxies(tt.in)
		if tt.wantBad != "" {
			if err == nil || !strings.Contains(err.Error(), `"`+tt.wantBad+`"`) || !strings.Contains(err.Error(), "--trusted-proxies") {
				t.Errorf("ParseTrustedProxies(%q) = %v, %v; want an error naming --trusted-proxies and %q", tt.in, got, err, tt.wantBad)
			}
			continue
		}
		var want []netip.Prefix
		for _, s := range tt.want {
			want = append(want, netip.MustParsePrefix(s))
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseTrustedProxies(%q) = %v, %v; want %v", tt.in, got, err, want)
		}
	}
}
