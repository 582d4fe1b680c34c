package probe

import (
	"context"
	"testing"

	"egressprobe/internal/testnet"
)

// A resolver that ignores the EDNS size asked for sends datagrams larger than
// it: one that fits the UDP read buffer is taken as it is; one that fills it
// may have been cut by the read, and is asked again over TCP, never reported
// as a malformed answer.
func TestResolveDNSDatagramOverEDNSSize(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testnet.DNSZone{
		"fits.test":   {A: testnet.ManyAddrs(150), Fault: testnet.DNSIgnoreUDPSize}, // ~2.5 KiB: over 1232, under the buffer
		"filled.test": {A: testnet.ManyAddrs(400), Fault: testnet.DNSIgnoreUDPSize}, // ~6.5 KiB: over the buffer
	})
	for _, tc := range []struct {
		host      string
		addrs     int
		truncated bool
		tcp       int
	}{
		{"fits.test", 150, false, 0},
		{"filled.test", 400, true, 1},
	} {
		tcp0 := srv.Queries("tcp")
		res := ResolveDNS(context.Background(), DNSQuery{Host: tc.host, Server: srv.Addr})
		if res.Outcome != OK || len(res.Addrs) != tc.addrs || res.Truncated != tc.truncated {
			t.Errorf("%s: %s %q, %d addresses, truncated=%v; want ok, %d, truncated=%v", tc.host, res.Outcome, res.Error, len(res.Addrs), res.Truncated, tc.addrs, tc.truncated)
		}
		if tcp := srv.Queries("tcp") - tcp0; tcp != tc.tcp {
			t.Errorf("%s: %d TCP queries, want %d", tc.host, tcp, tc.tcp)
		}
	}
}
