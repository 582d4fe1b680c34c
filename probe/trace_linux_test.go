package probe

import (
	"context"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
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

// A trace whose run was cancelled sends nothing.
func TestTraceTCPCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := TraceTCP(ctx, netip.MustParseAddrPort("192.0.2.1:443")); len(res.Hops) != 0 || res.Reached {
		t.Errorf("cancelled trace gave %+v, want no hops", res)
	}
}

// Run traces what RunOptions.Trace asks for: through a proxy the path to the
// proxy (said so), directly the address probed; auto leaves a refused
// connect alone, and nothing ok is traced.
func TestRunTrace(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	refused := testnet.TCPClosed(t, testnet.LoopbackIP(130))
	denying := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyForbidden})
	good := l.tls.Serve(t, testnet.LoopbackIP(131), testnet.TLSGood)
	target := func(a netip.AddrPort) Target {
		return Target{Host: a.Addr().String(), Port: a.Port(), TLS: TLSOptions{ServerName: l.tls.Host, Roots: l.tls.CA.Pool}, Timeout: 2 * time.Second}
	}
	viaProxy := target(netip.MustParseAddrPort("127.0.0.1:443"))
	viaProxy.Route = proxy.Route{Proxy: denying.URL, Source: proxy.SourceFlag}
	targets := []Target{target(refused), viaProxy, target(good)}

	obs := Run(context.Background(), targets, RunOptions{Trace: TraceFailures})
	if tr := obs[0].Trace; tr == nil || tr.Target != refused.String() || !tr.Reached || tr.ViaProxy {
		t.Errorf("refused, --trace: %+v, want a trace to %s that reaches it", tr, refused)
	}
	if tr := obs[1].Trace; tr == nil || !tr.ViaProxy || tr.Target != obs[1].Proxy.ProxyAddr || !strings.Contains(tr.Note, "the path to the proxy") {
		t.Errorf("through a proxy, --trace: %+v, want the path to the proxy %s, said so", tr, obs[1].Proxy.ProxyAddr)
	}
	if obs[2].Outcome != OK || obs[2].Trace != nil {
		t.Errorf("ok result: %s, trace %+v; want ok and no trace", obs[2].Outcome, obs[2].Trace)
	}
	for _, o := range Run(context.Background(), targets, RunOptions{Trace: TraceTimeouts}) {
		if o.Trace != nil {
			t.Errorf("%s (%s), --trace=auto: traced %+v; want only silent drops traced", o.Target.Host, o.Outcome, o.Trace)
		}
	}
}
