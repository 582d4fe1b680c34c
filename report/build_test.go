package report

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/probe"
	"egressprobe/targets"
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
		var obsv []*probe.Observation
		for i, s := range tc.skews {
			o := mk(string(rune('a'+i)), s)
			obsv = append(obsv, &o)
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
