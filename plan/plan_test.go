package plan

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/report"
	"egressprobe/targets"
)

// testEnv is a host with no proxy settings beyond env, one system resolver
// and a fixed source of randomness.
func testEnv(env map[string]string) Env {
	return Env{
		Getenv:          func(k string) string { return env[k] },
		SystemResolvers: func() ([]string, error) { return []string{"127.0.0.53:53"}, nil },
		Random:          bytes.NewReader(bytes.Repeat([]byte{7}, 4096)),
	}
}

func opts(mod func(*Options)) Options {
	o := Options{Cloud: "public", Proxy: "none", Timeout: 5 * time.Second, Concurrency: 4, NoWildcardCheck: true}
	if mod != nil {
		mod(&o)
	}
	return o
}

func mustBuild(t *testing.T, o Options, env Env) *Plan {
	t.Helper()
	p, err := Build(o, env)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(p.Endpoints) != len(p.Targets) {
		t.Fatalf("%d endpoints for %d targets: they must be parallel", len(p.Endpoints), len(p.Targets))
	}
	return p
}

// TestBuildCatalog: a catalog run probes every catalog endpoint per resolver,
// expects a public issuer on Microsoft's chains, reads Date over an HTTP step
// on https endpoints, and lists the families it has no member of.
func TestBuildCatalog(t *testing.T) {
	p := mustBuild(t, opts(func(o *Options) { o.Resolvers = []string{"10.0.0.53", "[fd00::53]:5353"} }), testEnv(nil))
	if want := []string{"10.0.0.53:53", "[fd00::53]:5353"}; strings.Join(p.Resolvers, " ") != strings.Join(want, " ") {
		t.Errorf("resolvers %v, want %v", p.Resolvers, want)
	}
	eps, err := targets.Catalog(targets.CloudPublic, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Targets) != 2*len(eps) {
		t.Errorf("%d targets, want %d endpoints × 2 resolvers", len(p.Targets), len(eps))
	}
	if len(p.NotProbed) == 0 {
		t.Error("no families_not_probed: without --region the regional Backup family has no member")
	}
	if p.Proxy != nil {
		t.Errorf("proxy %+v with --proxy none", p.Proxy)
	}
	for i, tg := range p.Targets {
		ep := p.Endpoints[i]
		switch ep.Scheme {
		case targets.SchemeDNS:
			if !tg.DNSOnly || tg.Scheme != "" {
				t.Errorf("%s: DNSOnly %v scheme %q, want a resolution only", ep.Host, tg.DNSOnly, tg.Scheme)
			}
		case targets.SchemeHTTPS:
			if !tg.HTTP || !tg.TLS.ExpectPublicIssuer || tg.TLS.ServerName != ep.Host {
				t.Errorf("%s: HTTP %v public issuer %v SNI %q, want a GET, a public issuer and SNI %s",
					ep.Host, tg.HTTP, tg.TLS.ExpectPublicIssuer, tg.TLS.ServerName, ep.Host)
			}
		}
		if tg.Timeout != 5*time.Second || !tg.Route.Direct() {
			t.Errorf("%s: timeout %v route %v", ep.Host, tg.Timeout, tg.Route)
		}
	}
}

// TestBuildVault: --vault's names are resolved only, with the mode
// --private-endpoint sets, and no TLS or HTTP step.
func TestBuildVault(t *testing.T) {
	for _, pe := range []bool{false, true} {
		p := mustBuild(t, opts(func(o *Options) {
			o.Region, o.Vaults, o.PrivateEndpoint, o.Resolvers = "westeurope", []string{"42"}, pe, []string{"10.0.0.53"}
		}), testEnv(nil))
		want := map[bool]string{false: targets.PrivateLinkOptional, true: targets.PrivateLinkRequired}[pe]
		n := 0
		for i, ep := range p.Endpoints {
			if ep.Source != "--vault" {
				continue
			}
			n++
			if tg := p.Targets[i]; !tg.DNSOnly || tg.HTTP || ep.PrivateLink != want || !strings.Contains(ep.Host, ".privatelink.we.") {
				t.Errorf("%s: DNSOnly %v HTTP %v private_link %q, want a resolution only, %q", ep.Host, tg.DNSOnly, tg.HTTP, ep.PrivateLink, want)
			}
		}
		if n != 8 {
			t.Errorf("%d vault targets, want 8", n)
		}
	}
}

// TestBuildWildcardChecks: one random name per wildcard family and resolver,
// resolution only, marked for report.Wildcards.
func TestBuildWildcardChecks(t *testing.T) {
	p := mustBuild(t, opts(func(o *Options) { o.NoWildcardCheck = false }), testEnv(nil))
	fams, _ := targets.Families(targets.CloudPublic)
	wild := 0
	for _, f := range fams {
		if f.Wildcard() {
			wild++
		}
	}
	n := 0
	for i, ep := range p.Endpoints {
		if ep.Role != report.RoleWildcardCheck {
			continue
		}
		n++
		tg := p.Targets[i]
		if !tg.DNSOnly || tg.Resolver != "127.0.0.53:53" || !strings.HasSuffix(ep.Host, strings.TrimPrefix(ep.Family, "*")) {
			t.Errorf("wildcard check %+v for %s", tg, ep.Family)
		}
	}
	if wild == 0 || n != wild {
		t.Errorf("%d wildcard checks, want %d (one per wildcard family, one system resolver)", n, wild)
	}
	// Given targets: no wildcard checks, no families_not_probed.
	p = mustBuild(t, opts(func(o *Options) { o.NoWildcardCheck = false; o.Targets = []string{"example.test"} }), testEnv(nil))
	if len(p.Targets) != 1 || p.NotProbed != nil {
		t.Errorf("a given target: %d targets, not probed %v; want 1, none", len(p.Targets), p.NotProbed)
	}
}

// TestTarget: which step a target gets from its endpoint.
func TestTarget(t *testing.T) {
	cases := []struct {
		arg          string
		caFile       bool
		http, public bool
		path, sni    string
		port         uint16
	}{
		{arg: "example.test", sni: "example.test", port: 443},
		{arg: "example.test:8443", sni: "example.test", port: 8443},
		{arg: "https://example.test/health", http: true, path: "/health", sni: "example.test", port: 443},
		{arg: "http://example.test/ncsi.txt", http: false, path: "/ncsi.txt", sni: "example.test", port: 80},
		{arg: "192.0.2.7", sni: "", port: 443},
		{arg: "[2001:db8::7]:8443", sni: "", port: 8443},
	}
	for _, c := range cases {
		ep, err := targets.ParseTarget(c.arg)
		if err != nil {
			t.Fatalf("%s: %v", c.arg, err)
		}
		o := opts(nil)
		tg := Target(ep, "127.0.0.53:53", directRoute, nil, &o)
		if tg.HTTP != c.http || tg.TLS.ExpectPublicIssuer != c.public || tg.URLPath != c.path || tg.TLS.ServerName != c.sni || tg.Port != c.port {
			t.Errorf("%s: HTTP %v public %v path %q SNI %q port %d; want %v %v %q %q %d",
				c.arg, tg.HTTP, tg.TLS.ExpectPublicIssuer, tg.URLPath, tg.TLS.ServerName, tg.Port, c.http, c.public, c.path, c.sni, c.port)
		}
	}
	// A catalog endpoint with --ca-file: the chain ends at the given CA, not a public one.
	ep := targets.Endpoint{Host: "login.microsoftonline.com", Port: 443, Scheme: targets.SchemeHTTPS, Source: targets.SourceCatalog, Timeout: 2 * time.Second}
	o := opts(func(o *Options) { o.CAFile = "ca.pem" })
	if tg := Target(ep, "r", directRoute, nil, &o); tg.TLS.ExpectPublicIssuer || !tg.HTTP || tg.Timeout != 2*time.Second {
		t.Errorf("catalog endpoint with --ca-file: public issuer %v HTTP %v timeout %v; want false, true, the endpoint's 2s",
			tg.TLS.ExpectPublicIssuer, tg.HTTP, tg.Timeout)
	}
}

var directRoute = proxy.Route{Source: proxy.SourceNone}

// TestBuildPath: --path picks routes per endpoint; a host NO_PROXY bypasses
// takes the run's proxy when --path asks for the proxy.
func TestBuildPath(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://user:secret@proxy.test:3128", "NO_PROXY": "bypass.test"}
	given := []string{"via.test", "bypass.test"}
	cases := []struct {
		path string
		want []string // per target: route, in order
	}{
		{"", []string{"proxy", "direct"}},
		{"direct", []string{"direct", "direct"}},
		{"proxy", []string{"proxy", "proxy"}},
		{"both", []string{"direct", "proxy", "direct", "proxy"}},
	}
	for _, c := range cases {
		p := mustBuild(t, opts(func(o *Options) { o.Proxy = "auto"; o.Path = c.path; o.Targets = given }), testEnv(env))
		var got []string
		for _, tg := range p.Targets {
			got = append(got, map[bool]string{true: "direct", false: "proxy"}[tg.Route.Direct()])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("--path %q: routes %v, want %v", c.path, got, c.want)
		}
		if p.Proxy == nil || p.Proxy.URL != "http://user:xxxxx@proxy.test:3128" || p.Proxy.Source != "env" {
			t.Errorf("--path %q: run proxy %+v, want the redacted env proxy", c.path, p.Proxy)
		}
	}
}

// TestBuildInputErrors: every bad option is an *InputError naming it; a host
// that cannot say its resolvers is not the user's input.
func TestBuildInputErrors(t *testing.T) {
	dir := testenv.TempDir(t)
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"timeout", func(o *Options) { o.Timeout = 0 }, "--timeout: 0s is not a positive duration"},
		{"concurrency", func(o *Options) { o.Concurrency = 0 }, "--concurrency: 0: give at least 1"},
		{"cloud", func(o *Options) { o.Cloud = "mars" }, "--cloud: unknown cloud"},
		{"resolver", func(o *Options) { o.Resolvers = []string{"dns.example"} }, `--resolver: "dns.example" is not IP or IP:PORT`},
		{"resolver port 0", func(o *Options) { o.Resolvers = []string{"10.0.0.53:0"} }, `--resolver: "10.0.0.53:0" is not IP or IP:PORT`},
		{"path", func(o *Options) { o.Path = "sideways" }, `--path: unknown route "sideways"; use one of direct, proxy, both`},
		{"no proxy", func(o *Options) { o.Path = "proxy" }, `--path: "proxy" asks for a proxy, and none is configured`},
		{"members with targets", func(o *Options) { o.Targets = []string{"a.test"}; o.Members = []string{"b.test"} }, "--member, --storage-account, --vault and --private-endpoint"},
		{"private endpoint with targets", func(o *Options) { o.Targets = []string{"a.test"}; o.PrivateEndpoint = true }, "--private-endpoint add to the built-in catalog"},
		{"private endpoint without vault", func(o *Options) { o.Region = "westeurope"; o.PrivateEndpoint = true }, "name the vault with --vault ID"},
		{"ca file missing", func(o *Options) { o.CAFile = filepath.Join(dir, "none.pem") }, "--ca-file:"},
		{"ca file not PEM", func(o *Options) { o.CAFile = notPEM }, "--ca-file: no PEM certificate in"},
		{"proxy", func(o *Options) { o.Proxy = "http://user:secret@bad host" }, "--proxy"},
		{"targets data", func(o *Options) { o.TargetsFile = "t.txt"; o.TargetsData = []byte("# nothing\n") }, "t.txt: no targets"},
		{"family", func(o *Options) { o.Family = 5 }, "IP family 5"},
		{"-4 with an IPv6 literal", func(o *Options) { o.Targets = []string{"[2001:db8::1]:443"}; o.Family = 4 }, "an IPv6 address, but -4"},
		{"-6 with an IPv4 literal", func(o *Options) { o.Targets = []string{"192.0.2.1"}; o.Family = 6 }, "an IPv4 address, but -6"},
	}
	for _, c := range cases {
		_, err := Build(opts(c.mod), testEnv(nil))
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %v, want an *InputError containing %q and no password", c.name, err, c.want)
		}
	}
	env := testEnv(nil)
	env.SystemResolvers = func() ([]string, error) { return nil, errors.New("no resolv.conf") }
	_, err := Build(opts(nil), env)
	var ie *InputError
	if err == nil || errors.As(err, &ie) || !strings.Contains(err.Error(), "give --resolver") {
		t.Errorf("system resolvers unknown: error %v, want a host error that says to give --resolver", err)
	}
}

// TestBuildTargetsData: a targets file's contents plan as the file would.
func TestBuildTargetsData(t *testing.T) {
	data := []byte("- host: a.test\n  timeout: 2s\n- host: b.test\n  port: 8443\n")
	path := filepath.Join(testenv.TempDir(t), "targets.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := mustBuild(t, opts(func(o *Options) { o.TargetsFile = path }), testEnv(nil))
	fromData := mustBuild(t, opts(func(o *Options) { o.TargetsFile = path; o.TargetsData = data }), testEnv(nil))
	if len(fromFile.Targets) != 2 || len(fromData.Targets) != 2 {
		t.Fatalf("%d and %d targets, want 2", len(fromFile.Targets), len(fromData.Targets))
	}
	for i := range fromFile.Targets {
		a, b := fromFile.Targets[i], fromData.Targets[i]
		if a.Host != b.Host || a.Port != b.Port || a.Timeout != b.Timeout || fromFile.Endpoints[i].Source != fromData.Endpoints[i].Source {
			t.Errorf("target %d: file %+v, data %+v", i, a, b)
		}
	}
	if fromData.Targets[0].Timeout != 2*time.Second || fromData.Targets[1].Timeout != 5*time.Second {
		t.Errorf("timeouts %v %v, want the file's 2s then the run's 5s", fromData.Targets[0].Timeout, fromData.Targets[1].Timeout)
	}
}

// TestReport: the plan's observations, run by the engine against a closed
// loopback port, join into a report carrying the plan's facts.
func TestReport(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens: the connect is refused
	p := mustBuild(t, opts(func(o *Options) { o.Targets = []string{addr} }), testEnv(nil))
	obs := probe.Run(t.Context(), p.Targets, p.RunOptions(nil))
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rep := p.Report(start, start.Add(time.Second), obs, Attribution{})
	if rep.Cloud != targets.CloudPublic || len(rep.Results) != 1 || rep.Summary.Failed != 1 {
		t.Fatalf("report: cloud %q, %d results, %d failed; want public, 1, 1", rep.Cloud, len(rep.Results), rep.Summary.Failed)
	}
	if r := rep.Results[0]; r.Status != probe.TCPRefused || r.IP == nil || *r.IP != "127.0.0.1" {
		t.Errorf("result %+v, want tcp_refused at 127.0.0.1", r)
	}
}

// TestBuildIPv6: the host's IPv6 is decided once per plan, through Env (so
// tests inject it), and reaches the engine and the report with -4/-6.
func TestBuildIPv6(t *testing.T) {
	env := testEnv(nil)
	calls := 0
	env.IPv6 = func() probe.IPv6Reach { calls++; return probe.IPv6Reach{Detail: "injected: none"} }
	p := mustBuild(t, opts(func(o *Options) { o.Targets = []string{"a.test", "b.test"}; o.Family = 4 }), env)
	ro := p.RunOptions(nil)
	if calls != 1 || ro.IPv6 == nil || ro.IPv6.Detail != "injected: none" || ro.Family != 4 {
		t.Errorf("%d decisions, run options IPv6 %+v family %d; want one decision, injected, family 4", calls, ro.IPv6, ro.Family)
	}
	if r := p.Report(time.Time{}, time.Time{}, nil, Attribution{}); r.IPv6 != p.IPv6 {
		t.Errorf("report IPv6 %+v, want the plan's %+v", r.IPv6, p.IPv6)
	}
	if p := mustBuild(t, opts(func(o *Options) { o.Targets = []string{"a.test"} }), testEnv(nil)); p.IPv6 != nil {
		t.Errorf("no IPv6 decider: %+v, want nil (every address probed)", p.IPv6)
	}
}

// TestBuildIPLiteralHasNoResolver: an IP literal is not resolved, so it is
// probed once whatever --resolver lists, with no resolver (reported "none").
func TestBuildIPLiteralHasNoResolver(t *testing.T) {
	p := mustBuild(t, opts(func(o *Options) {
		o.Targets = []string{"192.0.2.1:8443", "[2001:db8::1]:4431", "a.test"}
		o.Resolvers = []string{"10.0.0.53", "10.0.0.54"}
	}), testEnv(nil))
	var got []string
	for _, tg := range p.Targets {
		got = append(got, tg.Host+"@"+tg.Resolver)
	}
	want := []string{"192.0.2.1@", "2001:db8::1@", "a.test@10.0.0.53:53", "a.test@10.0.0.54:53"}
	if !slices.Equal(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
}

// TestBuildNotProbedSaysHowToNameOne: the hint for a family without a member
// fits the run: --region when none was given, and when the region given has
// no published Backup pods, that, not "add --region".
func TestBuildNotProbedSaysHowToNameOne(t *testing.T) {
	hint := func(region, family string) string {
		p := mustBuild(t, opts(func(o *Options) { o.Region = region }), testEnv(nil))
		for _, n := range p.NotProbed {
			if n.Family == family {
				return n.NameOne
			}
		}
		return ""
	}
	if h := hint("", "*.windowsazure.com"); !strings.Contains(h, "--region") {
		t.Errorf("no region: hint %q, want --region", h)
	}
	if h := hint("austriaeast", "*.windowsazure.com"); !strings.Contains(h, "Austria East has no published Azure Backup pods") || strings.Contains(h, "--region") {
		t.Errorf("region without pods: hint %q", h)
	}
	if h := hint("", "*.blob.storage.azure.net"); !strings.Contains(h, "--storage-account") {
		t.Errorf("storage family: hint %q", h)
	}
}

// TestBuildHostsFile: with the system's resolvers a host the hosts file names
// is resolved by the file alone (resolver "hosts"), as the agent's would be;
// with --resolver it is asked as given and carries the file's addresses for
// the report's warning. Other hosts are untouched.
func TestBuildHostsFile(t *testing.T) {
	env := testEnv(nil)
	env.SystemResolvers = func() ([]string, error) { return []string{"127.0.0.53:53", "10.0.0.2:53"}, nil }
	env.Hosts = func() (*probe.Hosts, error) {
		return probe.ParseHosts("hosts", []byte("10.0.0.5 Login.MicrosoftOnline.com # pinned\n")), nil
	}
	targetsOf := func(p *Plan) map[string][]probe.Target {
		m := map[string][]probe.Target{}
		for _, tg := range p.Targets {
			m[tg.Host] = append(m[tg.Host], tg)
		}
		return m
	}
	system := targetsOf(mustBuild(t, opts(func(o *Options) { o.Targets = []string{"login.microsoftonline.com", "other.example.com"} }), env))
	if l := system["login.microsoftonline.com"]; len(l) != 1 || l[0].Resolver != probe.HostsResolver || len(l[0].HostsAddrs) != 1 || l[0].HostsAddrs[0].String() != "10.0.0.5" {
		t.Errorf("system resolvers, pinned host: %+v; want one target answered by the hosts file (10.0.0.5)", l)
	}
	if o := system["other.example.com"]; len(o) != 2 || o[0].Resolver != "127.0.0.53:53" || o[0].HostsAddrs != nil {
		t.Errorf("system resolvers, other host: %+v; want one target per system resolver", o)
	}
	given := targetsOf(mustBuild(t, opts(func(o *Options) {
		o.Targets, o.Resolvers = []string{"login.microsoftonline.com"}, []string{"10.0.0.53"}
	}), env))
	if l := given["login.microsoftonline.com"]; len(l) != 1 || l[0].Resolver != "10.0.0.53:53" || len(l[0].HostsAddrs) != 1 {
		t.Errorf("--resolver, pinned host: %+v; want the resolver asked, the file's address kept for the warning", l)
	}
	env.Hosts = func() (*probe.Hosts, error) { return nil, errors.New("reading the hosts file: permission denied") }
	if _, err := Build(opts(func(o *Options) { o.Targets = []string{"x.example.com"} }), env); err == nil || !strings.Contains(err.Error(), "hosts file") {
		t.Errorf("unreadable hosts file: %v, want an error naming it", err)
	}
}
