package probe

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

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
// observation's steps, outcome and order, what the run shares between them,
// and its progress calls.
func TestRunDirect(t *testing.T) {
	t.Parallel()
	targets, wants := directLab(t)
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
	checkProgress(t, progress, len(targets))
}

// directWant is an observation TestRunDirect expects, in run order.
type directWant struct {
	host    string
	ip      netip.Addr
	outcome Outcome
	steps   string // which steps ran: D(NS) T(CP) S(TLS) H(TTP)
}

// directLab serves TestRunDirect's world (a name with two HTTPS addresses, a
// refused port, an NCSI page, a captive portal, a SERVFAIL) and returns its
// targets and the observations they must give.
func directLab(t *testing.T) ([]Target, []directWant) {
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
	wants := []directWant{
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
	return targets, wants
}

// checkProgress: Run called Progress once per target, counting up from 1.
func checkProgress(t *testing.T, progress []int, targets int) {
	t.Helper()
	for i, d := range progress {
		if d != i+1 {
			t.Fatalf("progress %v, want 1..%d", progress, targets)
		}
	}
	if len(progress) != targets {
		t.Errorf("progress called %d times, want %d", len(progress), targets)
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
		targets[i].Timeout = 20 * time.Second // the order is tested, not the speed of a loaded machine
	}
	for _, c := range []int{1, 7, 64} {
		obs := Run(context.Background(), targets, RunOptions{Concurrency: c})
		if len(obs) != n*len(addrs) {
			for _, o := range obs {
				if o.Outcome != OK {
					t.Logf("%s %v: %s (%s)", o.Target.Host, o.IP, o.Outcome, o.Error)
				}
			}
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
