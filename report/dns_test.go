package report

import (
	"context"
	"egressprobe/internal/testnet"
	"egressprobe/probe"
	"net/netip"
	"testing"
)

// Moved from probe with the judgements they test: the answers come from real
// resolvers on loopback.

func dnsAddrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestDisagree(t *testing.T) {
	t.Parallel()
	inside := testnet.NewDNSServer(t, testnet.DNSZone{
		"store.test":             {CNAME: "store.privatelink.test"},
		"store.privatelink.test": {A: dnsAddrs("10.0.0.4")},
		"same.test":              {A: dnsAddrs("192.0.2.1", "192.0.2.2")},
		"hidden.test":            {Fault: testnet.DNSNXDomain},
		"flaky.test":             {Fault: testnet.DNSServfail},
	})
	outside := testnet.NewDNSServer(t, testnet.DNSZone{
		"store.test":  {A: dnsAddrs("203.0.113.9")},
		"same.test":   {A: dnsAddrs("192.0.2.2", "192.0.2.1")},
		"hidden.test": {A: dnsAddrs("203.0.113.10")},
		"flaky.test":  {A: dnsAddrs("203.0.113.11")},
	})
	resolve := func(host string, servers ...string) []probe.DNSResult {
		var out []probe.DNSResult
		for _, s := range servers {
			out = append(out, probe.ResolveDNS(context.Background(), probe.DNSQuery{Host: host, Server: s}))
		}
		return out
	}
	tests := []struct {
		name    string
		results []probe.DNSResult
		want    bool
	}{
		{"private vs public answer", resolve("store.test", inside.Addr, outside.Addr), true},
		{"same set, other order", resolve("same.test", inside.Addr, outside.Addr), false},
		{"NXDOMAIN vs answer", resolve("hidden.test", inside.Addr, outside.Addr), true},
		{"a failure is no disagreement", resolve("flaky.test", inside.Addr, outside.Addr), false},
		{"one server twice", resolve("store.test", inside.Addr, inside.Addr), false},
		{"different hosts", append(resolve("store.test", inside.Addr), resolve("same.test", outside.Addr)...), false},
		{"none", nil, false},
	}
	for _, tc := range tests {
		if got := disagree(tc.results); got != tc.want {
			t.Errorf("%s: disagree = %v, want %v", tc.name, got, tc.want)
		}
	}
	if r := resolve("store.test", inside.Addr)[0]; !r.PrivateLink || !inPrivateSpace(r.Addrs[0]) {
		t.Errorf("inside answer %+v: want privatelink and a private address", r)
	}
}

func TestInPrivateSpace(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"10.0.0.1": true, "172.16.0.1": true, "172.31.255.255": true, "172.32.0.1": false,
		"192.168.1.1": true, "100.64.0.1": true, "100.127.255.255": true, "100.128.0.1": false, "100.63.0.1": false,
		"fc00::1": true, "fd12::1": true, "fe80::1": false, "2001:db8::1": false, "8.8.8.8": false,
		"::ffff:10.0.0.1": true, "::ffff:100.64.0.1": true, "127.0.0.1": false,
	} {
		if got := inPrivateSpace(netip.MustParseAddr(s)); got != want {
			t.Errorf("inPrivateSpace(%s) = %v, want %v", s, got, want)
		}
	}
}
