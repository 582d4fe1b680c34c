package probe

import (
	"net/netip"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// TestDialTCPNetnsIPv6 is TestDialTCPNetns over IPv6 (::1, the same
// netnsRules): each firewall behaviour gives its outcome; an ICMPv6 administratively-prohibited from the
// path is the path's, while the same errno (EACCES) from a prohibit route
// here is this host's "local policy"; an address with no route is
// tcp_unreachable.
func TestDialTCPNetnsIPv6(t *testing.T) {
	ns := testnet.NewNetns(t)
	ns.RunStdin(t, netnsRules, "nft", "-f", "-")
	ns.Run(t, "ip", "-6", "route", "add", "prohibit", "2001:db8:dead::/48")
	lo := netip.IPv6Loopback()
	for _, port := range []uint16{7001, 7002, 7003, 7004} {
		ns.Listen(t, netip.AddrPortFrom(lo, port).String())
	}
	// Long enough for the SYN retransmitted after 1 s: between namespaces
	// the ICMPv6 answering the first SYN comes back while connect(2) still
	// holds the socket, and Linux drops it (TcpExtLockDroppedIcmps); over a
	// real link it arrives later.
	const icmp = 3 * time.Second
	dialEach(t, ns, []dialCase{
		{"closed port", netip.AddrPortFrom(lo, 8003), TCPRefused, "connection refused (RST)", 0},
		{"reject with tcp reset", netip.AddrPortFrom(lo, 7001), TCPRefused, "connection refused (RST)", 0},
		{"drop", netip.AddrPortFrom(lo, 7002), TCPTimeout, "silently drops", 0},
		{"reject with icmpv6 addr-unreachable", netip.AddrPortFrom(lo, 7003), TCPUnreachable, "host unreachable (ICMP)", icmp},
		{"reject with icmpv6 admin-prohibited", netip.AddrPortFrom(lo, 7004), TCPUnreachable, "host unreachable (ICMP)", icmp},
		{"reject with icmpv6 no-route", netip.AddrPortFrom(lo, 7005), TCPUnreachable, "network unreachable", icmp},
		{"reject with icmpv6 policy-fail", netip.AddrPortFrom(lo, 7007), TCPUnreachable, "host unreachable (ICMP)", icmp},
		{"reject with icmpv6 reject-route", netip.AddrPortFrom(lo, 7008), TCPUnreachable, "host unreachable (ICMP)", icmp},
		{"local output drop", netip.AddrPortFrom(lo, 7006), TCPTimeout, "silently drops", 0},
		{"no route", netip.MustParseAddrPort("[2001:db8:ffff::7]:443"), TCPUnreachable, "network unreachable", 0},
		// EACCES again, but from this host's own prohibit route: local.
		{"local prohibit route", netip.MustParseAddrPort("[2001:db8:dead::7]:443"), TCPUnreachable, "permission denied on this host", 0},
	})
}
