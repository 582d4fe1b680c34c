package report

import (
	"fmt"
	"net/netip"

	"egressprobe/probe"
)

// windowsConnectTimeout is how long a Windows connect waits for a SYN that
// nothing answers: the SYN and 2 retransmissions, the first after 3 s, the
// wait doubling (TCP MaxSynRetransmissions 2, InitialRto 3000 ms in
// Get-NetTCPSetting). Windows keeps waiting through an ICMP unreachable.
const windowsConnectTimeout = "21 s"

// warnIPv6Fallback warns on an IPv6 result that failed where an IPv4 address
// of the same host, resolver and path worked: Windows prefers IPv6, so the
// agent tries the failing address first and either waits (a dropped or
// refused connect) or fails outright (a connect that works but breaks later:
// the agent does not fall back once TCP is up). An IPv4-only test looks fine.
func warnIPv6Fallback(results []Result) {
	type group struct {
		host, resolver string
		path           probe.Path
	}
	v4ok := map[group]bool{}
	for i := range results {
		r := &results[i]
		if r.Status == probe.OK && familyOf(r) == 4 {
			v4ok[group{r.Host, r.Resolver, r.Path}] = true
		}
	}
	for i := range results {
		r := &results[i]
		if familyOf(r) != 6 || notJudged(r.Status) || !v4ok[group{r.Host, r.Resolver, r.Path}] {
			continue
		}
		var effect string
		switch probe.Outcome(r.Status) {
		case probe.TCPTimeout, probe.TCPUnreachable:
			effect = "so the agent waits for its connect timeout — about " + windowsConnectTimeout +
				" per connection on Windows (ICMP unreachable does not shorten it) — before it tries IPv4: slow or failing backups"
		case probe.TCPRefused:
			effect = "so the agent's connect is refused and retried for about 1 s per connection before it tries IPv4"
		default:
			effect = "and once TCP is connected the agent does not fall back to IPv4: it fails on IPv6"
		}
		r.Warnings = append(r.Warnings, Warning{Code: WarnIPv6Fallback, Message: fmt.Sprintf(
			"%s fails over IPv6 (%s) while IPv4 works: Windows prefers IPv6, %s, while an IPv4-only test looks fine", deref(r.IP), r.Status, effect)})
	}
}

// familyOf is 4 or 6 for the result's address, 0 when it has none.
func familyOf(r *Result) int {
	if r.IP == nil {
		return 0
	}
	a, err := netip.ParseAddr(*r.IP)
	switch {
	case err != nil:
		return 0
	case a.Unmap().Is4():
		return 4
	}
	return 6
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
