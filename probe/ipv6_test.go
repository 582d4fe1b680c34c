package probe

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// On a host without IPv6 an AAAA address is skipped, not failed: no step
// runs, and the IPv4 address beside it is probed as usual. With IPv6, or
// undecided, the same address is tried (and fails: nothing routes it).
func TestRunSkipsIPv6WithoutIPv6(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	closed := testnet.TCPClosed(t, testnet.LoopbackIP(110))
	v6 := netip.MustParseAddr("2001:db8::7") // documentation prefix: never routed
	l.zone["dual.egress.test"] = testnet.DNSName{A: []netip.Addr{closed.Addr()}, AAAA: []netip.Addr{v6}}
	l.zone["v6only.egress.test"] = testnet.DNSName{AAAA: []netip.Addr{v6}}
	dns := testnet.NewDNSServer(t, l.zone).Addr
	targets := []Target{l.target(dns, "dual.egress.test", closed.Port()), l.target(dns, "v6only.egress.test", closed.Port())}

	none := &IPv6Reach{Detail: "no global IPv6 address on an up interface"}
	obs := Run(context.Background(), targets, RunOptions{IPv6: none})
	got := outcomesByIP(obs)
	if got[closed.Addr()] != TCPRefused || got[v6] != SkippedNoIPv6 || len(obs) != 3 {
		t.Fatalf("without IPv6: %v, want %s for %s and %s for %s (twice)", got, TCPRefused, closed.Addr(), SkippedNoIPv6, v6)
	}
	for _, o := range obs {
		if o.IP == v6 && (o.TCP != nil || o.TLS != nil || !strings.Contains(o.Error, "IPv6: none on this host")) {
			t.Errorf("skipped %s: steps ran (tcp %v) or error %q does not say IPv6 is absent", o.IP, o.TCP, o.Error)
		}
	}

	quick := targets[0]
	quick.Timeout = time.Second // the probed IPv6 address may time out
	for _, reach := range []*IPv6Reach{nil, {Available: true}} {
		obs := Run(context.Background(), []Target{quick}, RunOptions{IPv6: reach})
		if got := outcomesByIP(obs); got[v6] == SkippedNoIPv6 || got[v6] == "" {
			t.Errorf("IPv6 %+v: %s got %q, want it probed", reach, v6, got[v6])
		}
	}
}

// -4 and -6 keep one family's addresses; a name without any of that family
// is dns_nodata saying why.
func TestRunFamily(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	closed := testnet.TCPClosed(t, testnet.LoopbackIP(111))
	v6 := netip.MustParseAddr("2001:db8::8")
	l.zone["dual.egress.test"] = testnet.DNSName{A: []netip.Addr{closed.Addr()}, AAAA: []netip.Addr{v6}}
	l.zone["v6only.egress.test"] = testnet.DNSName{AAAA: []netip.Addr{v6}}
	dns := testnet.NewDNSServer(t, l.zone).Addr
	targets := []Target{l.target(dns, "dual.egress.test", closed.Port()), l.target(dns, "v6only.egress.test", closed.Port())}

	obs := Run(context.Background(), targets, RunOptions{Family: 4})
	if len(obs) != 2 || obs[0].IP != closed.Addr() || obs[0].Outcome != TCPRefused {
		t.Fatalf("-4: %v, want only %s (tcp_refused) for dual.egress.test", outcomesByIP(obs), closed.Addr())
	}
	if o := obs[1]; o.Outcome != DNSNoData || !strings.Contains(o.Error, "-4 restricts the run to IPv4") || o.TCP != nil {
		t.Errorf("-4, IPv6-only name: %s (%s), want dns_nodata naming -4", o.Outcome, o.Error)
	}
	obs = Run(context.Background(), targets[:1], RunOptions{Family: 6})
	if len(obs) != 1 || obs[0].IP != v6 {
		t.Errorf("-6: %v, want only %s", outcomesByIP(obs), v6)
	}
}

func outcomesByIP(obs []Observation) map[netip.Addr]Outcome {
	m := map[netip.Addr]Outcome{}
	for _, o := range obs {
		m[o.IP] = o.Outcome
	}
	return m
}
