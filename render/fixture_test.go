package render

import (
	"net/netip"
	"net/url"
	"testing"
	"time"

	"egressprobe/plan"
	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/report"
	"egressprobe/targets"
)

// The golden files render reports that the real pipeline built: observations
// as probe.Run returns them, joined by plan.Plan.Report (report.Build) as
// check does, so a change in report.Build reaches every golden. Times are
// fixed so the goldens are byte-exact.
var fixtureStart = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

// fixtureProxy plants a password that no format may print (Redacted hides it).
func fixtureProxy() proxy.Route {
	u := &url.URL{Scheme: "http", User: url.UserPassword("svc-backup", "planted-Pr0xyPa55word"), Host: "proxy.contoso.local:3128"}
	return proxy.Route{Proxy: u, Source: proxy.SourceEnv}
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func step(out probe.Outcome, d float64) probe.Step {
	return probe.Step{Outcome: out, Duration: ms(d)}
}

func addrs(ss ...string) []netip.Addr {
	var as []netip.Addr
	for _, s := range ss {
		as = append(as, netip.MustParseAddr(s))
	}
	return as
}

func resolved(host, server string, ttl uint32, d float64, cnames []probe.CNAME, ips ...string) *probe.DNSResult {
	return &probe.DNSResult{Step: step(probe.OK, d), Host: host, Server: server, CNAMEs: cnames, Addrs: addrs(ips...), TTL: ttl}
}

// fixtureTags is a slice of Microsoft's public feed: the prefixes the
// fixture's addresses fall in.
func fixtureTags(a netip.Addr) []report.TagMatch {
	var out []report.TagMatch
	for _, m := range []report.TagMatch{
		{Tag: "AzureActiveDirectory", SystemService: "AzureAD", Prefix: "20.190.128.0/18"},
		{Tag: "AzureActiveDirectory", SystemService: "AzureAD", Prefix: "40.126.0.0/18"},
		{Tag: "AzureActiveDirectory", SystemService: "AzureAD", Prefix: "2603:1037::/36"},
		{Tag: "AzureBackup.WestEurope", Region: "westeurope", SystemService: "AzureBackup", Prefix: "20.38.1.0/24"},
		{Tag: "AzureBackup", SystemService: "AzureBackup", Prefix: "20.38.0.0/16"},
		{Tag: "AzureCloud", Prefix: "20.32.0.0/11"},
		{Tag: "AzureCloud.WestEurope", Region: "westeurope", Prefix: "20.50.0.0/16"},
		{Tag: "Storage.WestEurope", Region: "westeurope", SystemService: "AzureStorage", Prefix: "20.60.144.0/23"},
	} {
		if netip.MustParsePrefix(m.Prefix).Contains(a) {
			out = append(out, m)
		}
	}
	return out
}

func fixtureProvider(a netip.Addr) *report.Provider {
	switch {
	case netip.MustParsePrefix("23.215.0.0/16").Contains(a):
		return &report.Provider{Name: "akamai", Kind: "cdn"}
	case a.IsPrivate():
		return nil
	}
	return &report.Provider{Name: "azure", Kind: "cloud"}
}

// loadCheckFixture is a run in West Europe behind a proxy: dropped SYNs (one
// traced), TLS inspection and a denied CONNECT on the proxy, an address
// outside its service tag, a private endpoint a second resolver sees, a
// captive NCSI page, an NXDOMAIN, an IPv6 address on a host without IPv6, a
// skewed clock, wildcard checks and a family not probed.
func loadCheckFixture(t testing.TB) *report.Report {
	t.Helper()
	https := func(host, family, role string, tags ...string) targets.Endpoint {
		return targets.Endpoint{Host: host, Port: 443, Scheme: targets.SchemeHTTPS, Family: family, Cloud: "public", Role: role, ExpectedTags: tags, Source: targets.SourceCatalog}
	}
	ncsi := func(host string) targets.Endpoint {
		return targets.Endpoint{Host: host, Port: 80, Scheme: targets.SchemeHTTP, Path: "/connecttest.txt", Family: "ncsi", Cloud: "public", Role: "ncsi", ExpectBody: "Microsoft Connect Test", Source: targets.SourceCatalog}
	}
	eps := []targets.Endpoint{
		https("login.microsoftonline.com", "*.microsoftonline.com", "sign-in", "AzureActiveDirectory"),
		https("pod01-prot1.we.backup.windowsazure.com", "*.windowsazure.com", "backup-service", "AzureBackup.WestEurope"),
		https("pod01-rec2.we.backup.windowsazure.com", "*.windowsazure.com", "backup-service", "AzureBackup.WestEurope"),
		https("mystorageaccount.blob.core.windows.net", "*.blob.core.windows.net", "storage", "Storage.WestEurope"),
		ncsi("www.msftconnecttest.com"),
		ncsi("www.msftncsi.com"),
		https("ep-q7k2m9x4.windowsazure.com", "*.windowsazure.com", report.RoleWildcardCheck),
		https("ep-3hv8w1zt.blob.core.windows.net", "*.blob.core.windows.net", report.RoleWildcardCheck),
	}
	px := fixtureProxy()
	direct := proxy.Route{Source: proxy.SourceNone}
	const sys, corp = "system", "10.0.0.53:53"
	at := func(s float64) time.Time { return fixtureStart.Add(ms(s * 1000)) }

	login := resolved(eps[0].Host, sys, 60, 12.4, []probe.CNAME{{Name: "login.microsoftonline.com.", Target: "login.mso.msidentity.com."}, {Name: "login.mso.msidentity.com.", Target: "www.tm.ak.prd.aadg.trafficmanager.net."}},
		"20.190.160.1", "40.126.32.1", "2603:1037:1:200::1")
	prot := resolved(eps[1].Host, sys, 300, 8.1, nil, "20.38.1.2", "20.38.1.3")
	rec := resolved(eps[2].Host, sys, 300, 7.9, nil, "20.50.2.10")
	blobPublic := resolved(eps[3].Host, sys, 60, 15.2, []probe.CNAME{{Name: "mystorageaccount.blob.core.windows.net.", Target: "mystorageaccount.privatelink.blob.core.windows.net."}, {Name: "mystorageaccount.privatelink.blob.core.windows.net.", Target: "blob.ams20prdstr02a.store.core.windows.net."}},
		"20.60.145.4")
	blobPublic.PrivateLink = true
	blobPrivate := resolved(eps[3].Host, corp, 10, 3.3, []probe.CNAME{{Name: "mystorageaccount.blob.core.windows.net.", Target: "mystorageaccount.privatelink.blob.core.windows.net."}}, "10.20.0.5")
	blobPrivate.PrivateLink = true
	connecttest := resolved(eps[4].Host, sys, 30, 9.7, nil, "23.215.0.136")
	ncsiNX := &probe.DNSResult{Step: step(probe.DNSNXDomain, 4.2), Host: eps[5].Host, Server: corp}
	ncsiNX.Error = "resolve www.msftncsi.com with 10.0.0.53:53: no such name (NXDOMAIN)"
	ncsiSys := resolved(eps[5].Host, sys, 30, 6.0, nil, "23.215.0.137")
	wild := func(host string) *probe.DNSResult {
		d := &probe.DNSResult{Step: step(probe.DNSNXDomain, 5.0), Host: host, Server: sys}
		d.Error = "resolve " + host + " with system: no such name (NXDOMAIN)"
		return d
	}

	hop := func(ttl int, addr string, d float64) probe.Hop {
		a := netip.MustParseAddr(addr)
		return probe.Hop{TTL: ttl, Addr: &a, MS: &d, Reply: "time_exceeded"}
	}
	trace := &probe.TraceResult{Method: "tcp-syn", Target: "20.190.160.1:443", MS: 2004.1,
		Hops: []probe.Hop{hop(1, "10.0.0.1", 0.6), hop(2, "10.255.0.1", 1.9), {TTL: 3}, {TTL: 4}, {TTL: 5}}}
	trace.LastResponding = &trace.Hops[1]

	dropped := func(i int, d *probe.DNSResult, ip string) probe.Observation {
		return probe.Observation{Index: i, Target: probe.Target{Host: d.Host, Resolver: sys, Route: direct}, IP: netip.MustParseAddr(ip), DNS: d,
			TCP: &probe.TCPResult{Step: step(probe.TCPTimeout, 5000.2)}, Outcome: probe.TCPTimeout,
			Error: "connect to " + ip + ":443 (" + d.Host + "): no answer within 5s: a firewall drops the SYN", Start: at(0.02), Elapsed: ms(5012.7)}
	}
	connect := func(out probe.Outcome, code int, d float64) *probe.ConnectResult {
		return &probe.ConnectResult{Step: step(out, d), Proxy: px.Redacted(), ProxyAddr: "10.0.0.8:3128", StatusCode: code}
	}
	microsoftTLS := func(host string) *probe.TLSResult {
		return &probe.TLSResult{Step: step(probe.OK, 41.3), Version: "TLS 1.3", Cipher: "TLS_AES_256_GCM_SHA384", Verified: true,
			Chain: []probe.Cert{{Subject: "CN=" + host, Issuer: "CN=Microsoft Azure RSA TLS Issuing CA 07,O=Microsoft Corporation,C=US", SANs: []string{host},
				NotBefore: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 2, 26, 0, 0, 0, 0, time.UTC)}}}
	}
	intercepted := &probe.TLSResult{Step: step(probe.TLSIntercepted, 38.5), Version: "TLS 1.2", Cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		Chain: []probe.Cert{{Subject: "CN=login.microsoftonline.com", Issuer: "CN=Contoso TLS Inspection CA,O=Contoso Ltd", SANs: []string{"login.microsoftonline.com"},
			NotBefore: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)}},
		InterceptedBy: "CN=Contoso TLS Inspection CA,O=Contoso Ltd"}
	intercepted.Error = "TLS to login.microsoftonline.com through proxy.contoso.local:3128: the certificate was issued by CN=Contoso TLS Inspection CA,O=Contoso Ltd, not a public CA: a TLS-inspecting middlebox intercepts this host"
	denied := connect(probe.ProxyDenied, 403, 22.7)
	denied.Error = "CONNECT pod01-prot1.we.backup.windowsazure.com:443 via proxy.contoso.local:3128: 403 Forbidden: the proxy's policy denies this host"
	// The backup service's Date header is 6m53s behind this server's clock.
	recHTTP := &probe.HTTPResult{Step: probe.Step{Start: at(1), Duration: ms(60.4), Outcome: probe.OK}, URL: "https://pod01-rec2.we.backup.windowsazure.com/", StatusCode: 404,
		Date: at(1).Add(-413 * time.Second), BytesRead: 1432}
	captive := &probe.HTTPResult{Step: step(probe.HTTPUnexpected, 18.9), URL: "http://www.msftconnecttest.com/connecttest.txt", StatusCode: 302,
		Location: "http://portal.contoso.local/login", BytesRead: 310}
	captive.Error = "GET http://www.msftconnecttest.com/connecttest.txt: 302 to http://portal.contoso.local/login, not the expected body: a captive portal or intercepting proxy answers"
	ncsiOK := &probe.HTTPResult{Step: step(probe.OK, 21.5), URL: "http://www.msftncsi.com/connecttest.txt", StatusCode: 200, BodyMatch: true, BytesRead: 180}
	tcpOK := func(d float64) *probe.TCPResult { return &probe.TCPResult{Step: step(probe.OK, d)} }

	lead := dropped(0, login, "20.190.160.1")
	lead.Trace = trace
	obs := []probe.Observation{
		lead,
		dropped(0, login, "40.126.32.1"),
		{Index: 0, Target: probe.Target{Host: eps[0].Host, Resolver: sys}, IP: netip.MustParseAddr("2603:1037:1:200::1"), DNS: login, Outcome: probe.SkippedNoIPv6,
			Error: "not tried: this server has no IPv6 route"},
		{Index: 0, Target: probe.Target{Host: eps[0].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("20.190.160.1"), DNS: login,
			Proxy: connect(probe.OK, 200, 31.2), TLS: intercepted, Outcome: probe.TLSIntercepted, Error: intercepted.Error, Elapsed: ms(84.0)},
		dropped(1, prot, "20.38.1.2"),
		dropped(1, prot, "20.38.1.3"),
		{Index: 1, Target: probe.Target{Host: eps[1].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("20.38.1.2"), DNS: prot,
			Proxy: denied, Outcome: probe.ProxyDenied, Error: denied.Error, Elapsed: ms(31.0)},
		dropped(2, rec, "20.50.2.10"),
		{Index: 2, Target: probe.Target{Host: eps[2].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("20.50.2.10"), DNS: rec,
			Proxy: connect(probe.OK, 200, 28.4), TLS: microsoftTLS(eps[2].Host), HTTP: recHTTP, Outcome: probe.OK, Elapsed: ms(138.6)},
		{Index: 3, Target: probe.Target{Host: eps[3].Host, Resolver: sys, Route: direct}, IP: netip.MustParseAddr("20.60.145.4"), DNS: blobPublic,
			TCP: tcpOK(9.8), TLS: microsoftTLS(eps[3].Host), Outcome: probe.OK, Elapsed: ms(66.3)},
		{Index: 3, Target: probe.Target{Host: eps[3].Host, Resolver: corp, Route: direct}, IP: netip.MustParseAddr("10.20.0.5"), DNS: blobPrivate,
			TCP: tcpOK(1.1), TLS: microsoftTLS(eps[3].Host), Outcome: probe.OK, Elapsed: ms(27.5)},
		{Index: 4, Target: probe.Target{Host: eps[4].Host, Resolver: sys, Route: direct}, IP: netip.MustParseAddr("23.215.0.136"), DNS: connecttest,
			TCP: tcpOK(3.4), HTTP: captive, Outcome: probe.HTTPUnexpected, Error: captive.Error, Elapsed: ms(32.0)},
		{Index: 5, Target: probe.Target{Host: eps[5].Host, Resolver: corp, Route: direct}, DNS: ncsiNX, Outcome: probe.DNSNXDomain, Error: ncsiNX.Error, Elapsed: ms(4.2)},
		{Index: 5, Target: probe.Target{Host: eps[5].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("23.215.0.137"), DNS: ncsiSys,
			Proxy: &probe.ConnectResult{Step: step(probe.OK, 2.2), Proxy: px.Redacted(), ProxyAddr: "10.0.0.8:3128"}, HTTP: ncsiOK, Outcome: probe.OK, Elapsed: ms(29.7)},
		{Index: 6, Target: probe.Target{Host: eps[6].Host, Resolver: sys}, DNS: wild(eps[6].Host), Outcome: probe.DNSNXDomain, Elapsed: ms(5)},
		{Index: 7, Target: probe.Target{Host: eps[7].Host, Resolver: sys}, DNS: wild(eps[7].Host), Outcome: probe.DNSNXDomain, Elapsed: ms(5)},
	}
	p := &plan.Plan{Cloud: "public", Region: "westeurope", Resolvers: []string{sys, corp},
		Proxy:     &report.ProxyInfo{URL: px.Redacted(), Source: string(px.Source)},
		IPv6:      &probe.IPv6Reach{Available: false, Detail: "no global IPv6 address on any interface"},
		Endpoints: eps,
		NotProbed: []report.NotProbed{{Family: "*.blob.storage.azure.net", ExpectedTags: []string{"Storage"}, NameOne: "add --storage-account NAME or --member HOST"}}}
	return p.Report(fixtureStart, fixtureStart.Add(ms(7412)), obs, plan.Attribution{
		Tags:     fixtureTags,
		TagsInfo: report.ServiceTagsInfo{Loaded: true, Source: `C:\ProgramData\egressprobe\servicetags\ServiceTags_Public_20261123.json`, Cloud: "public", ChangeNumber: 391, Published: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		Provider: fixtureProvider,
	})
}

// loadOfflineFixture is a server with no working resolver: every name fails
// at DNS, and no feed is cached.
func loadOfflineFixture(t testing.TB) *report.Report {
	t.Helper()
	start := time.Date(2026, 11, 26, 9, 40, 0, 0, time.UTC)
	eps := []targets.Endpoint{
		{Host: "login.microsoftonline.com", Port: 443, Scheme: targets.SchemeHTTPS, Family: "*.microsoftonline.com", Cloud: "public", Role: "sign-in", ExpectedTags: []string{"AzureActiveDirectory"}, Source: targets.SourceCatalog},
		{Host: "pod01-prot1.we.backup.windowsazure.com", Port: 443, Scheme: targets.SchemeHTTPS, Family: "*.windowsazure.com", Cloud: "public", Role: "backup-service", ExpectedTags: []string{"AzureBackup"}, Source: targets.SourceCatalog},
		{Host: "www.msftconnecttest.com", Port: 80, Scheme: targets.SchemeHTTP, Path: "/connecttest.txt", Family: "ncsi", Cloud: "public", Role: "ncsi", ExpectBody: "Microsoft Connect Test", Source: targets.SourceCatalog},
	}
	failed := func(i int, out probe.Outcome, d float64, why string) probe.Observation {
		host := eps[i].Host
		r := &probe.DNSResult{Step: step(out, d), Host: host, Server: "system"}
		r.Error = "resolve " + host + " with system resolver 127.0.0.53:53: " + why
		return probe.Observation{Index: i, Target: probe.Target{Host: host, Resolver: "system"}, DNS: r, Outcome: out, Error: r.Error, Elapsed: ms(d)}
	}
	refused := "connection refused: no resolver answers on this server"
	p := &plan.Plan{Cloud: "public", Resolvers: []string{"system"}, Endpoints: eps}
	return p.Report(start, start.Add(ms(3100)), []probe.Observation{
		failed(0, probe.DNSError, 0.4, refused),
		failed(1, probe.DNSTimeout, 3000.2, "no answer within 3s"),
		failed(2, probe.DNSError, 0.3, refused),
	}, plan.Attribution{TagsInfo: report.ServiceTagsInfo{Note: "no cached feed for the public cloud; fetch one with: egressprobe servicetags update --cloud public (or pass --service-tags FILE)"}})
}
