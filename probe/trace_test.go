package probe

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

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
