package probe

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// netnsRules6 are netnsRules over IPv6, on ::1: a reset, a drop, the ICMPv6
// destination-unreachable codes a firewall or router sends, and this host's
// own output drop.
const netnsRules6 = `
table inet egressprobe_test6 {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 7001 reject with tcp reset
		tcp dport 7002 drop
		tcp dport 7003 reject with icmpv6 type addr-unreachable
		tcp dport 7004 reject with icmpv6 type admin-prohibited
		tcp dport 7005 reject with icmpv6 type no-route
		tcp dport 7007 reject with icmpv6 type policy-fail
		tcp dport 7008 reject with icmpv6 type reject-route
	}
	chain output {
		type filter hook output priority 0; policy accept;
		tcp dport 7006 drop
	}
}
`

// TestDialTCPNetnsIPv6 is TestDialTCPNetns over IPv6: each firewall
// behaviour gives its outcome; an ICMPv6 administratively-prohibited from the
// path is the path's, while the same errno (EACCES) from a prohibit route
// here is this host's "local policy"; an address with no route is
// tcp_unreachable.
func TestDialTCPNetnsIPv6(t *testing.T) {
	ns := testnet.NewNetns(t)
	ns.RunStdin(t, netnsRules6, "nft", "-f", "-")
	ns.Run(t, "ip", "-6", "route", "add", "prohibit", "2001:db8:dead::/48")
	lo := netip.IPv6Loopback()
	for _, port := range []uint16{7001, 7002, 7003, 7004} {
		ns.Listen(t, netip.AddrPortFrom(lo, port).String())
	}
	tests := []struct {
		name   string
		addr   netip.AddrPort
		want   Outcome
		errHas string
	}{
		{"closed port", netip.AddrPortFrom(lo, 8003), TCPRefused, "connection refused (RST)"},
		{"reject with tcp reset", netip.AddrPortFrom(lo, 7001), TCPRefused, "connection refused (RST)"},
		{"drop", netip.AddrPortFrom(lo, 7002), TCPTimeout, "silently drops"},
		{"reject with icmpv6 addr-unreachable", netip.AddrPortFrom(lo, 7003), TCPUnreachable, "host unreachable (ICMP)"},
		{"reject with icmpv6 admin-prohibited", netip.AddrPortFrom(lo, 7004), TCPUnreachable, "host unreachable (ICMP)"},
		{"reject with icmpv6 no-route", netip.AddrPortFrom(lo, 7005), TCPUnreachable, "network unreachable"},
		{"reject with icmpv6 policy-fail", netip.AddrPortFrom(lo, 7007), TCPUnreachable, "host unreachable (ICMP)"},
		{"reject with icmpv6 reject-route", netip.AddrPortFrom(lo, 7008), TCPUnreachable, "host unreachable (ICMP)"},
		{"local output drop", netip.AddrPortFrom(lo, 7006), TCPTimeout, "silently drops"},
		{"no route", netip.MustParseAddrPort("[2001:db8:ffff::7]:443"), TCPUnreachable, "network unreachable"},
		// EACCES again, but from this host's own prohibit route: local.
		{"local prohibit route", netip.MustParseAddrPort("[2001:db8:dead::7]:443"), TCPUnreachable, "permission denied on this host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res TCPResult
			ns.Do(t, func() {
				// Long enough for the SYN retransmitted after 1 s: between
				// namespaces the ICMPv6 answering the first SYN comes back
				// while connect(2) still holds the socket, and Linux drops it
				// (TcpExtLockDroppedIcmps); over a real link it arrives later.
				wait := 3 * time.Second
				if tc.want == TCPTimeout {
					wait = 500 * time.Millisecond
				}
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				defer cancel()
				var conn net.Conn
				conn, res = DialTCP(ctx, tc.addr)
				if conn != nil {
					conn.Close()
				}
			})
			t.Logf("%s: %s", res.Outcome, res.Error)
			if res.Outcome != tc.want || !strings.Contains(res.Error, tc.errHas) {
				t.Errorf("DialTCP(%s) = %s (%s), want %s with %q", tc.addr, res.Outcome, res.Error, tc.want, tc.errHas)
			}
		})
	}
}
