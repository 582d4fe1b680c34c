package probe

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

// traceICMP runs TraceTCP (an ICMP echo trace on Windows) to dst within
// DefaultTraceTimeout and checks what every ICMP echo trace must say.
func traceICMP(t *testing.T, dst netip.AddrPort) TraceResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTraceTimeout)
	defer cancel()
	res := TraceTCP(ctx, dst)
	t.Logf("%s: %s, %d hops, %.0f ms; note %q", dst, res.Verdict(), len(res.Hops), res.MS, res.Note)
	if res.Method == TraceMethodICMPEcho && !strings.Contains(res.Note, "filters by port") {
		t.Errorf("note %q does not say an ICMP echo trace may not take the probe's path", res.Note)
	}
	return res
}

// TestTraceICMPLoopback traces this host's own loopback through the real
// IcmpSendEcho2Ex and Icmp6SendEcho2: the echo reply comes at hop 1, from the
// target. Wine 8 has no ICMPv6 API (Icmp6CreateFile is not implemented):
// there the IPv6 trace must say so in its note, as method none.
func TestTraceICMPLoopback(t *testing.T) {
	for _, dst := range []string{"127.0.0.1:443", "[::1]:443"} {
		t.Run(dst, func(t *testing.T) {
			addr := netip.MustParseAddrPort(dst)
			res := traceICMP(t, addr)
			if addr.Addr().Is6() && testenv.UnderWine() && res.Method == TraceMethodNone {
				if !strings.Contains(res.Note, "Icmp6CreateFile") {
					t.Errorf("under Wine, the IPv6 trace's note %q does not name the missing Icmp6CreateFile", res.Note)
				}
				t.Skipf("Wine 8 has no ICMPv6 echo API: %s", res.Note)
			}
			last := res.LastResponding
			if res.Method != TraceMethodICMPEcho || !res.Reached || last == nil || last.TTL != 1 || *last.Addr != addr.Addr() || last.Reply != ReplyTarget {
				t.Errorf("%+v, want an icmp-echo trace reaching %s at hop 1", res, addr.Addr())
			}
		})
	}
}

// TestTraceICMPNetns traces through the router lab of .ci/wine/netns (this
// namespace — r1 — r2 — server): the echo requests name r1 and r2 and reach
// the server at hop 3; to an address whose echo requests r2 drops, the trace
// dies after hop 2 (r2); to an address r2 drops only TCP 443 to, the ICMP
// trace reaches the server all the same — what the note warns of.
func TestTraceICMPNetns(t *testing.T) {
	ns := testenv.WineNetns(t)
	var hops []netip.Addr
	for _, h := range strings.Split(ns["trace_hops"], ",") {
		hops = append(hops, netip.MustParseAddr(h))
	}
	at := func(name string) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr(ns[name]), 443) }
	for _, name := range []string{"trace", "trace_tcp443_dropped"} {
		t.Run(name, func(t *testing.T) {
			res := traceICMP(t, at(name))
			if !res.Reached || res.LastResponding == nil || res.LastResponding.TTL != 3 || res.Method != TraceMethodICMPEcho {
				t.Errorf("%+v, want the server reached at hop 3", res)
			}
			for i, want := range hops {
				if len(res.Hops) <= i || res.Hops[i].Addr == nil || *res.Hops[i].Addr != want || res.Hops[i].Reply != ReplyTimeExceeded {
					t.Errorf("hops %+v, want hop %d at %s (time exceeded)", res.Hops, i+1, want)
				}
			}
		})
	}
	t.Run("trace_icmp_dropped", func(t *testing.T) {
		res := traceICMP(t, at("trace_icmp_dropped"))
		if want := "dies after hop 2 (" + hops[1].String() + ") (ICMP echo trace)"; res.Reached || res.Verdict() != want {
			t.Errorf("%+v: verdict %q, want %q", res, res.Verdict(), want)
		}
	})
}
