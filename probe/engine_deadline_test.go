package probe

import (
	"context"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// testSlack is how far past its timeout a probe may end in these tests: the
// time a step takes to notice its deadline, generously, on a loaded machine.
const testSlack = 1500 * time.Millisecond

// Nothing holds a probe past its timeout: a server that stalls at each step,
// probed with a 1s timeout, gives that step's *_timeout well within 1s plus
// slack, and its Duration says when it was cut off.
//
// Not parallel with the package's other tests: the rows that stall at TLS or
// HTTP need the steps before to finish within the 1s, which a test binary
// busy with every other test (under -race) cannot promise.
func TestRunStalls(t *testing.T) {
	const timeout = time.Second
	l := newLab(t)
	l.zone["silent.egress.test"] = testnet.DNSName{Fault: testnet.DNSSilent}
	never := l.tls.Serve(t, testnet.LoopbackIP(201), testnet.TLSNeverSpeaks)
	dribble := testnet.TCPDribble(t, testnet.LoopbackIP(202), []byte("\x16\x03\x03\x00\xff"), 300*time.Millisecond)
	cert := l.tls.CA.Leaf(t, []string{l.tls.Host}, nil, testnet.LeafOptions{})
	httpStall := testnet.ServeHTTP(t, testnet.LoopbackIP(203), stallHandler(t), &cert)
	ncsiDribble := testnet.HTTPDribble(t, testnet.LoopbackIP(204), 200*time.Millisecond)
	dns := testnet.NewDNSServer(t, l.zone).Addr
	silentProxy := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxySilent})

	// Servers are probed at their address (the SNI still names the lab's
	// host): DNS is the subject of its own row only, so a resolver slowed by
	// a busy machine cannot turn the other rows into dns_timeout.
	named := func(host string) Target {
		tg := l.target(dns, host, 443)
		tg.Timeout = timeout
		return tg
	}
	mk := func(a netip.AddrPort) Target {
		tg := named(a.Addr().String())
		tg.Port = a.Port()
		return tg
	}
	httpsGET := mk(httpStall)
	httpsGET.HTTP = true
	ncsi := mk(ncsiDribble)
	ncsi.Scheme, ncsi.ExpectBody = "http", testnet.NCSIBody
	viaProxy := mk(netip.MustParseAddrPort("127.0.0.1:443"))
	viaProxy.Route = proxy.Route{Proxy: silentProxy.URL, Source: proxy.SourceFlag}
	type stallCase struct {
		target Target
		want   Outcome
		step   func(*Observation) *Step // the step that must have been cut off
		budget time.Duration            // after about this long
	}
	tests := []stallCase{
		{named("silent.egress.test"), DNSTimeout, func(o *Observation) *Step { return &o.DNS.Step }, DNSBudget(timeout)},
		{mk(never), TLSTimeout, func(o *Observation) *Step { return &o.TLS.Step }, timeout},
		{mk(dribble), TLSTimeout, func(o *Observation) *Step { return &o.TLS.Step }, timeout},
		{httpsGET, HTTPTimeout, func(o *Observation) *Step { return &o.HTTP.Step }, timeout},
		{ncsi, HTTPTimeout, func(o *Observation) *Step { return &o.HTTP.Step }, timeout},
		{viaProxy, ProxyTimeout, func(o *Observation) *Step { return &o.Proxy.Step }, timeout},
	}
	if runtime.GOOS == "linux" { // the blackhole skips its caller elsewhere
		dropped := testnet.TCPBlackhole(t, testnet.LoopbackIP(205))
		tests = append(tests, stallCase{mk(dropped), TCPTimeout, func(o *Observation) *Step { return &o.TCP.Step }, timeout})
	}
	for _, tc := range tests {
		t.Run(string(tc.want)+" "+tc.target.Host, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			obs := Run(context.Background(), []Target{tc.target}, RunOptions{})
			el := time.Since(start)
			if len(obs) != 1 || obs[0].Outcome != tc.want {
				t.Fatalf("got %+v, want one %q", obs, tc.want)
			}
			o := &obs[0]
			if el > timeout+testSlack || o.Elapsed > timeout+testSlack {
				t.Errorf("run took %v (observation %v), more than the timeout %v plus %v", el, o.Elapsed, timeout, testSlack)
			}
			// The step ran until its budget ran out, counted from the
			// observation's start: the budget, not something else, stopped it.
			s := tc.step(o)
			if end := s.Start.Add(s.Duration).Sub(o.Start); end < tc.budget*3/4 || end > tc.budget+testSlack {
				t.Errorf("step ended %v after the observation started (Duration %v), want about its budget %v", end, s.Duration, tc.budget)
			}
		})
	}
}

// stallHandler never answers until the test ends.
func stallHandler(t *testing.T) http.HandlerFunc {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}
}

// Twenty stalled endpoints at concurrency 20 end within one timeout plus
// slack: probes overlap; the run is not 20 timeouts long.
func TestRunStalledOverlap(t *testing.T) {
	t.Parallel()
	const n, timeout = 20, time.Second
	l := newLab(t)
	targets := make([]Target, n)
	for i := range targets {
		a := l.tls.Serve(t, testnet.LoopbackIP(300+i), testnet.TLSNeverSpeaks)
		targets[i] = l.target("", a.Addr().String(), a.Port())
		targets[i].Timeout = timeout
	}
	start := time.Now()
	obs := Run(context.Background(), targets, RunOptions{Concurrency: n})
	if el := time.Since(start); el > timeout+testSlack {
		t.Errorf("%d stalled endpoints at concurrency %d took %v, want at most %v + slack", n, n, el, timeout)
	}
	for i, o := range obs {
		if o.Outcome != TLSTimeout || o.Target.Host != targets[i].Host {
			t.Errorf("#%d %s: %q (%s)", i, o.Target.Host, o.Outcome, o.Error)
		}
	}
}

// The addresses of one name are probed side by side: a name whose three
// addresses all stall takes one timeout, not three.
func TestRunAddressesOverlap(t *testing.T) {
	t.Parallel()
	// Three seconds, so the DNS step's share of the budget holds on a loaded
	// machine; what is tested is one budget, not three, so the bound is two.
	const timeout = 3 * time.Second
	l := newLab(t)
	lns := testnet.ListenSamePort(t, testnet.LoopbackIP(501), testnet.LoopbackIP(502), testnet.LoopbackIP(503))
	var addrs []netip.AddrPort
	for _, ln := range lns {
		addrs = append(addrs, netip.MustParseAddrPort(ln.Addr().String())) // accepted by the kernel, never answered
	}
	l.name("three.egress.test", addrs...)
	tg := l.target(testnet.NewDNSServer(t, l.zone).Addr, "three.egress.test", addrs[0].Port())
	tg.Timeout = timeout
	start := time.Now()
	obs := Run(context.Background(), []Target{tg}, RunOptions{})
	if el := time.Since(start); el > 2*timeout {
		t.Errorf("3 stalled addresses of one name took %v, want about one timeout (%v), not three", el, timeout)
	}
	for i, o := range obs {
		if o.Outcome != TLSTimeout || o.IP != addrs[i].Addr() {
			t.Errorf("#%d: %v %q (%s)", i, o.IP, o.Outcome, o.Error)
		}
	}
}

// Cancelling the run returns at once: the probe in flight is Cancelled with
// the steps it did, the targets never started are Cancelled without steps,
// and the order is kept.
func TestRunCancel(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	never := l.tls.Serve(t, "127.0.0.1", testnet.TLSNeverSpeaks)
	targets := make([]Target, 5)
	for i := range targets {
		targets[i] = l.target("", "127.0.0.1", never.Port())
		targets[i].Timeout = time.Minute
	}
	// Long enough for the two probes in flight to reach TLS on a loaded
	// machine (under -race beside other tests).
	const cancelAfter = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(cancelAfter, cancel)
	start := time.Now()
	var mu sync.Mutex
	calls := 0
	obs := Run(ctx, targets, RunOptions{Concurrency: 2, Progress: func(int, int) { mu.Lock(); calls++; mu.Unlock() }})
	if el := time.Since(start); el > cancelAfter+testSlack {
		t.Errorf("cancelled run took %v", el)
	}
	if len(obs) != len(targets) {
		t.Fatalf("%d observations, want %d", len(obs), len(targets))
	}
	for i, o := range obs {
		inFlight := i < 2
		if o.Outcome != Cancelled || o.Index != i || (o.TLS != nil) != inFlight {
			t.Errorf("#%d: %q steps %s (%s)", i, o.Outcome, stepsOf(&o), o.Error)
		}
		if inFlight && o.TLS != nil && (o.TLS.Outcome != Cancelled || !strings.Contains(o.Error, "handshake cancelled")) {
			t.Errorf("#%d: TLS step %s, error %q: want the step cancelled, saying what was interrupted", i, o.TLS.Outcome, o.Error)
		}
	}
	if calls != 2 {
		t.Errorf("progress called %d times, want 2 (the targets that finished)", calls)
	}
}

// Cancelling a run while its resolutions wait on a silent resolver: the DNS
// step of each probe, the one resolving and the one waiting for the shared
// answer, says cancelled, not dns_timeout (no resolver was judged).
func TestRunCancelDuringDNS(t *testing.T) {
	t.Parallel()
	a, b := silentPair(t, time.Minute, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	for i, o := range Run(ctx, []Target{a, b}, RunOptions{Concurrency: 2}) {
		if o.Outcome != Cancelled || o.DNS == nil || o.DNS.Outcome != Cancelled {
			dns := Outcome("none")
			if o.DNS != nil {
				dns = o.DNS.Outcome
			}
			t.Errorf("#%d: %s, DNS step %s (%s), want both cancelled", i, o.Outcome, dns, o.Error)
		}
	}
}

// silentPair is two targets for one name whose resolver never answers, with
// the timeouts given: one resolves, the other waits for that resolution.
func silentPair(t *testing.T, ta, tb time.Duration) (a, b Target) {
	l := newLab(t)
	l.zone["silent.egress.test"] = testnet.DNSName{Fault: testnet.DNSSilent}
	dns := testnet.NewDNSServer(t, l.zone).Addr
	a, b = l.target(dns, "silent.egress.test", 443), l.target(dns, "silent.egress.test", 443)
	a.Timeout, b.Timeout = ta, tb
	return a, b
}

// A resolution shared by targets with different timeouts holds none of them
// past its own DNS budget.
func TestRunSharedDNSBudget(t *testing.T) {
	t.Parallel()
	long, short := silentPair(t, 2*time.Second, 500*time.Millisecond)
	obs := Run(context.Background(), []Target{long, short}, RunOptions{})
	for i, o := range obs {
		if o.Outcome != DNSTimeout || o.Elapsed > o.Target.Timeout+testSlack {
			t.Errorf("#%d (timeout %v): %q after %v", i, o.Target.Timeout, o.Outcome, o.Elapsed)
		}
	}
}
