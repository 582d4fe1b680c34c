package report

import (
	"egressprobe/probe"
	"net/netip"
	"slices"
	"strings"
)

// The judgements on DNS answers: private address space, and resolvers that
// disagree (split-horizon DNS).

// inPrivateSpace reports whether a is in private space: RFC 1918,
// 100.64.0.0/10 (carrier-grade NAT, also used by some private endpoints) or
// fc00::/7. Wider than netip.Addr.IsPrivate, which leaves out 100.64.0.0/10.
func inPrivateSpace(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64
	}
	return false
}

// disagree reports split-horizon DNS: two results for the same host (any
// case) from different servers whose answers differ. Only answers count
// (ok, dns_nxdomain, dns_nodata; addresses compared as sets): a resolver that
// failed to answer says nothing about the zone it sees.
func disagree(results []probe.DNSResult) bool {
	for i, a := range results {
		if !answered(a) {
			continue
		}
		for _, b := range results[i+1:] {
			if answered(b) && a.Server != b.Server && strings.EqualFold(strings.TrimSuffix(a.Host, "."), strings.TrimSuffix(b.Host, ".")) &&
				!sameAnswer(a, b) {
				return true
			}
		}
	}
	return false
}

func answered(r probe.DNSResult) bool {
	return r.Outcome == probe.OK || r.Outcome == probe.DNSNXDomain || r.Outcome == probe.DNSNoData
}

func sameAnswer(a, b probe.DNSResult) bool {
	if a.Outcome != b.Outcome {
		return false
	}
	for _, x := range a.Addrs {
		if !slices.Contains(b.Addrs, x) {
			return false
		}
	}
	for _, x := range b.Addrs {
		if !slices.Contains(a.Addrs, x) {
			return false
		}
	}
	return true
}
