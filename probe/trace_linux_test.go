package probe

import (
	"context"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"egressprobe/internal/testnet"
)

// dropsHTTPS drops TCP 443 in a router's forward chain, as a firewall there.
const dropsHTTPS = `
table inet trace_lab {
	chain forward {
		type filter hook forward priority 0; policy accept;
		tcp dport 443 drop
	}
}`

// TestTraceTCPNetns: client — r1 — r2 — r3 — server, r2 dropping TCP 443 in
// its forward chain, over IPv4 and over IPv6 (ICMPv6 time exceeded read with
// IPV6_RECVERR). The trace names r1 and r2 and ends at r2, with root and
// again as an unprivileged user (no CAP_NET_RAW: the method is the same);
// with the drop removed it reaches the server in four hops.
func TestTraceTCPNetns(t *testing.T) {
	c := testnet.NewChain(t, 181, 3)
	c.Routers[1].RunStdin(t, dropsHTTPS, "nft", "-f", "-")
	c.Server.Listen(t, "[::]:443")
	families := []struct {
		name    string
		server  netip.Addr
		routers []netip.Addr
	}{{"ipv4", c.ServerAddr, c.RouterAddrs}, {"ipv6", c.ServerAddr6, c.RouterAddrs6}}

	trace := func(t *testing.T, dst netip.AddrPort, unprivileged bool) TraceResult {
		var res TraceResult
		c.Client.Do(t, func() {
			if unprivileged {
				// This thread only (raw syscall, not Go's all-threads
				// Setresuid): it is discarded when Do returns.
				if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
					t.Fatalf("setresuid: %v", e)
				}
				if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP); err == nil {
					unix.Close(fd)
					t.Fatalf("still allowed a raw socket after dropping root")
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), DefaultTraceTimeout)
			defer cancel()
			res = TraceTCP(ctx, dst)
		})
		t.Logf("unprivileged=%v: %s, %d hops, %.0f ms", unprivileged, res.Verdict(), len(res.Hops), res.MS)
		return res
	}
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			dst := netip.AddrPortFrom(f.server, 443)
			for _, unprivileged := range []bool{false, true} {
				res := trace(t, dst, unprivileged)
				last := res.LastResponding
				if res.Method != "tcp-syn" || res.Reached || last == nil || last.TTL != 2 || *last.Addr != f.routers[1] || last.Reply != ReplyTimeExceeded {
					t.Errorf("unprivileged=%v: %+v, want a tcp-syn trace ending at hop 2 (%s)", unprivileged, res, f.routers[1])
				}
				if len(res.Hops) < 2 || res.Hops[0].Addr == nil || *res.Hops[0].Addr != f.routers[0] {
					t.Errorf("unprivileged=%v: hops %+v, want hop 1 at %s", unprivileged, res.Hops, f.routers[0])
				}
				if want := "dies after hop 2 (" + f.routers[1].String() + ")"; res.Verdict() != want {
					t.Errorf("verdict %q, want %q", res.Verdict(), want)
				}
			}
		})
	}

	// A router that rejects rather than drops stops the trace at itself.
	c.Routers[1].Run(t, "nft", "flush", "chain", "inet", "trace_lab", "forward")
	c.Routers[1].Run(t, "nft", "add", "rule", "inet", "trace_lab", "forward", "tcp", "dport", "443", "reject", "with", "icmpx", "type", "admin-prohibited")
	for _, f := range families {
		t.Run(f.name+" rejected", func(t *testing.T) {
			res := trace(t, netip.AddrPortFrom(f.server, 443), false)
			if want := "rejected at hop 2 (" + f.routers[1].String() + ")"; res.Reached || res.Verdict() != want {
				t.Errorf("%+v: verdict %q, want %q", res, res.Verdict(), want)
			}
		})
	}

	c.Routers[1].Run(t, "nft", "delete", "table", "inet", "trace_lab")
	for _, f := range families {
		t.Run(f.name+" without the drop", func(t *testing.T) {
			res := trace(t, netip.AddrPortFrom(f.server, 443), false)
			if !res.Reached || res.LastResponding == nil || res.LastResponding.TTL != 4 || *res.LastResponding.Addr != f.server {
				t.Errorf("without the drop: %+v, want the server reached at hop 4", res)
			}
		})
	}
}
