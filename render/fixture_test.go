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
// skewed clock, wildcard checks, a family not probed, and the chains' URLs:
// OCSP answers direct, the CRL host drops port 80, and the proxy serves a
// block page for OCSP and denies the CRL.
func loadCheckFixture(t testing.TB) *report.Report {
	t.Helper()
	eps := fixtureEndpoints()
	px := fixtureProxy()
	p := &plan.Plan{Cloud: "public", Region: "westeurope", Resolvers: []string{fixtureSys, fixtureCorp},
		Proxy:     &report.ProxyInfo{URL: px.Redacted(), Source: string(px.Source)},
		IPv6:      &probe.IPv6Reach{Available: false, Detail: "no global IPv6 address on any interface"},
		Endpoints: eps,
		NotProbed: []report.NotProbed{{Family: "*.blob.storage.azure.net", ExpectedTags: []string{"Storage"}, NameOne: "add --storage-account NAME or --member HOST"}},
		TrustPath: &report.TrustPathSettings{Mode: report.TrustPathCheck, URLTimeoutMS: 15000, RevocationTimeoutMS: 20000, Registry: []probe.ChainEngineValue{}}}
	return p.Report(fixtureStart, fixtureStart.Add(ms(7412)), fixtureObservations(eps, px), plan.Attribution{
		Tags:     fixtureTags,
		TagsInfo: report.ServiceTagsInfo{Loaded: true, Source: `C:\ProgramData\egressprobe\servicetags\ServiceTags_Public_20261123.json`, Cloud: "public", ChangeNumber: 391, Published: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		Provider: fixtureProvider,
	})
}

// The fixture's two resolvers: the system's and the corporate one.
const fixtureSys, fixtureCorp = "system", "10.0.0.53:53"

// fixtureAt is s seconds into the fixture's run.
func fixtureAt(s float64) time.Time { return fixtureStart.Add(ms(s * 1000)) }

// fixtureEndpoints is what the fixture's run probed: the catalog's sign-in,
// backup, storage and NCSI names and two wildcard checks.
func fixtureEndpoints() []targets.Endpoint {
	https := func(host, family, role string, tags ...string) targets.Endpoint {
		return targets.Endpoint{Host: host, Port: 443, Scheme: targets.SchemeHTTPS, Family: family, Cloud: "public", Role: role, ExpectedTags: tags, Source: targets.SourceCatalog}
	}
	ncsi := func(host string) targets.Endpoint {
		return targets.Endpoint{Host: host, Port: 80, Scheme: targets.SchemeHTTP, Path: "/connecttest.txt", Family: "ncsi", Cloud: "public", Role: "ncsi", ExpectBody: "Microsoft Connect Test", Source: targets.SourceCatalog}
	}
	return []targets.Endpoint{
		https("login.microsoftonline.com", "*.microsoftonline.com", "sign-in", "AzureActiveDirectory"),
		https("pod01-prot1.we.backup.windowsazure.com", "*.windowsazure.com", "backup-service", "AzureBackup.WestEurope"),
		https("pod01-rec2.we.backup.windowsazure.com", "*.windowsazure.com", "backup-service", "AzureBackup.WestEurope"),
		https("mystorageaccount.blob.core.windows.net", "*.blob.core.windows.net", "storage", "Storage.WestEurope"),
		ncsi("www.msftconnecttest.com"),
		ncsi("www.msftncsi.com"),
		https("ep-q7k2m9x4.windowsazure.com", "*.windowsazure.com", report.RoleWildcardCheck),
		https("ep-3hv8w1zt.blob.core.windows.net", "*.blob.core.windows.net", report.RoleWildcardCheck),
	}
}

// fixtureDNS is the fixture's resolutions; the observations of one name
// share its resolution, as probe.Run's do.
type fixtureDNS struct {
	login, prot, rec, blobPublic, blobPrivate, connecttest, ncsiNX, ncsiSys *probe.DNSResult
}

// fixtureResolutions resolves eps as the fixture's run did: CNAME chains, a
// private endpoint the corporate resolver answers privately, and an NCSI name
// that resolver does not know.
func fixtureResolutions(eps []targets.Endpoint) fixtureDNS {
	var d fixtureDNS
	d.login = resolved(eps[0].Host, fixtureSys, 60, 12.4, []probe.CNAME{{Name: "login.microsoftonline.com.", Target: "login.mso.msidentity.com."}, {Name: "login.mso.msidentity.com.", Target: "www.tm.ak.prd.aadg.trafficmanager.net."}},
		"20.190.160.1", "40.126.32.1", "2603:1037:1:200::1")
	d.prot = resolved(eps[1].Host, fixtureSys, 300, 8.1, nil, "20.38.1.2", "20.38.1.3")
	d.rec = resolved(eps[2].Host, fixtureSys, 300, 7.9, nil, "20.50.2.10")
	d.blobPublic = resolved(eps[3].Host, fixtureSys, 60, 15.2, []probe.CNAME{{Name: "mystorageaccount.blob.core.windows.net.", Target: "mystorageaccount.privatelink.blob.core.windows.net."}, {Name: "mystorageaccount.privatelink.blob.core.windows.net.", Target: "blob.ams20prdstr02a.store.core.windows.net."}},
		"20.60.145.4")
	d.blobPublic.PrivateLink = true
	d.blobPrivate = resolved(eps[3].Host, fixtureCorp, 10, 3.3, []probe.CNAME{{Name: "mystorageaccount.blob.core.windows.net.", Target: "mystorageaccount.privatelink.blob.core.windows.net."}}, "10.20.0.5")
	d.blobPrivate.PrivateLink = true
	d.connecttest = resolved(eps[4].Host, fixtureSys, 30, 9.7, nil, "23.215.0.136")
	d.ncsiNX = &probe.DNSResult{Step: step(probe.DNSNXDomain, 4.2), Host: eps[5].Host, Server: fixtureCorp}
	d.ncsiNX.Error = "resolve www.msftncsi.com with 10.0.0.53:53: no such name (NXDOMAIN)"
	d.ncsiSys = resolved(eps[5].Host, fixtureSys, 30, 6.0, nil, "23.215.0.137")
	return d
}

// fixtureWildcard is a wildcard check's random name: NXDOMAIN.
func fixtureWildcard(host string) *probe.DNSResult {
	d := &probe.DNSResult{Step: step(probe.DNSNXDomain, 5.0), Host: host, Server: fixtureSys}
	d.Error = "resolve " + host + " with system: no such name (NXDOMAIN)"
	return d
}

// fixtureTrace is the path of a dropped SYN: two routers answer, then
// silence.
func fixtureTrace() *probe.TraceResult {
	hop := func(ttl int, addr string, d float64) probe.Hop {
		a := netip.MustParseAddr(addr)
		return probe.Hop{TTL: ttl, Addr: &a, MS: &d, Reply: "time_exceeded"}
	}
	trace := &probe.TraceResult{Method: "tcp-syn", Target: "20.190.160.1:443", MS: 2004.1,
		Hops: []probe.Hop{hop(1, "10.0.0.1", 0.6), hop(2, "10.255.0.1", 1.9), {TTL: 3}, {TTL: 4}, {TTL: 5}}}
	trace.LastResponding = &trace.Hops[1]
	return trace
}

// fixtureDropped is a direct connection to ip whose SYN a firewall drops.
func fixtureDropped(i int, d *probe.DNSResult, ip string) probe.Observation {
	return probe.Observation{Index: i, Target: probe.Target{Host: d.Host, Resolver: fixtureSys, Route: proxy.Route{Source: proxy.SourceNone}}, IP: netip.MustParseAddr(ip), DNS: d,
		TCP: &probe.TCPResult{Step: step(probe.TCPTimeout, 5000.2)}, Outcome: probe.TCPTimeout,
		Error: "connect to " + ip + ":443 (" + d.Host + "): no answer within 5s: a firewall drops the SYN", Start: fixtureAt(0.02), Elapsed: ms(5012.7)}
}

// fixtureMicrosoftTLS is the handshake with one of Microsoft's own
// certificates for host.
func fixtureMicrosoftTLS(host string) *probe.TLSResult {
	return &probe.TLSResult{Step: step(probe.OK, 41.3), Version: "TLS 1.3", Cipher: "TLS_AES_256_GCM_SHA384", Verified: true,
		Chain: []probe.Cert{{Subject: "CN=" + host, Issuer: "CN=Microsoft Azure RSA TLS Issuing CA 07,O=Microsoft Corporation,C=US", SANs: []string{host},
			NotBefore: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 2, 26, 0, 0, 0, 0, time.UTC)}}}
}

// fixtureIntercepted is the proxy's TLS inspection of the sign-in name.
func fixtureIntercepted() *probe.TLSResult {
	intercepted := &probe.TLSResult{Step: step(probe.TLSIntercepted, 38.5), Version: "TLS 1.2", Cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		Chain: []probe.Cert{{Subject: "CN=login.microsoftonline.com", Issuer: "CN=Contoso TLS Inspection CA,O=Contoso Ltd", SANs: []string{"login.microsoftonline.com"},
			NotBefore: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)}},
		InterceptedBy: "CN=Contoso TLS Inspection CA,O=Contoso Ltd"}
	intercepted.Error = "TLS to login.microsoftonline.com through proxy.contoso.local:3128: the certificate was issued by CN=Contoso TLS Inspection CA,O=Contoso Ltd, not a public CA: a TLS-inspecting middlebox intercepts this host"
	return intercepted
}

// fixtureHTTP is the fixture's GETs: the backup service's answer, whose Date
// header is 6m53s behind this server's clock, a captive portal's redirect
// for NCSI, and NCSI's expected page through the proxy.
func fixtureHTTP() (rec, captive, ncsiOK *probe.HTTPResult) {
	rec = &probe.HTTPResult{Step: probe.Step{Start: fixtureAt(1), Duration: ms(60.4), Outcome: probe.OK}, URL: "https://pod01-rec2.we.backup.windowsazure.com/", StatusCode: 404,
		Date: fixtureAt(1).Add(-413 * time.Second), BytesRead: 1432}
	captive = &probe.HTTPResult{Step: step(probe.HTTPUnexpected, 18.9), URL: "http://www.msftconnecttest.com/connecttest.txt", StatusCode: 302,
		Location: "http://portal.contoso.local/login", BytesRead: 310}
	captive.Error = "GET http://www.msftconnecttest.com/connecttest.txt: 302 to http://portal.contoso.local/login, not the expected body: a captive portal or intercepting proxy answers"
	ncsiOK = &probe.HTTPResult{Step: step(probe.OK, 21.5), URL: "http://www.msftncsi.com/connecttest.txt", StatusCode: 200, BodyMatch: true, BytesRead: 180}
	return rec, captive, ncsiOK
}

// fixtureTrustPath is the Microsoft chain's URLs as the storage account's
// direct result and the backup pod's proxied one fetched them: OCSP answers
// direct and the CRL host drops port 80; the proxy serves a block page for
// OCSP and denies the CRL, while WinHTTP's route (direct) gets an answer.
func fixtureTrustPath() (direct, proxied []probe.TrustUse) {
	fetch := func(kind, u string, out probe.Outcome, took float64, code, bytes int, why string) *probe.TrustFetch {
		f := &probe.TrustFetch{URL: u, Kind: kind, Outcome: out, Error: why, Elapsed: ms(took)}
		if code != 0 {
			f.HTTP = &probe.HTTPResult{Step: step(probe.OK, took), URL: u, StatusCode: code, BytesRead: bytes, ContentType: "application/ocsp-response"}
		}
		return f
	}
	const issuing = "CN=Microsoft Azure RSA TLS Issuing CA 07,O=Microsoft Corporation,C=US"
	const ocspURL = "http://oneocsp.microsoft.com/ocsp"
	const crlURL = "http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2007.crl"
	ocspDirect := fetch(probe.TrustOCSP, ocspURL, probe.OK, 23.4, 200, 1873, "")
	ocspDirect.OCSP = &probe.OCSPAnswer{Method: "GET", Status: "good", ProducedAt: fixtureAt(-3600), NextUpdate: fixtureAt(86400)}
	crlDirect := fetch(probe.TrustCRL, crlURL, probe.TCPTimeout, 5000.1, 0, 0, "crl "+crlURL+": connect to 23.45.229.105:80 (www.microsoft.com): no answer within 5s: a firewall drops the SYN")
	crlDirect.IP = "23.45.229.105"
	ocspProxy := fetch(probe.TrustOCSP, ocspURL, probe.HTTPBlockPage, 14.2, 200, 2210,
		`ocsp `+ocspURL+`: 200 with an HTML page (text/html, 2048 bytes, "<html><title>Blocked</title>") instead of an OCSP answer: a web filter's or proxy's block page`)
	crlProxy := fetch(probe.TrustCRL, crlURL, probe.ProxyDenied, 9.1, 403, 512,
		"crl: GET "+crlURL+": the proxy http://svc-backup:xxxxx@proxy.contoso.local:3128 refused it itself (403 Forbidden; X-Squid-Error: \"ERR_ACCESS_DENIED 0\"): its policy denies this host")
	// WinHTTP has no proxy: CryptoAPI fetches OCSP direct, where it answers.
	ocspWinHTTP := fetch(probe.TrustOCSP, ocspURL, probe.OK, 21.7, 200, 1873, "")
	ocspWinHTTP.WinHTTP, ocspWinHTTP.Route = true, proxy.Route{Source: proxy.SourceWinHTTP, Detail: "no manual proxy"}
	uses := func(ocsp, crl *probe.TrustFetch) []probe.TrustUse {
		return []probe.TrustUse{{Depth: 0, Cert: "CN=leaf", Judged: true, Fetch: ocsp}, {Depth: 0, Cert: "CN=leaf", Judged: true, Fetch: crl},
			{Depth: 1, Cert: issuing, Fetch: crl}}
	}
	return uses(ocspDirect, crlDirect), append(uses(ocspProxy, crlProxy), probe.TrustUse{Depth: 0, Cert: "CN=leaf", Judged: true, Fetch: ocspWinHTTP})
}

// fixtureObservations is what probe.Run returned for eps, direct and through
// px, in its order: by endpoint, then address, then route.
func fixtureObservations(eps []targets.Endpoint, px proxy.Route) []probe.Observation {
	const sys, corp = fixtureSys, fixtureCorp
	direct := proxy.Route{Source: proxy.SourceNone}
	d := fixtureResolutions(eps)
	connect := func(out probe.Outcome, code int, took float64) *probe.ConnectResult {
		return &probe.ConnectResult{Step: step(out, took), Proxy: px.Redacted(), ProxyAddr: "10.0.0.8:3128", StatusCode: code}
	}
	denied := connect(probe.ProxyDenied, 403, 22.7)
	denied.Error = "CONNECT pod01-prot1.we.backup.windowsazure.com:443 via proxy.contoso.local:3128: 403 Forbidden: the proxy's policy denies this host"
	intercepted := fixtureIntercepted()
	recHTTP, captive, ncsiOK := fixtureHTTP()
	tcpOK := func(took float64) *probe.TCPResult { return &probe.TCPResult{Step: step(probe.OK, took)} }

	trustDirect, trustProxied := fixtureTrustPath()
	lead := fixtureDropped(0, d.login, "20.190.160.1")
	lead.Trace = fixtureTrace()
	return []probe.Observation{
		lead,
		fixtureDropped(0, d.login, "40.126.32.1"),
		{Index: 0, Target: probe.Target{Host: eps[0].Host, Resolver: sys}, IP: netip.MustParseAddr("2603:1037:1:200::1"), DNS: d.login, Outcome: probe.SkippedNoIPv6,
			Error: "not tried: this server has no IPv6 route"},
		{Index: 0, Target: probe.Target{Host: eps[0].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("20.190.160.1"), DNS: d.login,
			Proxy: connect(probe.OK, 200, 31.2), TLS: intercepted, Outcome: probe.TLSIntercepted, Error: intercepted.Error, Elapsed: ms(84.0)},
		fixtureDropped(1, d.prot, "20.38.1.2"),
		fixtureDropped(1, d.prot, "20.38.1.3"),
		{Index: 1, Target: probe.Target{Host: eps[1].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("20.38.1.2"), DNS: d.prot,
			Proxy: denied, Outcome: probe.ProxyDenied, Error: denied.Error, Elapsed: ms(31.0)},
		fixtureDropped(2, d.rec, "20.50.2.10"),
		{Index: 2, Target: probe.Target{Host: eps[2].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("20.50.2.10"), DNS: d.rec,
			Proxy: connect(probe.OK, 200, 28.4), TLS: fixtureMicrosoftTLS(eps[2].Host), HTTP: recHTTP, Outcome: probe.OK, Elapsed: ms(138.6), TrustPath: trustProxied},
		{Index: 3, Target: probe.Target{Host: eps[3].Host, Resolver: sys, Route: direct}, IP: netip.MustParseAddr("20.60.145.4"), DNS: d.blobPublic,
			TCP: tcpOK(9.8), TLS: fixtureMicrosoftTLS(eps[3].Host), Outcome: probe.OK, Elapsed: ms(66.3), TrustPath: trustDirect},
		{Index: 3, Target: probe.Target{Host: eps[3].Host, Resolver: corp, Route: direct}, IP: netip.MustParseAddr("10.20.0.5"), DNS: d.blobPrivate,
			TCP: tcpOK(1.1), TLS: fixtureMicrosoftTLS(eps[3].Host), Outcome: probe.OK, Elapsed: ms(27.5)},
		{Index: 4, Target: probe.Target{Host: eps[4].Host, Resolver: sys, Route: direct}, IP: netip.MustParseAddr("23.215.0.136"), DNS: d.connecttest,
			TCP: tcpOK(3.4), HTTP: captive, Outcome: probe.HTTPUnexpected, Error: captive.Error, Elapsed: ms(32.0)},
		{Index: 5, Target: probe.Target{Host: eps[5].Host, Resolver: corp, Route: direct}, DNS: d.ncsiNX, Outcome: probe.DNSNXDomain, Error: d.ncsiNX.Error, Elapsed: ms(4.2)},
		{Index: 5, Target: probe.Target{Host: eps[5].Host, Resolver: sys, Route: px}, IP: netip.MustParseAddr("23.215.0.137"), DNS: d.ncsiSys,
			Proxy: &probe.ConnectResult{Step: step(probe.OK, 2.2), Proxy: px.Redacted(), ProxyAddr: "10.0.0.8:3128"}, HTTP: ncsiOK, Outcome: probe.OK, Elapsed: ms(29.7)},
		{Index: 6, Target: probe.Target{Host: eps[6].Host, Resolver: sys}, DNS: fixtureWildcard(eps[6].Host), Outcome: probe.DNSNXDomain, Elapsed: ms(5)},
		{Index: 7, Target: probe.Target{Host: eps[7].Host, Resolver: sys}, DNS: fixtureWildcard(eps[7].Host), Outcome: probe.DNSNXDomain, Elapsed: ms(5)},
	}
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
	// The certificate authorities' root list and a CRL host, as the catalog has them.
	cat, err := targets.Catalog(targets.CloudPublic, targets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cat {
		if e.Host == "ctldl.windowsupdate.com" || e.Host == "crl3.digicert.com" {
			eps = append(eps, e)
		}
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
		failed(3, probe.DNSError, 0.3, refused),
		failed(4, probe.DNSError, 0.2, refused),
	}, plan.Attribution{TagsInfo: report.ServiceTagsInfo{Note: "no cached feed for the public cloud; fetch one with: egressprobe servicetags update --cloud public (or pass --service-tags FILE)"}})
}
