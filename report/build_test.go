package report

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/targets"
	"net/url"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// feed is a tiny hand-made attribution table standing in for a service-tag index.
func feed(a netip.Addr) []TagMatch {
	table := []TagMatch{
		{Tag: "AzureBackup.WestEurope", Region: "westeurope", SystemService: "AzureBackup", Prefix: "20.38.1.0/24"},
		{Tag: "AzureBackup", SystemService: "AzureBackup", Prefix: "20.38.0.0/16"},
		{Tag: "AzureActiveDirectory", SystemService: "AzureAD", Prefix: "40.126.0.0/18"},
		{Tag: "Storage", SystemService: "AzureStorage", Prefix: "52.239.0.0/16"},
	}
	var out []TagMatch
	for _, m := range table {
		if netip.MustParsePrefix(m.Prefix).Contains(a) {
			out = append(out, m)
		}
	}
	return out
}

func ep(host, family string, tags ...string) targets.Endpoint {
	return targets.Endpoint{Host: host, Port: 443, Scheme: targets.SchemeHTTPS, Family: family, ExpectedTags: tags}
}

func dnsOK(host, server string, addrs ...string) *probe.DNSResult {
	d := &probe.DNSResult{Host: host, Server: server}
	d.Outcome = probe.OK
	for _, a := range addrs {
		d.Addrs = append(d.Addrs, netip.MustParseAddr(a))
	}
	return d
}

func obs(i int, d *probe.DNSResult, ip string, out probe.Outcome) probe.Observation {
	o := probe.Observation{Index: i, DNS: d, Outcome: out, Target: probe.Target{Host: d.Host, Resolver: d.Server}}
	if ip != "" {
		o.IP = netip.MustParseAddr(ip)
	}
	if out == probe.OK || strings.HasPrefix(string(out), "tls") {
		o.TCP = &probe.TCPResult{}
		o.TCP.Outcome = probe.OK
	}
	if out != probe.OK {
		o.Error = "error for " + string(out)
	}
	return o
}

func hasWarning(r Result, code string) bool { return hasCode(r.Warnings, code) }

func TestBuildVerdicts(t *testing.T) {
	const res = "127.0.0.1:53"
	login := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")
	pod := ep("pod01-prot1.we.backup.windowsazure.com", "*.windowsazure.com", "AzureBackup.WestEurope")
	blob := ep("acct.blob.core.windows.net", "*.blob.core.windows.net", "Storage")

	privlink := dnsOK(blob.Host, res, "52.240.1.1")
	privlink.CNAMEs = []probe.CNAME{{Name: blob.Host, Target: "acct.privatelink.blob.core.windows.net"}}
	privlink.PrivateLink = true

	tests := []struct {
		name  string
		ep    targets.Endpoint
		o     probe.Observation
		check func(t *testing.T, r Result)
	}{
		{"in expected tag", login, obs(0, dnsOK(login.Host, res, "40.126.1.1"), "40.126.1.1", probe.OK), func(t *testing.T, r Result) {
			if r.ExpectedTagsOK == nil || !*r.ExpectedTagsOK || len(r.Warnings) != 0 {
				t.Errorf("expected_tags_ok=%v warnings=%v, want true and none", r.ExpectedTagsOK, r.Warnings)
			}
			if len(r.ServiceTags) != 1 || r.ServiceTags[0].Tag != "AzureActiveDirectory" {
				t.Errorf("service_tags = %v", r.ServiceTags)
			}
		}},
		{"regional expectation, only global tag", pod, obs(0, dnsOK(pod.Host, res, "20.38.9.9"), "20.38.9.9", probe.OK), func(t *testing.T, r Result) {
			if r.ExpectedTagsOK == nil || *r.ExpectedTagsOK || !hasWarning(r, "tag_mismatch") {
				t.Errorf("expected_tags_ok=%v warnings=%v, want false with tag_mismatch", r.ExpectedTagsOK, r.Warnings)
			}
		}},
		{"regional expectation met", pod, obs(0, dnsOK(pod.Host, res, "20.38.1.9"), "20.38.1.9", probe.OK), func(t *testing.T, r Result) {
			if r.ExpectedTagsOK == nil || !*r.ExpectedTagsOK {
				t.Errorf("expected_tags_ok=%v, want true", r.ExpectedTagsOK)
			}
		}},
		{"private endpoint answer", blob, obs(0, dnsOK(blob.Host, res, "10.1.2.3"), "10.1.2.3", probe.OK), func(t *testing.T, r Result) {
			if !r.DNS.Private || !hasWarning(r, "private_endpoint") || r.ExpectedTagsOK != nil {
				t.Errorf("private=%v warnings=%v expected_tags_ok=%v", r.DNS.Private, r.Warnings, r.ExpectedTagsOK)
			}
		}},
		{"privatelink CNAME to public address", blob, obs(0, privlink, "52.240.1.1", probe.OK), func(t *testing.T, r Result) {
			if !hasWarning(r, "privatelink_public") || r.DNS.Private {
				t.Errorf("warnings=%v private=%v", r.Warnings, r.DNS.Private)
			}
			if !slices.Equal(r.DNS.CNAMEs, []string{"acct.privatelink.blob.core.windows.net"}) {
				t.Errorf("cnames = %v", r.DNS.CNAMEs)
			}
		}},
		{"nxdomain has no ip", login, func() probe.Observation {
			d := &probe.DNSResult{Host: login.Host, Server: res}
			d.Outcome = probe.DNSNXDomain
			return obs(0, d, "", probe.DNSNXDomain)
		}(), func(t *testing.T, r Result) {
			if r.IP != nil || r.Status != "dns_nxdomain" || r.TCP != nil || r.TLS != nil || r.ExpectedTagsOK != nil {
				t.Errorf("ip=%v status=%s tcp=%v tls=%v", r.IP, r.Status, r.TCP, r.TLS)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Build(Input{Started: t0, Finished: t0, Endpoints: []targets.Endpoint{tt.ep}, Observations: []probe.Observation{tt.o}, Tags: feed})
			if len(rep.Results) != 1 {
				t.Fatalf("%d results, want 1", len(rep.Results))
			}
			tt.check(t, rep.Results[0])
		})
	}
}

func TestBuildWithoutFeedJudgesNothing(t *testing.T) {
	e := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")
	rep := Build(Input{Endpoints: []targets.Endpoint{e}, Observations: []probe.Observation{obs(0, dnsOK(e.Host, "127.0.0.1:53", "8.8.8.8"), "8.8.8.8", probe.OK)},
		TagsInfo: ServiceTagsInfo{Note: "run 'egressprobe servicetags update'"}})
	r := rep.Results[0]
	if rep.ServiceTags.Loaded || r.ExpectedTagsOK != nil || r.ServiceTags == nil || len(r.ServiceTags) != 0 || len(r.Warnings) != 0 {
		t.Errorf("loaded=%v expected_tags_ok=%v tags=%v warnings=%v", rep.ServiceTags.Loaded, r.ExpectedTagsOK, r.ServiceTags, r.Warnings)
	}
}

func TestNCSIDNSExpectation(t *testing.T) {
	e := targets.Endpoint{Host: "dns.msftncsi.com", Scheme: targets.SchemeDNS, Family: "dns.msftncsi.com", JudgeByName: true,
		ExpectAddrs: []netip.Addr{netip.MustParseAddr("131.107.255.255"), netip.MustParseAddr("fd3e:4f5a:5b81::1")}}
	for _, tc := range []struct {
		addr, want string
	}{{"131.107.255.255", "ok"}, {"fd3e:4f5a:5b81::1", "ok"}, {"10.0.0.1", "dns_unexpected"}} {
		o := probe.Observation{DNS: dnsOK(e.Host, "127.0.0.1:53", tc.addr), Outcome: probe.OK, IP: netip.MustParseAddr(tc.addr)}
		rep := Build(Input{Endpoints: []targets.Endpoint{e}, Observations: []probe.Observation{o}})
		if got := string(rep.Results[0].Status); got != tc.want {
			t.Errorf("%s: status %s, want %s (%s)", tc.addr, got, tc.want, rep.Results[0].Error)
		}
	}
}

func TestResolverDisagreement(t *testing.T) {
	e := ep("acct.blob.core.windows.net", "*.blob.core.windows.net", "Storage")
	a, b := dnsOK(e.Host, "127.0.0.1:53", "52.239.1.1"), dnsOK(e.Host, "127.0.0.2:53", "10.9.9.9")
	rep := Build(Input{Endpoints: []targets.Endpoint{e, e}, Observations: []probe.Observation{obs(0, a, "52.239.1.1", probe.OK), obs(1, b, "10.9.9.9", probe.OK)}, Tags: feed})
	for _, r := range rep.Results {
		if !hasWarning(r, "resolver_disagreement") {
			t.Errorf("%s via %s: no resolver_disagreement warning: %v", r.Host, r.Resolver, r.Warnings)
		}
	}
	same := Build(Input{Endpoints: []targets.Endpoint{e, e}, Observations: []probe.Observation{obs(0, a, "52.239.1.1", probe.OK), obs(1, dnsOK(e.Host, "127.0.0.2:53", "52.239.1.1"), "52.239.1.1", probe.OK)}, Tags: feed})
	if hasWarning(same.Results[0], "resolver_disagreement") {
		t.Errorf("agreeing resolvers flagged: %v", same.Results[0].Warnings)
	}
}

func TestWhatToOpen(t *testing.T) {
	u, _ := url.Parse("http://proxy.corp:3128")
	viaProxy := proxy.Route{Proxy: u, Source: proxy.Source("flag")}
	pod := ep("pod01-prot1.we.backup.windowsazure.com", "*.windowsazure.com", "AzureBackup")
	login := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")

	dropped1 := obs(0, dnsOK(pod.Host, "127.0.0.1:53", "20.38.1.1", "20.38.1.2"), "20.38.1.1", probe.TCPTimeout)
	dropped2 := obs(0, dropped1.DNS, "20.38.1.2", probe.TCPTimeout)
	loginDirect := obs(1, dnsOK(login.Host, "127.0.0.1:53", "40.126.1.1"), "40.126.1.1", probe.TCPTimeout)
	loginProxy := obs(2, loginDirect.DNS, "40.126.1.1", probe.OK)
	loginProxy.Target.Route = viaProxy
	denied := obs(3, dnsOK(pod.Host, "127.0.0.1:53", "20.38.1.1"), "20.38.1.1", probe.ProxyDenied)
	denied.Target.Route = viaProxy

	rep := Build(Input{Endpoints: []targets.Endpoint{pod, login, login, pod}, Observations: []probe.Observation{dropped1, dropped2, loginDirect, loginProxy, denied}, Tags: feed})

	var fw, px *Action
	for i := range rep.Open {
		switch rep.Open[i].Hop {
		case "firewall":
			fw = &rep.Open[i]
		case "proxy":
			px = &rep.Open[i]
		}
	}
	if fw == nil || !slices.Equal(fw.IPs, []string{"20.38.1.1", "20.38.1.2"}) || !slices.Equal(fw.Hosts, []string{pod.Host}) || !slices.Equal(fw.Tags, []string{"AzureBackup"}) {
		t.Fatalf("firewall action = %+v, want the pod's two IPs only (login works through the proxy)", fw)
	}
	if !strings.Contains(fw.Change, "TCP 443") || !strings.Contains(fw.Change, "silently dropped") {
		t.Errorf("firewall change = %q", fw.Change)
	}
	if px == nil || !strings.Contains(px.Change, "allow CONNECT") || !strings.Contains(px.Change, "proxy.corp:3128") {
		t.Errorf("proxy action = %+v", px)
	}
	if len(rep.Open) != 2 {
		t.Errorf("%d actions, want 2: %+v", len(rep.Open), rep.Open)
	}
	fams := rep.Summary.Families
	if len(fams) != 2 || fams[0].Family != "*.windowsazure.com" || fams[0].Failed != 3 || fams[1].OK != 1 || !slices.Equal(fams[1].Works, []string{"proxy"}) {
		t.Errorf("families = %+v", fams)
	}
	if rep.Summary.Total != 5 || rep.Summary.OK != 1 || rep.Summary.Failed != 4 || rep.Summary.ByStatus["tcp_timeout"] != 3 {
		t.Errorf("summary = %+v", rep.Summary)
	}
}

func TestClockSkewIsTheMedian(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	mk := func(host string, skew time.Duration) probe.Observation {
		h := &probe.HTTPResult{Date: now.Add(skew)}
		h.Outcome, h.Start = probe.OK, now
		return probe.Observation{Target: probe.Target{Host: host}, HTTP: h}
	}
	for _, tc := range []struct {
		skews  []time.Duration
		want   float64
		skewed bool
	}{
		{[]time.Duration{0, time.Second, -time.Second}, 0, false},
		{[]time.Duration{10 * time.Minute, 10 * time.Minute, 0}, 600, true},
		{[]time.Duration{-7 * time.Minute, -7 * time.Minute, time.Hour}, -420, true},
	} {
		var obsv []probe.Observation
		for i, s := range tc.skews {
			obsv = append(obsv, mk(string(rune('a'+i)), s))
		}
		c := clockSkew(obsv)
		if c == nil || c.SkewSeconds != tc.want || c.Skewed != tc.skewed {
			t.Errorf("skews %v: clock = %+v, want %v s skewed=%v", tc.skews, c, tc.want, tc.skewed)
		}
	}
	if clockSkew(nil) != nil {
		t.Error("no Date headers should give no clock verdict")
	}
}

func TestWildcardVerdicts(t *testing.T) {
	const res = "127.0.0.1:53"
	fam := "*.windows.net"
	member := ep("login.windows.net", fam, "AzureActiveDirectory")
	probeEP := targets.Endpoint{Host: "egressprobe-wildcard-00.windows.net", Family: fam, Role: RoleWildcardCheck}
	nx := func(host string) *probe.DNSResult {
		d := &probe.DNSResult{Host: host, Server: res}
		d.Outcome = probe.DNSNXDomain
		return d
	}
	wild := func(d *probe.DNSResult) probe.Observation {
		return probe.Observation{Index: 1, DNS: d, Outcome: d.Outcome, Target: probe.Target{Host: d.Host, Resolver: res}}
	}
	for _, tc := range []struct {
		name       string
		memberDNS  *probe.DNSResult
		wildDNS    *probe.DNSResult
		wantStatus string
		wantAny    bool
	}{
		{"zone answers anything", dnsOK(member.Host, res, "40.126.1.1"), dnsOK(probeEP.Host, res, "40.126.1.1"), "ok", true},
		{"zone answers only members", dnsOK(member.Host, res, "40.126.1.1"), nx(probeEP.Host), "dns_nxdomain", false},
		{"resolver knows nothing", nx(member.Host), nx(probeEP.Host), "unknown", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := obs(0, tc.memberDNS, "", tc.memberDNS.Outcome)
			rep := Build(Input{Endpoints: []targets.Endpoint{member, probeEP}, Observations: []probe.Observation{m, wild(tc.wildDNS)}})
			if len(rep.Results) != 1 || len(rep.Wildcards) != 1 {
				t.Fatalf("%d results, %d wildcards; want the probe name kept out of the results", len(rep.Results), len(rep.Wildcards))
			}
			w := rep.Wildcards[0]
			if string(w.Status) != tc.wantStatus || w.AnswersAny != tc.wantAny || w.Explanation == "" {
				t.Errorf("wildcard = %+v, want status %s answers_any %v", w, tc.wantStatus, tc.wantAny)
			}
		})
	}
}

func TestStaleFeedNote(t *testing.T) {
	e := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		info ServiceTagsInfo
		want []string // "" : no note
	}{
		{"cache, fresh download, no date", ServiceTagsInfo{Updated: t0}, nil},
		{"cache, 13 days", ServiceTagsInfo{Updated: t0.Add(-13 * day)}, nil},
		{"cache, 30 days, no date", ServiceTagsInfo{Updated: t0.Add(-30 * day)}, []string{"downloaded 30 days ago", "judged by the download", "servicetags update --cloud public"}},
		// The feed's own date wins over a fresh download: the case.
		{"cache, downloaded today, published long ago", ServiceTagsInfo{Updated: t0, Published: t0.Add(-40 * day)},
			[]string{"40 days old", "published 2026-10-17", "file name", "servicetags update --cloud public"}},
		{"cache, downloaded long ago, published recently", ServiceTagsInfo{Updated: t0.Add(-40 * day), Published: t0.Add(-3 * day)}, nil},
		{"file, dated, old", ServiceTagsInfo{Published: t0.Add(-20 * day)}, []string{"20 days old", "download this week's file, or drop --service-tags"}},
		{"file, dated, recent", ServiceTagsInfo{Published: t0.Add(-2 * day)}, nil},
		{"file, undated", ServiceTagsInfo{}, []string{"no publication date", "not judged"}},
	} {
		rep := Build(Input{Cloud: "public", Finished: t0, Endpoints: []targets.Endpoint{e},
			Observations: []probe.Observation{obs(0, dnsOK(e.Host, "127.0.0.1:53", "40.126.1.1"), "40.126.1.1", probe.OK)},
			Tags:         feed, TagsInfo: tc.info})
		note := rep.ServiceTags.Note
		if tc.want == nil && note != "" {
			t.Errorf("%s: note %q, want none", tc.name, note)
		}
		for _, w := range tc.want {
			if !strings.Contains(note, w) {
				t.Errorf("%s: note %q does not say %q", tc.name, note, w)
			}
		}
	}
}

// A failure on a host only Microsoft's scripts use says so in its advice, and
// the result carries the evidence; documented hosts get the plain advice.
func TestObservedHostAdvice(t *testing.T) {
	manag := ep("pod01-manag1.we.backup.windowsazure.com", "*.windowsazure.com", "AzureBackup.WestEurope")
	manag.Evidence = targets.EvidenceObserved
	login := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")
	login.Evidence = targets.EvidenceDocumented
	nx := func(i int, host string) probe.Observation {
		d := &probe.DNSResult{Host: host, Server: "127.0.0.1:53"}
		d.Outcome = probe.DNSNXDomain
		return obs(i, d, "", probe.DNSNXDomain)
	}
	rep := Build(Input{Endpoints: []targets.Endpoint{manag, login}, Observations: []probe.Observation{nx(0, manag.Host), nx(1, login.Host)}})
	if rep.Results[0].Evidence != "observed" || rep.Results[1].Evidence != "documented" {
		t.Errorf("evidence: %q, %q", rep.Results[0].Evidence, rep.Results[1].Evidence)
	}
	if len(rep.Open) != 2 {
		t.Fatalf("actions = %+v, want one for each evidence", rep.Open)
	}
	for _, a := range rep.Open {
		observed := strings.Contains(a.Change, "observed in Microsoft's support scripts")
		if want := slices.Equal(a.Hosts, []string{manag.Host}); observed != want || !strings.Contains(a.Change, "NXDOMAIN") {
			t.Errorf("action for %v: %q", a.Hosts, a.Change)
		}
	}
}

// TestWhatToOpenSuppressesOnlyTheSameEndpoint: a failure leaves what_to_open
// only when the same host, port and address worked on another path; another
// address, port or resolver of the host that worked does not excuse it.
func TestWhatToOpenSuppressesOnlyTheSameEndpoint(t *testing.T) {
	pod := ep("pod01-prot1.we.backup.windowsazure.com", "*.windowsazure.com", "AzureBackup")
	alt := pod
	alt.Port = 8443
	two := dnsOK(pod.Host, "127.0.0.1:53", "20.38.1.1", "20.38.1.2")
	other := dnsOK(pod.Host, "127.0.0.2:53", "20.38.1.3")
	observations := []probe.Observation{
		obs(0, two, "20.38.1.1", probe.OK),
		obs(0, two, "20.38.1.2", probe.TCPTimeout),                                          // another address of the host worked
		obs(1, dnsOK(pod.Host, "127.0.0.1:53", "20.38.1.1"), "20.38.1.1", probe.TCPRefused), // another port worked
		obs(2, other, "20.38.1.3", probe.TCPTimeout),                                        // another resolver's answer worked
	}
	rep := Build(Input{Endpoints: []targets.Endpoint{pod, alt, pod}, Observations: observations})
	var ips []string
	for _, a := range rep.Open {
		if a.Hop == "firewall" {
			ips = append(ips, a.IPs...)
		}
	}
	slices.Sort(ips)
	if want := []string{"20.38.1.1", "20.38.1.2", "20.38.1.3"}; !slices.Equal(ips, want) {
		t.Errorf("firewall actions name %v, want %v (one per failing endpoint): %+v", ips, want, rep.Open)
	}
}

// TestWhatToOpenLocalResources: a host out of ports or file descriptors is
// told so as this host's change, never as a firewall rule.
func TestWhatToOpenLocalResources(t *testing.T) {
	login := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")
	o := obs(0, dnsOK(login.Host, "127.0.0.1:53", "40.126.1.1"), "40.126.1.1", probe.LocalResources)
	rep := Build(Input{Endpoints: []targets.Endpoint{login}, Observations: []probe.Observation{o}})
	if len(rep.Open) != 1 || rep.Open[0].Hop != "host" || len(rep.Open[0].IPs) != 0 || !strings.Contains(rep.Open[0].Change, "ran out of local ports") {
		t.Errorf("what_to_open = %+v, want one change for this host, no firewall line", rep.Open)
	}
}

// TestFamilyDoesNotWorkByItsDNSOnlyMember: dns.msftncsi.com resolving says
// nothing of a path; its family works only when an HTTP member does.
func TestFamilyDoesNotWorkByItsDNSOnlyMember(t *testing.T) {
	fam := "www.msftncsi.com"
	dnsEP := targets.Endpoint{Host: "dns.msftncsi.com", Scheme: targets.SchemeDNS, Family: fam, JudgeByName: true,
		ExpectAddrs: []netip.Addr{netip.MustParseAddr("131.107.255.255")}}
	httpEP := targets.Endpoint{Host: "www.msftncsi.com", Port: 80, Scheme: targets.SchemeHTTP, Family: fam, JudgeByName: true}
	dnsObs := probe.Observation{Index: 0, DNS: dnsOK(dnsEP.Host, "127.0.0.1:53", "131.107.255.255"), Outcome: probe.OK, IP: netip.MustParseAddr("131.107.255.255")}
	httpObs := obs(1, dnsOK(httpEP.Host, "127.0.0.1:53", "192.0.2.80"), "192.0.2.80", probe.TCPTimeout)
	rep := Build(Input{Endpoints: []targets.Endpoint{dnsEP, httpEP}, Observations: []probe.Observation{dnsObs, httpObs}})
	if len(rep.Summary.Families) != 1 || len(rep.Summary.Families[0].Works) != 0 || rep.Summary.Families[0].OK != 1 {
		t.Errorf("family summary %+v, want 1 ok and working on no path", rep.Summary.Families)
	}
}

// TestWhatToOpenDNSNamesTheResolverPort: the DNS advice names the port the
// resolver was asked on, and quotes no error text of Go's.
func TestWhatToOpenDNSNamesTheResolverPort(t *testing.T) {
	for _, tc := range []struct {
		out  probe.Outcome
		want string
	}{{probe.DNSTimeout, "allow UDP and TCP 5353"}, {probe.DNSError, "allow UDP and TCP 5353"}} {
		e := ep("a.test", "custom")
		d := &probe.DNSResult{Host: e.Host, Server: "[::1]:5353"}
		d.Outcome = tc.out
		o := probe.Observation{Index: 0, DNS: d, Outcome: tc.out, Target: probe.Target{Host: e.Host, Resolver: d.Server},
			Error: "resolver [::1]:5353 unreachable: ...: write udp [::1]:40000->[::1]:5353: write: connection refused"}
		rep := Build(Input{Endpoints: []targets.Endpoint{e}, Observations: []probe.Observation{o}})
		if len(rep.Open) != 1 || !strings.Contains(rep.Open[0].Change, tc.want) || strings.Contains(rep.Open[0].Change, "write udp") {
			t.Errorf("%s: what_to_open %+v, want %q and no Go error text", tc.out, rep.Open, tc.want)
		}
	}
}

// A vault's private-endpoint name (--vault) is judged by its DNS answer: none
// is expected unless --private-endpoint says the vault has one; then none, or
// a public one, is a DNS failure whose fix names the private zone.
func TestPrivateLinkVerdicts(t *testing.T) {
	const host = "42-ab-pod01-fc1.privatelink.we.backup.windowsazure.com"
	nx := &probe.DNSResult{Host: host, Server: "127.0.0.1:53"}
	nx.Outcome = probe.DNSNXDomain
	private := dnsOK(host, "127.0.0.1:53", "10.12.0.15")
	public := dnsOK(host, "127.0.0.1:53", "20.38.1.1")
	tests := []struct {
		name, mode string
		obs        probe.Observation
		status     probe.Outcome
		warning    string
		failed     int
		info       int
		fix        bool
	}{
		{"none, optional", targets.PrivateLinkOptional, obs(0, nx, "", probe.DNSNXDomain), "privatelink_absent", "", 0, 1, false},
		{"none, required", targets.PrivateLinkRequired, obs(0, nx, "", probe.DNSNXDomain), "dns_nxdomain", "", 1, 0, true},
		{"private, optional", targets.PrivateLinkOptional, obs(0, private, "10.12.0.15", probe.OK), "ok", "private_endpoint", 0, 0, false},
		{"private, required", targets.PrivateLinkRequired, obs(0, private, "10.12.0.15", probe.OK), "ok", "private_endpoint", 0, 0, false},
		{"public, optional", targets.PrivateLinkOptional, obs(0, public, "20.38.1.1", probe.OK), "ok", "privatelink_public", 0, 0, true},
		{"public, required", targets.PrivateLinkRequired, obs(0, public, "20.38.1.1", probe.OK), "dns_unexpected", "", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := targets.Endpoint{Host: host, Scheme: targets.SchemeDNS, Family: "*.windowsazure.com", PrivateLink: tt.mode,
				ExpectedTags: []string{"AzureBackup.WestEurope"}}
			rep := Build(Input{Endpoints: []targets.Endpoint{e}, Observations: []probe.Observation{tt.obs}, Tags: feed})
			res := rep.Results[0]
			if res.Status != tt.status || res.PrivateLink != tt.mode {
				t.Errorf("status %q private_link %q, want %q %q (%s)", res.Status, res.PrivateLink, tt.status, tt.mode, res.Error)
			}
			if got := len(res.Warnings) > 0; tt.warning != "" && !hasWarning(res, tt.warning) || tt.warning == "" && got {
				t.Errorf("warnings %+v, want %q", res.Warnings, tt.warning)
			}
			if rep.Summary.Failed != tt.failed || rep.Summary.Info != tt.info || rep.Summary.Families[0].Info != tt.info {
				t.Errorf("summary %+v", rep.Summary)
			}
			fix := slices.ContainsFunc(rep.Open, func(a Action) bool {
				return a.Hop == "dns" && strings.Contains(a.Change, "168.63.129.16") && strings.Contains(a.Change, "privatelink")
			})
			if fix != tt.fix || len(rep.Open) > 1 {
				t.Errorf("what to open %+v, want the private-zone fix: %v", rep.Open, tt.fix)
			}
		})
	}
}

// An expected privatelink_absent is no failure: alone it gives no verdict,
// and beside failures that share a step it does not break their verdict.
func TestSummaryVerdictIgnoresPrivateLinkAbsent(t *testing.T) {
	absent := Result{Status: probe.PrivateLinkAbsent}
	timeout := Result{Status: probe.DNSTimeout}
	if v := SummaryVerdict([]Result{absent, absent}); v != "" {
		t.Errorf("only absent names: verdict %q", v)
	}
	if v := SummaryVerdict([]Result{absent, timeout, timeout}); !strings.Contains(v, "dns_timeout") {
		t.Errorf("absent beside timeouts: verdict %q", v)
	}
}

// TestBlockedAndLoopbackAdvice: a DNS filter's 0.0.0.0 is DNS advice (the
// hosts file's is this host's), never a firewall line; a loopback answer for
// a name other than localhost is a warning whose advice is DNS, not a
// firewall rule or a service-tag mismatch; a hosts-file entry beside
// --resolver is a warning.
func TestBlockedAndLoopbackAdvice(t *testing.T) {
	const res = "10.0.0.53:53"
	login := ep("login.microsoftonline.com", "*.microsoftonline.com", "AzureActiveDirectory")
	local := ep("localhost", "custom")
	blocked := func(i int, resolver string) probe.Observation {
		d := dnsOK(login.Host, resolver, "0.0.0.0")
		d.Outcome = probe.DNSBlocked
		return obs(i, d, "", probe.DNSBlocked)
	}
	loop := obs(2, dnsOK(login.Host, res, "127.0.0.1"), "127.0.0.1", probe.TCPRefused)
	loopLocal := obs(3, dnsOK(local.Host, res, "127.0.0.1"), "127.0.0.1", probe.TCPRefused)
	pinned := obs(4, dnsOK(login.Host, res, "40.126.1.1"), "40.126.1.1", probe.OK)
	pinned.Target.HostsAddrs = []netip.Addr{netip.MustParseAddr("10.9.9.9")}
	rep := Build(Input{
		Endpoints:    []targets.Endpoint{login, login, login, local, login},
		Observations: []probe.Observation{blocked(0, res), blocked(1, probe.HostsResolver), loop, loopLocal, pinned},
		Tags:         feed,
	})
	byHop := map[string][]Action{}
	for _, a := range rep.Open {
		byHop[a.Hop] = append(byHop[a.Hop], a)
	}
	if fw := byHop["firewall"]; len(fw) != 1 || !slices.Equal(fw[0].Hosts, []string{"localhost"}) {
		t.Errorf("firewall actions %+v, want only localhost's refusal (0.0.0.0 and a redirected name are no firewall matter)", fw)
	}
	for _, a := range rep.Open {
		if slices.Contains(a.IPs, "0.0.0.0") || slices.Contains(a.IPs, "127.0.0.1") && a.Hop != "firewall" {
			t.Errorf("action %+v lists an address that is not the service's", a)
		}
	}
	dnsHop := strings.Join(func() (s []string) {
		for _, a := range byHop["dns"] {
			s = append(s, a.Change)
		}
		return s
	}(), "\n")
	if !strings.Contains(dnsHop, "blocks these names") || !strings.Contains(dnsHop, "loopback address") {
		t.Errorf("DNS actions %q, want the filter's block and the loopback redirect", dnsHop)
	}
	if h := byHop["host"]; len(h) != 1 || !strings.Contains(h[0].Change, "hosts file") {
		t.Errorf("host actions %+v, want the hosts file's block entry", h)
	}
	r := rep.Results
	if r[0].IP != nil || r[0].Status != "dns_blocked" {
		t.Errorf("blocked result: ip %v status %s", r[0].IP, r[0].Status)
	}
	if !hasWarning(r[2], "loopback_answer") || hasWarning(r[3], "loopback_answer") {
		t.Errorf("loopback warnings: %v / localhost %v", r[2].Warnings, r[3].Warnings)
	}
	if !hasWarning(r[4], "hosts_override") || !strings.Contains(r[4].Warnings[0].Message, "10.9.9.9") {
		t.Errorf("hosts-file entry beside --resolver: %v", r[4].Warnings)
	}
}

// TestAdviceNamesTheHopTheAnswerCameThrough: an unexpected page on the direct
// path is not the proxy's, and a proxy's refusal of a plain-HTTP GET does not
// ask to allow CONNECT.
func TestAdviceNamesTheHopTheAnswerCameThrough(t *testing.T) {
	px := "http://proxy.corp:3128"
	for _, tc := range []struct {
		res      Result
		hop, has string
	}{
		{Result{Path: "direct", Scheme: "http", Port: 80, Status: probe.HTTPUnexpected}, HopFirewall, "on the direct path"},
		{Result{Path: "proxy", Proxy: &px, Scheme: "http", Port: 80, Status: probe.HTTPUnexpected}, HopProxy, px},
		{Result{Path: "proxy", Proxy: &px, Scheme: "http", Port: 80, Status: probe.ProxyDenied}, HopProxy, "plain-HTTP requests"},
		{Result{Path: "proxy", Proxy: &px, Scheme: "https", Port: 443, Status: probe.ProxyDenied}, HopProxy, "allow CONNECT"},
	} {
		hop, change := fixFor(&tc.res)
		if hop != tc.hop || !strings.Contains(change, tc.has) {
			t.Errorf("%s %s via %s: %s %q; want %s containing %q", tc.res.Status, tc.res.Scheme, tc.res.Path, hop, change, tc.hop, tc.has)
		}
	}
}
