//go:build linux

package probe

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"egressprobe/internal/realnet"
	"egressprobe/internal/testnet"
)

// startUnbound runs Debian's unbound on a free loopback port, answering
// local zones itself and forwarding everything else to upstreams (zone ->
// "IP:PORT"), so it never reaches the internet. It returns the resolver's
// "127.0.0.1:PORT".
func startUnbound(t *testing.T, upstreams map[string]string) string {
	t.Helper()
	s := realnet.Unbound(t, realnet.At{}, `  local-zone: "corp.test." static
  local-data: "app.corp.test. 300 IN A 192.0.2.80"
  local-data: "app.corp.test. 300 IN AAAA 2001:db8::80"
  local-data: "txt.corp.test. 300 IN TXT \"no address here\""
  local-data: "alias.corp.test. 60 IN CNAME app.corp.test."
  local-zone: "gone.test." static
  local-zone: "nope.test." refuse
`+realnet.Forward(upstreams))
	testnet.WaitDNS(t, s.Addr, "app.corp.test", 10*time.Second)
	return s.Addr
}

// TestResolveDNSThroughUnbound checks ResolveDNS against a real recursive
// resolver: its local zones, and forwarding to loopback testnet servers.
func TestResolveDNSThroughUnbound(t *testing.T) {
	t.Parallel()
	upstream := testnet.NewDNSServer(t, testnet.DNSZone{
		"fwd.test":            {A: addrs("192.0.2.90"), AAAA: addrs("2001:db8::90"), TTL: 200},
		"fwdcname.test":       {CNAME: "fwd.test", Partial: true, TTL: 100},
		"big.test":            {A: testnet.ManyAddrs(150)},
		"pe.test":             {CNAME: "pe.privatelink.test", TTL: 100},
		"pe.privatelink.test": {A: addrs("10.20.30.40")},
	})
	failing := testnet.NewDNSServer(t, testnet.DNSZone{"x.broken.test": {Fault: testnet.DNSServfail}})
	resolver := startUnbound(t, map[string]string{".": upstream.Addr, "broken.test.": failing.Addr})

	tests := []struct {
		host        string
		want        Outcome
		addrs       []netip.Addr
		chain       []string
		privatelink bool
		truncated   bool
	}{
		{host: "app.corp.test", want: OK, addrs: addrs("192.0.2.80", "2001:db8::80")},
		{host: "alias.corp.test", want: OK, addrs: addrs("192.0.2.80", "2001:db8::80"), chain: []string{"app.corp.test"}},
		{host: "txt.corp.test", want: DNSNoData},
		{host: "missing.gone.test", want: DNSNXDomain},
		{host: "x.nope.test", want: DNSRefused},
		{host: "fwd.test", want: OK, addrs: addrs("192.0.2.90", "2001:db8::90")},
		// The upstream answers only the CNAME; unbound chases the target.
		{host: "fwdcname.test", want: OK, addrs: addrs("192.0.2.90", "2001:db8::90"), chain: []string{"fwd.test"}},
		{host: "pe.test", want: OK, addrs: addrs("10.20.30.40"), chain: []string{"pe.privatelink.test"}, privatelink: true},
		{host: "big.test", want: OK, addrs: testnet.ManyAddrs(150), truncated: true},
		{host: "nothere.test", want: DNSNXDomain},
		{host: "x.broken.test", want: DNSServfail},
	}
	for _, tc := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res := ResolveDNS(ctx, DNSQuery{Host: tc.host, Server: resolver})
		cancel()
		if res.Outcome != tc.want {
			t.Errorf("%s: %s (%q), want %s", tc.host, res.Outcome, res.Error, tc.want)
			continue
		}
		// unbound rotates the records of an RRset: compare address sets.
		if tc.addrs != nil && !slices.Equal(slices.SortedFunc(slices.Values(res.Addrs), netip.Addr.Compare), slices.SortedFunc(slices.Values(tc.addrs), netip.Addr.Compare)) {
			t.Errorf("%s: addrs %v, want %v", tc.host, res.Addrs, tc.addrs)
		}
		var chain []string
		for _, c := range res.CNAMEs {
			chain = append(chain, c.Target)
		}
		if !slices.Equal(chain, tc.chain) || res.PrivateLink != tc.privatelink || res.Truncated != tc.truncated {
			t.Errorf("%s: chain %v privatelink %v truncated %v, want %v %v %v", tc.host, chain, res.PrivateLink, res.Truncated, tc.chain, tc.privatelink, tc.truncated)
		}
		if tc.want == OK && (res.TTL == 0 || res.TTL > 300) {
			t.Errorf("%s: TTL %d, want the records' (at most 300)", tc.host, res.TTL)
		}
	}
}
