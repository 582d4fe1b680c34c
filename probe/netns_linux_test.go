package probe

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// netnsRules make one loopback port per firewall behaviour inside the test's
// own network namespace: on the input hook, as a remote firewall would act,
// and one on the output hook, as this host's own firewall would. The ICMP
// rejects have their ICMPv6 counterparts for the same ports over IPv6.
const netnsRules = `
table inet egressprobe_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 7001 reject with tcp reset
		tcp dport 7002 drop
		meta nfproto ipv4 tcp dport 7003 reject with icmp type host-unreachable
		meta nfproto ipv6 tcp dport 7003 reject with icmpv6 type addr-unreachable
		tcp dport 7004 reject with icmpx type admin-prohibited
		meta nfproto ipv4 tcp dport 7005 reject with icmp type net-unreachable
		meta nfproto ipv6 tcp dport 7005 reject with icmpv6 type no-route
		meta nfproto ipv6 tcp dport 7007 reject with icmpv6 type policy-fail
		meta nfproto ipv6 tcp dport 7008 reject with icmpv6 type reject-route
	}
	chain output {
		type filter hook output priority 0; policy accept;
		tcp dport 7006 drop
	}
}
`

// TestDialTCPNetns checks DialTCP against a real nftables firewall: reset,
// drop and ICMP rejects each give their outcome, and an address with no route
// gives tcp_unreachable. Everything happens in a namespace the test creates
// (nothing leaves the machine) and removes.
func TestDialTCPNetns(t *testing.T) {
	ns := testnet.NewNetns(t)
	ns.RunStdin(t, netnsRules, "nft", "-f", "-")

	lo := netip.MustParseAddr("127.0.0.1")
	// Services listen behind the reset and drop rules: the firewall, not a
	// closed port, must be what the probe sees.
	for _, port := range []uint16{7001, 7002, 7003} {
		ns.Listen(t, netip.AddrPortFrom(lo, port).String())
	}
	dialEach(t, ns, []dialCase{
		{"closed port", netip.AddrPortFrom(lo, 8003), TCPRefused, "connection refused (RST)", 0},
		{"reject with tcp reset", netip.AddrPortFrom(lo, 7001), TCPRefused, "connection refused (RST)", 0},
		{"drop", netip.AddrPortFrom(lo, 7002), TCPTimeout, "silently drops", 0},
		{"reject with icmp host-unreachable", netip.AddrPortFrom(lo, 7003), TCPUnreachable, "host unreachable (ICMP)", 0},
		{"reject with icmpx admin-prohibited", netip.AddrPortFrom(lo, 7004), TCPUnreachable, "host unreachable (ICMP)", 0},
		{"reject with icmp net-unreachable", netip.AddrPortFrom(lo, 7005), TCPUnreachable, "network unreachable", 0},
		// This host's own output drop: Linux hands EPERM to the first SYN
		// but TCP retries, so the dial times out like a path drop. (EPERM
		// and EACCES themselves, e.g. from a cgroup connect hook or Windows
		// Firewall's WSAEACCES, map to tcp_unreachable, "local policy".)
		{"local output drop", netip.AddrPortFrom(lo, 7006), TCPTimeout, "silently drops", 0},
		{"no route", netip.MustParseAddrPort("198.51.100.7:443"), TCPUnreachable, "network unreachable", 0},
	})
	// The listener behind the reset rule is reachable once the rule goes:
	// the refusal above was the firewall's.
	ns.Run(t, "nft", "delete", "table", "inet", "egressprobe_test")
	ns.Do(t, func() {
		conn, res := DialTCP(context.Background(), netip.AddrPortFrom(lo, 7001))
		if !res.OK() {
			t.Errorf("without the firewall, DialTCP = %s (%s), want ok", res.Outcome, res.Error)
			return
		}
		conn.Close()
	})
}

// dialCase is one DialTCP in a namespace: to addr, within wait (500 ms when
// zero), expecting the outcome want with an error saying errHas.
type dialCase struct {
	name   string
	addr   netip.AddrPort
	want   Outcome
	errHas string
	wait   time.Duration
}

// dialEach runs each case as a subtest, dialling from inside ns.
func dialEach(t *testing.T, ns *testnet.Netns, cases []dialCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wait := cmp.Or(tc.wait, 500*time.Millisecond)
			var res TCPResult
			ns.Do(t, func() {
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

// TestDetectIPv6Netns decides IPv6 in namespaces built for each case: IPv4
// only, a global IPv6 address without a route to the IPv6 internet, and one
// with a default route — without sending a packet.
func TestDetectIPv6Netns(t *testing.T) {
	client, peer := testnet.NewNetns(t), testnet.NewNetns(t)
	testnet.Link(t, client, "eth0", []string{"10.18.9.2/24"}, peer, "eth0", []string{"10.18.9.1/24", "2001:db8:19::1/64"})
	detect := func(want bool, says string) {
		t.Helper()
		var r IPv6Reach
		client.Do(t, func() { r = DetectIPv6() })
		if r.Available != want || !strings.Contains(r.Detail, says) {
			t.Errorf("DetectIPv6() = %+v, want available=%v saying %q", r, want, says)
		}
	}
	detect(false, "no global IPv6 address")
	client.Run(t, "ip", "addr", "add", "2001:db8:19::2/64", "dev", "eth0", "nodad")
	detect(false, "no route to the IPv6 internet")
	client.Run(t, "ip", "-6", "route", "add", "default", "via", "2001:db8:19::1")
	detect(true, "2001:db8:19::2 on eth0")
}

// TestDialTCPOutOfPorts gives a namespace of its own two ephemeral ports.
// With both held by connections to one server, a connection to another
// server still gets a port (connect alone shares a port between
// destinations; a bind before connect, as DialTCP once did, takes one of its
// own and fails with EADDRINUSE), and a third connection to the first server
// is local_resources: this host's problem, not the firewall's. Over IPv4 and
// IPv6 (one port range serves both).
func TestDialTCPOutOfPorts(t *testing.T) {
	for _, f := range []struct{ name, first, second string }{
		{"ipv4", "127.0.0.1:7001", "127.0.0.1:7002"},
		{"ipv6", "[::1]:7001", "[::1]:7002"},
	} {
		t.Run(f.name, func(t *testing.T) {
			dialOutOfPorts(t, netip.MustParseAddrPort(f.first), netip.MustParseAddrPort(f.second))
		})
	}
}

func dialOutOfPorts(t *testing.T, first, second netip.AddrPort) {
	ns := testnet.NewNetns(t)
	ns.Run(t, "sh", "-c", "echo 40000 40001 > /proc/sys/net/ipv4/ip_local_port_range")
	ns.Listen(t, first.String())
	ns.Listen(t, second.String())

	dial := func(addr netip.AddrPort) TCPResult {
		var res TCPResult
		ns.Do(t, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var conn net.Conn
			conn, res = DialTCP(ctx, addr)
			if conn != nil {
				t.Cleanup(func() { conn.Close() })
			}
		})
		t.Logf("DialTCP(%s) = %s %s", addr, res.Outcome, res.Error)
		return res
	}
	for range 2 {
		if res := dial(first); !res.OK() {
			t.Fatalf("DialTCP(%s) with ports free = %s (%s), want ok", first, res.Outcome, res.Error)
		}
	}
	if res := dial(second); !res.OK() {
		t.Errorf("DialTCP(%s) with both ports held by connections to %s = %s (%s), want ok: the dial must not bind before connect",
			second, first, res.Outcome, res.Error)
	}
	res := dial(first)
	if res.Outcome != LocalResources || !strings.Contains(res.Error, "out of local ports") {
		t.Errorf("DialTCP(%s) with every port to it in use = %s (%s), want local_resources saying this host is out of local ports", first, res.Outcome, res.Error)
	}
}
