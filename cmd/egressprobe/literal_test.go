package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"testing"

	"egressprobe/internal/testnet"
	"egressprobe/probe"
	"egressprobe/report"
	"egressprobe/servicetags"
)

// TestCheckIPLiteralsEndToEnd runs the built binary on targets that need no
// DNS — so that it also runs as egressprobe.exe under Wine, which opens no
// UDP socket: a TLS server verified against --ca-file, the same server
// through a CONNECT proxy, and a refused port. The refused port exercises the
// OS's own error for a reset (WSAECONNREFUSED on Windows).
func TestCheckIPLiteralsEndToEnd(t *testing.T) {
	l := newLab(t)
	ok := l.httpsIP(t, "127.0.66.1")
	refused := testnet.TCPClosed(t, "127.0.66.2")
	px := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyOK})

	run := func(args ...string) report.Report {
		t.Helper()
		args = append([]string{"check", "--ca-file", l.caFile, "-o", "json", "--timeout", "5s"}, args...)
		r := runBinary(t, nil, args...)
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v: exit %d, no JSON report: %v\nstderr: %s", args, r.code, err, r.stderr)
		}
		return rep
	}
	direct := run("--proxy", "none", ok.String(), refused.String())
	if len(direct.Results) != 2 {
		t.Fatalf("direct: %d results, want 2", len(direct.Results))
	}
	for i, want := range []probe.Outcome{probe.OK, probe.TCPRefused} {
		if got := direct.Results[i]; got.Status != want || got.Resolver != "none" {
			t.Errorf("direct #%d %s: %s (%s), resolver %q; want %s, resolver none", i, got.Host, got.Status, got.Error, got.Resolver, want)
		}
	}
	tunnel := run("--proxy", px.URL.String(), "--path", "proxy", ok.String())
	if len(tunnel.Results) != 1 {
		t.Fatalf("proxy: %d results, want 1", len(tunnel.Results))
	}
	if got := tunnel.Results[0]; got.Status != probe.OK || got.Path != "proxy" || got.ProxyConnect == nil || got.ProxyConnect.StatusCode != 200 {
		t.Errorf("proxy: %s (%s) path %s connect %+v; want ok through a 200 CONNECT", got.Status, got.Error, got.Path, got.ProxyConnect)
	}
	if reqs := px.Requests(); len(reqs) == 0 {
		t.Error("the proxy saw no CONNECT")
	} else if want := ok.String(); reqs[0].Target != want {
		t.Errorf("the proxy was asked for %q, want %q", reqs[0].Target, want)
	}
}

// TestLookupRealFeedEndToEnd: the built binary (egressprobe.exe under Wine
// too) looks up the first address of AzureBackup's first IPv4 prefix in
// Microsoft's real Public feed and names the tag.
func TestLookupRealFeedEndToEnd(t *testing.T) {
	file := testnet.MicrosoftFeedFile(t, "ServiceTags_Public_20250908.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := servicetags.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(feed.Tags, func(tag servicetags.Tag) bool { return tag.Name == "AzureBackup" })
	if i < 0 {
		t.Fatal("no AzureBackup tag in the feed")
	}
	j := slices.IndexFunc(feed.Tags[i].Prefixes, func(p netip.Prefix) bool { return p.Addr().Is4() })
	if j < 0 {
		t.Fatal("AzureBackup has no IPv4 prefix")
	}
	ip := feed.Tags[i].Prefixes[j].Addr().String()
	r := runBinary(t, nil, "servicetags", "lookup", "--service-tags", file, "-o", "json", ip)
	var got []struct {
		IP      string
		Matches []struct{ Tag string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("lookup %s: exit %d, %v\nstderr: %s", ip, r.code, err, r.stderr)
	}
	if len(got) != 1 || !slices.ContainsFunc(got[0].Matches, func(m struct{ Tag string }) bool { return m.Tag == "AzureBackup" }) {
		t.Errorf("lookup %s: %+v, want a match on AzureBackup", ip, got)
	}
}
