package probe

import (
	"fmt"
	"net/netip"
	"strings"

	"egressprobe/internal/quote"
)

// This file holds what the DNS step knows about names and resolver
// addresses, apart from asking: which names can be queried, how a resolver
// is written, and the privatelink label of Azure private endpoints.

// CheckHostname reports why name cannot be queried: empty, too long, an
// empty or over-long label, a wildcard, or a character outside letters,
// digits, '-' and '_'. A single trailing dot is allowed.
func CheckHostname(name string) error {
	n := strings.TrimSuffix(name, ".")
	fix := "give a DNS name such as login.microsoftonline.com"
	switch {
	case n == "":
		return fmt.Errorf("invalid host name %s: empty; %s", quote.Q(name), fix)
	case len(n) > 253:
		return fmt.Errorf("invalid host name %s: %d characters, at most 253 allowed; %s", quote.Q(name), len(n), fix)
	}
	for label := range strings.SplitSeq(n, ".") {
		switch {
		case label == "":
			return fmt.Errorf("invalid host name %s: empty label; %s", quote.Q(name), fix)
		case len(label) > 63:
			return fmt.Errorf("invalid host name %s: label %s longer than 63 characters; %s", quote.Q(name), quote.Q(label), fix)
		case label == "*":
			return fmt.Errorf("invalid host name %s: a wildcard cannot be resolved; give a concrete name under it", quote.Q(name))
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("invalid host name %s: label %s starts or ends with '-'; %s", quote.Q(name), quote.Q(label), fix)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c >= 0x80 {
				return fmt.Errorf("invalid host name %s: not ASCII; give the IDNA (xn--) form", quote.Q(name))
			}
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("invalid host name %s: character %q not allowed; %s", quote.Q(name), c, fix)
			}
		}
	}
	return nil
}

// ParseResolver parses a resolver address: "IP:PORT", "[IPv6]:PORT", or a
// bare IP meaning port 53. IPv6 zones are kept ("[fe80::1%eth0]:53").
func ParseResolver(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return ap, fmt.Errorf("resolver %s: port 0; give IP:PORT, e.g. 10.0.0.53:53", quote.Q(s))
		}
		return ap, nil
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return netip.AddrPortFrom(a, 53), nil
	}
	return netip.AddrPort{}, fmt.Errorf("resolver %s is not IP:PORT; give e.g. 10.0.0.53:53 or [fd00::53]:53", quote.Q(s))
}

// IsPrivateLinkName reports whether name has a "privatelink" label, as the
// CNAMEs of Azure private endpoints do (x.privatelink.blob.core.windows.net).
func IsPrivateLinkName(name string) bool {
	for label := range strings.SplitSeq(strings.TrimSuffix(name, "."), ".") {
		if strings.EqualFold(label, "privatelink") {
			return true
		}
	}
	return false
}
