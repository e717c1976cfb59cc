package host

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads a --trusted-proxies value: a comma-separated
// list of CIDR prefixes (10.0.0.0/8, 2001:db8::/32) and single IP
// addresses (192.0.2.7, ::1). Host bits set in a prefix are ignored
// (10.1.2.3/8 is 10.0.0.0/8), and an IPv4-mapped IPv6 prefix means the
// IPv4 one. Empty items are skipped.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies %q: %q is not an IP address or CIDR prefix (such as 192.0.2.7 or 10.0.0.0/8)", s, item)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

// parsePrefix reads one prefix or address.
func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("bad address %q", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
