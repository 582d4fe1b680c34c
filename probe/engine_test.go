package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
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

// The budgets fit inside the timeout for any timeout and any DNS duration up
// to its budget (plus the overrun of a slow step), and DNS never takes the
// lion's share.
func TestBudgetsFitTimeout(t *testing.T) {
	t.Parallel()
	for _, T := range []time.Duration{time.Millisecond, 300 * time.Millisecond, time.Second, 3 * time.Second, DefaultTimeout, time.Minute} {
		dns := DNSBudget(T)
		if dns <= 0 || dns > T/2 {
			t.Errorf("T=%v: DNS budget %v is not a minority share of T", T, dns)
		}
		for _, took := range []time.Duration{0, dns / 3, dns, dns + testSlack/2} {
			chain := ChainBudget(T, took)
			if min(took, dns)+chain > T {
				t.Errorf("T=%v, DNS took %v: chain budget %v overruns T", T, took, chain)
			}
			if chain < T-dns {
				t.Errorf("T=%v, DNS took %v: chain budget %v is below what DNS must leave (%v)", T, took, chain, T-dns)
			}
		}
	}
}

// lab is one test's network: a resolver, a TLS lab, and a zone to fill.
type lab struct {
	tls  *testnet.TLSLab
	zone testnet.DNSZone
}

func newLab(t *testing.T) *lab {
	return &lab{tls: testnet.NewTLSLab(t), zone: testnet.DNSZone{}}
}

// name registers host in the zone with addrs; the resolver starts on first use.
func (l *lab) name(host string, addrs ...netip.AddrPort) {
	e := testnet.DNSName{}
	for _, a := range addrs {
		e.A = append(e.A, a.Addr())
	}
	l.zone[host] = e
}

func (l *lab) target(resolver, host string, port uint16) Target {
	return Target{Host: host, Port: port, Resolver: resolver, TLS: TLSOptions{ServerName: l.tls.Host, Roots: l.tls.CA.Pool}, Timeout: 5 * time.Second}
}

// TestRunDirect runs the engine over the lab's direct targets and checks each
// observation's steps, outcome and order; one function, as the checks read
// the same run.
func TestRunDirect(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	cert := l.tls.CA.Leaf(t, []string{l.tls.Host}, nil, testnet.LeafOptions{})
	lns := testnet.ListenSamePort(t, testnet.LoopbackIP(101), testnet.LoopbackIP(102))
	a1 := testnet.ServeHTTPOn(t, lns[0], testnet.NCSI("hello"), &cert)
	a2 := testnet.ServeHTTPOn(t, lns[1], testnet.NCSI("hello"), &cert)
	l.name("two.egress.test", a1, a2)
	refused := testnet.TCPClosed(t, testnet.LoopbackIP(103))
	l.name("refused.egress.test", refused)
	ncsi := testnet.ServeHTTP(t, testnet.LoopbackIP(104), testnet.NCSI(testnet.NCSIBody), nil)
	portal := testnet.ServeHTTP(t, testnet.LoopbackIP(105), testnet.CaptivePortal("http://portal.test/"), nil)
	l.name("ncsi.egress.test", ncsi)
	l.name("portal.egress.test", portal)
	l.zone["servfail.egress.test"] = testnet.DNSName{Fault: testnet.DNSServfail}
	dns := testnet.NewDNSServer(t, l.zone).Addr

	withHTTP := l.target(dns, "two.egress.test", a1.Port())
	withHTTP.HTTP = true
	plain := func(host string, port uint16) Target {
		tg := l.target(dns, host, port)
		tg.Scheme, tg.URLPath, tg.ExpectBody = "http", "/connecttest.txt", testnet.NCSIBody
		return tg
	}
	literal := l.target("", a1.Addr().String(), a1.Port())
	dnsOnly := l.target(dns, "two.egress.test", 0)
	dnsOnly.DNSOnly = true
	targets := []Target{
		withHTTP,
		l.target(dns, "nope.egress.test", 443),
		l.target(dns, "refused.egress.test", refused.Port()),
		plain("ncsi.egress.test", ncsi.Port()),
		plain("portal.egress.test", portal.Port()),
		literal,
		l.target(dns, "servfail.egress.test", 443),
		dnsOnly,
	}
	type want struct {
		host    string
		ip      netip.Addr
		outcome Outcome
		steps   string // which steps ran: D(NS) T(CP) S(TLS) H(TTP)
	}
	wants := []want{
		{"two.egress.test", a1.Addr(), OK, "DTSH"},
		{"two.egress.test", a2.Addr(), OK, "DTSH"},
		{"nope.egress.test", netip.Addr{}, DNSNXDomain, "D"},
		{"refused.egress.test", refused.Addr(), TCPRefused, "DT"},
		{"ncsi.egress.test", ncsi.Addr(), OK, "DTH"},
		{"portal.egress.test", portal.Addr(), HTTPUnexpected, "DTH"},
		{a1.Addr().String(), a1.Addr(), OK, "TS"},
		{"servfail.egress.test", netip.Addr{}, DNSServfail, "D"},
		{"two.egress.test", a1.Addr(), OK, "D"},
	}
	var progress []int
	obs := Run(context.Background(), targets, RunOptions{Concurrency: 3, Progress: func(done, total int) {
		if total != len(targets) {
			t.Errorf("progress total %d, want %d", total, len(targets))
		}
		progress = append(progress, done)
	}})
	if len(obs) != len(wants) {
		t.Fatalf("%d observations, want %d: %+v", len(obs), len(wants), obs)
	}
	for i, w := range wants {
		o := obs[i]
		if o.Target.Host != w.host || o.IP != w.ip || o.Outcome != w.outcome || stepsOf(&o) != w.steps {
			t.Errorf("#%d: got %s %v %q steps %s (%s); want %s %v %q steps %s", i,
				o.Target.Host, o.IP, o.Outcome, stepsOf(&o), o.Error, w.host, w.ip, w.outcome, w.steps)
		}
		if (o.Outcome == OK) != (o.Error == "") || o.Elapsed <= 0 || o.Path() != "direct" {
			t.Errorf("#%d: error %q, elapsed %v, path %s", i, o.Error, o.Elapsed, o.Path())
		}
	}
	if obs[0].DNS != obs[1].DNS || obs[0].DNS != obs[8].DNS {
		t.Error("the two addresses of one name do not share its resolution")
	}
	if obs[0].HTTP.Date.IsZero() || obs[0].TLS.Chain[0].Subject == "" {
		t.Errorf("HTTPS GET did not read the Date or TLS lost the chain: %+v %+v", obs[0].HTTP, obs[0].TLS)
	}
	if !strings.Contains(obs[5].Error, "302 to http://portal.test/") {
		t.Errorf("portal error %q", obs[5].Error)
	}
	for i, d := range progress {
		if d != i+1 {
			t.Fatalf("progress %v, want 1..%d", progress, len(targets))
		}
	}
	if len(progress) != len(targets) {
		t.Errorf("progress called %d times, want %d", len(progress), len(targets))
	}
}

// An answer of 0.0.0.0 or :: is dns_blocked and nothing is connected to; a
// target answered by the hosts file is probed at the file's address, its DNS
// step naming the hosts file, and a 0.0.0.0 entry there is a block too.
func TestRunBlockedAndHostsFile(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	srv := l.tls.Serve(t, testnet.LoopbackIP(111), testnet.TLSGood)
	l.zone["blocked.egress.test"] = testnet.DNSName{A: []netip.Addr{netip.IPv4Unspecified()}}
	l.zone["blocked6.egress.test"] = testnet.DNSName{AAAA: []netip.Addr{netip.IPv6Unspecified()}}
	dns := testnet.NewDNSServer(t, l.zone).Addr
	pinned := l.target(HostsResolver, "pinned.egress.test", srv.Port())
	pinned.HostsAddrs = []netip.Addr{srv.Addr()}
	hostsBlocked := l.target(HostsResolver, "ads.egress.test", srv.Port())
	hostsBlocked.HostsAddrs = []netip.Addr{netip.IPv4Unspecified()}
	targets := []Target{l.target(dns, "blocked.egress.test", srv.Port()), l.target(dns, "blocked6.egress.test", srv.Port()), pinned, hostsBlocked}
	for _, tg := range targets {
		if err := tg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	obs := Run(context.Background(), targets, RunOptions{})
	wants := []struct {
		outcome Outcome
		steps   string
		errHas  string
	}{
		{DNSBlocked, "D", "resolver " + dns + " answers 0.0.0.0"},
		{DNSBlocked, "D", "answers ::"},
		{OK, "DTS", ""},
		{DNSBlocked, "D", "hosts file maps it to 0.0.0.0"},
	}
	for i, w := range wants {
		o := obs[i]
		if o.Outcome != w.outcome || stepsOf(&o) != w.steps || !strings.Contains(o.Error, w.errHas) {
			t.Errorf("#%d %s: %s steps %s (%s); want %s steps %s with %q", i, o.Target.Host, o.Outcome, stepsOf(&o), o.Error, w.outcome, w.steps, w.errHas)
		}
		if o.Outcome == DNSBlocked && o.IP.IsValid() {
			t.Errorf("#%d: a blocked name has address %v in its result", i, o.IP)
		}
	}
	if d := obs[2].DNS; d.Server != HostsResolver || obs[2].IP != srv.Addr() {
		t.Errorf("hosts-file target: DNS server %q, IP %v; want %q and %v", d.Server, obs[2].IP, HostsResolver, srv.Addr())
	}
	if err := (Target{Host: "x.test", Resolver: HostsResolver}).Validate(); err == nil {
		t.Error("Validate accepts the hosts resolver without addresses")
	}
}

func stepsOf(o *Observation) string {
	var b strings.Builder
	for i, s := range [...]bool{o.DNS != nil, o.TCP != nil, o.Proxy != nil, o.TLS != nil, o.HTTP != nil} {
		if s {
			b.WriteByte("DTCSH"[i])
		}
	}
	return b.String()
}

// Through a proxy: one observation per host, the local resolution beside the
// tunnel, and a local DNS failure that does not fail the route.
func TestRunProxy(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	srv := l.tls.Serve(t, "127.0.0.1", testnet.TLSGood)
	l.name("resolves.egress.test", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), srv.Port()))
	dns := testnet.NewDNSServer(t, l.zone).Addr
	good := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyOK})
	auth := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyAuth, User: "alice", Password: "s3cret"})
	// The proxy tunnels to loopback targets only: the name it is asked for
	// must resolve there, so ask it for the literal and name the SNI.
	at := func(p *testnet.Proxy, host string) Target {
		tg := l.target(dns, host, srv.Port())
		tg.Route = proxy.Route{Proxy: p.URL, Source: proxy.SourceFlag}
		return tg
	}
	wrong := at(auth, "127.0.0.1")
	wrong.Route.Proxy = &url.URL{Scheme: "http", Host: auth.URL.Host, User: url.UserPassword("alice", "wrong-s3cret")}
	// Plain-HTTP targets through a proxy: TestRunPlainHTTPThroughProxy.
	obs := Run(context.Background(), []Target{at(good, "127.0.0.1"), at(good, "localhost"), wrong}, RunOptions{})
	if len(obs) != 3 {
		t.Fatalf("%d observations, want 3", len(obs))
	}
	if o := obs[0]; o.Outcome != OK || stepsOf(&o) != "CS" || o.DNS != nil || o.Path() != "proxy" || o.Proxy.StatusCode != 200 {
		t.Errorf("literal via proxy: %q steps %s (%s)", o.Outcome, stepsOf(&o), o.Error)
	}
	if o := obs[1]; o.Outcome != OK || o.DNS == nil || o.DNS.Outcome != DNSNXDomain || o.IP.IsValid() {
		t.Errorf("local NXDOMAIN through a working proxy: %q dns %+v (%s)", o.Outcome, o.DNS, o.Error)
	}
	if o := obs[2]; o.Outcome != ProxyAuthRequired || o.TLS != nil || strings.Contains(fmt.Sprintf("%+v", o), "s3cret") {
		t.Errorf("wrong credentials: %q (%s)", o.Outcome, o.Error)
	}
}

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
	const timeout = time.Second
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
	if el := time.Since(start); el > timeout+testSlack {
		t.Errorf("3 stalled addresses of one name took %v, want about one timeout (%v)", el, timeout)
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

// Results come back in target order, then address order, whatever the
// concurrency and however the probes interleave.
func TestRunOrder(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	ips := []string{testnet.LoopbackIP(401), testnet.LoopbackIP(402), testnet.LoopbackIP(403)}
	cert := l.tls.CA.Leaf(t, []string{l.tls.Host}, nil, testnet.LeafOptions{})
	var addrs []netip.AddrPort
	for _, ln := range testnet.ListenSamePort(t, ips...) {
		addrs = append(addrs, testnet.ServeHTTPOn(t, ln, testnet.NCSI("x"), &cert))
	}
	const n = 30
	for i := range n {
		l.name(fmt.Sprintf("o%d.egress.test", i), addrs...)
	}
	dns := testnet.NewDNSServer(t, l.zone).Addr
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = l.target(dns, fmt.Sprintf("o%d.egress.test", i), addrs[0].Port())
	}
	for _, c := range []int{1, 7, 64} {
		obs := Run(context.Background(), targets, RunOptions{Concurrency: c})
		if len(obs) != n*len(addrs) {
			t.Fatalf("concurrency %d: %d observations, want %d", c, len(obs), n*len(addrs))
		}
		for k, o := range obs {
			i, j := k/len(addrs), k%len(addrs)
			if o.Index != i || o.Target.Host != targets[i].Host || o.IP != addrs[j].Addr() || o.Outcome != OK {
				t.Fatalf("concurrency %d, #%d: %s %v %q (%s); want %s %v ok", c, k, o.Target.Host, o.IP, o.Outcome, o.Error, targets[i].Host, addrs[j].Addr())
			}
		}
	}
}

func TestTargetValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t      Target
		errHas string
	}{
		{Target{Host: "login.microsoftonline.com", Resolver: "10.0.0.53:53"}, ""},
		{Target{Host: "127.0.0.1"}, ""},
		{Target{Host: "[::1]", Scheme: "http", URLPath: "/ncsi.txt"}, ""},
		{Target{}, "empty host"},
		{Target{Host: "h.test", Resolver: "10.0.0.53:53", Scheme: "ftp"}, `scheme "ftp"`},
		{Target{Host: "h.test", Resolver: "10.0.0.53:53", Timeout: -time.Second}, "timeout -1s"},
		{Target{Host: "h.test"}, "no resolver"},
		{Target{Host: "h.test", Resolver: "10.0.0.53:53", URLPath: "ncsi.txt"}, `path "ncsi.txt"`},
	} {
		err := tc.t.Validate()
		if (err == nil) != (tc.errHas == "") || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%+v: error %v, want one containing %q", tc.t, err, tc.errHas)
		}
	}
}

// finish takes the first failed step's outcome, leaves a proxy route's local
// DNS out of it, and tells a stopped run from a resolution without addresses.
func TestFinish(t *testing.T) {
	t.Parallel()
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	ok := Step{Outcome: OK}
	fail := func(o Outcome) Step { return Step{Outcome: o, Error: string(o) + " happened"} }
	viaProxy := Target{Host: "h.test", Resolver: "10.0.0.53:53", Route: proxy.Route{Proxy: &url.URL{Scheme: "http", Host: "p:3128"}}}
	direct := Target{Host: "h.test", Resolver: "10.0.0.53:53"}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		obs  Observation
		want Outcome
	}{
		{"all ok", live, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: ok}}, OK},
		{"first failure wins", live, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: fail(TLSIntercepted)}, HTTP: &HTTPResult{Step: fail(HTTPTimeout)}}, TLSIntercepted},
		{"proxy: local DNS failure is not the route's", live, Observation{Target: viaProxy, DNS: &DNSResult{Step: fail(DNSNXDomain)}, Proxy: &ConnectResult{Step: ok}, TLS: &TLSResult{Step: ok}}, OK},
		{"proxy: CONNECT failure", live, Observation{Target: viaProxy, DNS: &DNSResult{Step: ok}, Proxy: &ConnectResult{Step: fail(ProxyDenied)}}, ProxyDenied},
		{"ok DNS without addresses", live, Observation{Target: direct, DNS: &DNSResult{Step: ok}}, DNSNoData},
		{"stopped before the connection", stopped, Observation{Target: direct, DNS: &DNSResult{Step: ok}}, Cancelled},
		{"stopped during TLS", stopped, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: fail(TLSTimeout)}}, Cancelled},
		{"finished before the stop", stopped, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: ok}}, OK},
		{"DNS only", live, Observation{Target: Target{Host: "h.test", DNSOnly: true}, DNS: &DNSResult{Step: ok}}, OK},
	} {
		got := finish(tc.ctx, tc.obs)
		if got.Outcome != tc.want || (got.Outcome == OK) != (got.Error == "") {
			t.Errorf("%s: %q (%s), want %q", tc.name, got.Outcome, got.Error, tc.want)
		}
	}
}
