package main

import (
	"slices"
	"testing"

	"egressprobe/internal/testnet"
	"egressprobe/report"
)

// TestCheckChinaCatalog runs the built-in china catalog against a lab where
// the test resolver answers every catalog name with loopback addresses that a
// hand-made China service-tag file attributes, and NCSI answers as Microsoft's
// servers do. Ports 80 and 443 are the catalog's, so this needs root (not on
// Windows, where any user may listen on them). One end-to-end run, checked
// for every family of the catalog: hence the length.
func TestCheckChinaCatalog(t *testing.T) {
	listen := catalogListen(t)
	l := newLab(t)
	signin := []string{"login.partner.microsoftonline.cn", "login.chinacloudapi.cn", "download.microsoft.com"}
	storage := []string{"labacct.blob.core.chinacloudapi.cn", "labacct.queue.core.chinacloudapi.cn"}
	cert := l.ca.Leaf(t, signin, nil, testnet.LeafOptions{})
	testnet.ServeHTTPOn(t, listen("127.0.92.1:443"), testnet.NCSI("ok"), &cert)
	scert := l.ca.Leaf(t, storage, nil, testnet.LeafOptions{})
	testnet.ServeHTTPOn(t, listen("127.0.92.3:443"), testnet.NCSI("ok"), &scert)
	l.serveNCSI(t, listen, "127.0.92.8")
	l.serveAuthorities(t, listen, "127.0.92.9", "china")

	for _, h := range signin {
		l.zone[h] = testnet.DNSName{A: a("127.0.92.1")}
	}
	// The blob account is a private-endpoint-style chain ending in the
	// Storage address; the queue one lands outside every Storage prefix.
	l.zone[storage[0]] = testnet.DNSName{CNAME: "blob.chn.store.lab.test"}
	l.zone["blob.chn.store.lab.test"] = testnet.DNSName{A: a("127.0.92.3")}
	l.zone[storage[1]] = testnet.DNSName{A: a("127.0.92.3")}
	resolver := l.start(t)

	r := runBinary(t, nil, "check", "--cloud", "china", "--storage-account", "labacct", "--resolver", resolver,
		"--ca-file", l.caFile, "--proxy", "none", "--timeout", "5s", "--service-tags", "../../testdata/check/ServiceTags_China_lab.json", "-o", "json")
	rep := decodeReport(t, r.stdout)
	if r.code != 0 {
		t.Errorf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	if !rep.ServiceTags.Loaded || rep.ServiceTags.Cloud != "China" || rep.ServiceTags.ChangeNumber != 7 {
		t.Errorf("service_tags = %+v", rep.ServiceTags)
	}
	seen := map[string]report.Result{}
	for _, res := range rep.Results {
		seen[res.Host] = res
		if res.Status != "ok" {
			t.Errorf("%s %v: %s %s", res.Host, res.IP, res.Status, res.Error)
		}
	}
	for _, h := range append(append(signin, storage...), "www.msftconnecttest.com", "ipv6.msftconnecttest.com", "www.msftncsi.com", "ipv6.msftncsi.com", "dns.msftncsi.com") {
		if _, ok := seen[h]; !ok {
			t.Errorf("no result for catalog host %s", h)
		}
	}
	login := seen["login.chinacloudapi.cn"]
	if login.ExpectedTagsOK == nil || !*login.ExpectedTagsOK || !slices.ContainsFunc(login.ServiceTags, func(m report.TagMatch) bool { return m.Tag == "AzureActiveDirectory" }) {
		t.Errorf("login.chinacloudapi.cn: expected_tags_ok %v, tags %+v", login.ExpectedTagsOK, login.ServiceTags)
	}
	blob := seen[storage[0]]
	if !slices.Equal(blob.DNS.CNAMEs, []string{"blob.chn.store.lab.test"}) || blob.ExpectedTagsOK == nil || !*blob.ExpectedTagsOK {
		t.Errorf("blob: cnames %v expected_tags_ok %v", blob.DNS.CNAMEs, blob.ExpectedTagsOK)
	}
	if ncsi := seen["www.msftconnecttest.com"]; ncsi.HTTP == nil || !ncsi.HTTP.BodyMatch || ncsi.Port != 80 || ncsi.ExpectedTagsOK != nil {
		t.Errorf("NCSI result: %+v", ncsi)
	}
	if len(rep.Wildcards) == 0 {
		t.Error("no wildcard-DNS verdicts in a catalog run")
	}
	for _, w := range rep.Wildcards {
		if w.AnswersAny {
			t.Errorf("%s: the lab zone has no wildcard, got answers_any", w.Family)
		}
	}
}
