package main

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/report"
	"egressprobe/servicetags"
)

// chinaLabFeed is a hand-made China feed whose AzureActiveDirectory prefix is
// 127.0.92.1/32.
var chinaLabFeed = filepath.Join("..", "..", "testdata", "check", "ServiceTags_China_lab.json")

// chinaSignIn serves login.chinacloudapi.cn on 127.0.92.1 (the lab feed's
// AzureActiveDirectory address) and returns the command-line target and the
// resolver.
func chinaSignIn(t *testing.T, l *lab) (target, resolver string) {
	t.Helper()
	const host = "login.chinacloudapi.cn"
	srv := l.https(t, "127.0.92.1", host)
	l.zone[host] = testnet.DNSName{A: a("127.0.92.1")}
	return host + ":" + itoa(srv.Port()), l.start(t)
}

// TestCheckCloudAliasAttributesWithItsFeed: every name of the China cloud
// plans the china catalog's families and attributes with the cached China
// feed (issue 11: mooncake planned china but attribution said unknown cloud).
func TestCheckCloudAliasAttributesWithItsFeed(t *testing.T) {
	isolatedCache(t)
	if code, _, errOut := runCLI(t, "", "servicetags", "update", "--cloud", "mooncake", "--source", chinaLabFeed); code != exitOK {
		t.Fatalf("update --cloud mooncake: exit %d, %s", code, errOut)
	}
	l := newLab(t)
	target, resolver := chinaSignIn(t, l)
	for _, alias := range []string{"china", "mooncake", "AzureChinaCloud", "China", "21Vianet"} {
		code, out, errOut := runCLI(t, "", "check", "--cloud", alias, "--resolver", resolver, "--ca-file", l.caFile, "--proxy", "none", "-o", "json", target)
		if code != exitOK {
			t.Errorf("--cloud %s: exit %d, stderr %s", alias, code, errOut)
			continue
		}
		rep := decodeReport(t, out)
		if rep.Cloud != "china" || !rep.ServiceTags.Loaded || rep.ServiceTags.Cloud != "China" || len(rep.Results) != 1 {
			t.Errorf("--cloud %s: cloud %q, service_tags %+v, %d results", alias, rep.Cloud, rep.ServiceTags, len(rep.Results))
			continue
		}
		res := rep.Results[0]
		// The china catalog's family, and the China feed's tag for the address.
		if res.Family != "*.chinacloudapi.cn" || !slices.ContainsFunc(res.ServiceTags, func(m report.TagMatch) bool { return m.Tag == "AzureActiveDirectory" }) {
			t.Errorf("--cloud %s: family %s, tags %+v", alias, res.Family, res.ServiceTags)
		}
	}
}

// countingListener accepts connections and only counts them: a probe that
// reached it would show.
func countingListener(t *testing.T, ip string) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// TestCheckBadFeedStopsBeforeProbing: a --service-tags file that is missing,
// HTML, or the feed of another cloud than --cloud is bad input: exit 2 with
// one line naming the file and the fix, nothing on stdout, nothing probed.
func TestCheckBadFeedStopsBeforeProbing(t *testing.T) {
	dir := testenv.TempDir(t)
	html := filepath.Join(dir, "ServiceTags_Public_20250908.json")
	if err := os.WriteFile(html, []byte("<!DOCTYPE html><html><body>Access denied by the proxy</body></html>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nonexistent.json")
	target, accepted := countingListener(t, "127.0.92.9")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing", []string{"--service-tags", missing}, []string{missing, "ServiceTags_<Cloud>_<yyyymmdd>.json", "servicetags update"}},
		{"html", []string{"--service-tags", html}, []string{html, "HTML", "servicetags update"}},
		{"other cloud", []string{"--service-tags", chinaLabFeed}, []string{chinaLabFeed, "China feed", "--cloud public", "--cloud china"}},
		{"other cloud, alias", []string{"--cloud", "AzureUSGovernment", "--service-tags", chinaLabFeed}, []string{"China feed", "--cloud usgov", "--cloud china"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"check", "--proxy", "none", "--timeout", "2s", "-o", "json", target}, tc.args...)
			code, out, errOut := runCLI(t, "", args...)
			if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2, one line on stderr, nothing on stdout", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not say %q", errOut, w)
				}
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d probes reached the target before the bad feed was refused", n)
	}
}

// TestCheckFeedAgeFromItsDate: a feed installed today whose Microsoft file
// name dates it years ago is old, whatever the cache file's time says; the
// cached copy keeps the date across runs.
func TestCheckFeedAgeFromItsDate(t *testing.T) {
	isolatedCache(t)
	old := filepath.Join(testenv.TempDir(t), "ServiceTags_China_20200106.json")
	data, err := os.ReadFile(chinaLabFeed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "servicetags", "update", "--cloud", "china", "--source", old); code != exitOK {
		t.Fatalf("update: exit %d, %s", code, errOut)
	}
	l := newLab(t)
	target, resolver := chinaSignIn(t, l)
	for _, feed := range [][]string{nil, {"--service-tags", old}} {
		args := append([]string{"check", "--cloud", "china", "--resolver", resolver, "--ca-file", l.caFile, "--proxy", "none", "-o", "json", target}, feed...)
		code, out, errOut := runCLI(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d, stderr %s", feed, code, errOut)
		}
		st := decodeReport(t, out).ServiceTags
		if st.Published.Format("2006-01-02") != "2020-01-06" || !strings.Contains(st.Note, "2020-01-06") || !strings.Contains(st.Note, "days") {
			t.Errorf("%v: service_tags %+v: want the feed dated 2020-01-06 by its file name and called old", feed, st)
		}
	}
}

// TestCheckAttributesWithRealFeed resolves a Backup pod to an address of
// AzureBackup.WestEurope in Microsoft's real Public file and reaches it
// through a loopback proxy that tunnels every CONNECT to a loopback TLS
// server: the report attributes the real address while no packet leaves the
// machine (the proxy path never dials the address itself).
func TestCheckAttributesWithRealFeed(t *testing.T) {
	file := testnet.MicrosoftFeedFile(t, "ServiceTags_Public_20250908.json")
	feed, err := servicetags.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tag, ok := feed.Tag("AzureBackup.WestEurope")
	if !ok || len(tag.Prefixes) == 0 {
		t.Fatal("AzureBackup.WestEurope missing from the Public file")
	}
	ip := tag.Prefixes[0].Addr().Next()

	l := newLab(t)
	const host = "pod01-prot1.we.backup.windowsazure.com"
	backend := l.https(t, "127.0.93.1", host)
	proxyURL := testnet.ProxyFunc(t, func(c net.Conn, req *http.Request) {
		defer c.Close()
		up, err := net.Dial("tcp", backend.String())
		if err != nil {
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, c)
		io.Copy(c, up)
	})
	l.zone[host] = testnet.DNSName{A: []netip.Addr{ip}}
	resolver := l.start(t)

	r := runBinary(t, nil, "check", "--cloud", "public", "--region", "westeurope", "--resolver", resolver, "--ca-file", l.caFile,
		"--proxy", proxyURL.String(), "--path", "proxy", "--service-tags", file, "-o", "json", host)
	rep := decodeReport(t, r.stdout)
	if r.code != 0 || len(rep.Results) != 1 {
		t.Fatalf("exit %d, %d results; stderr %s", r.code, len(rep.Results), r.stderr)
	}
	res := rep.Results[0]
	if res.Path != "proxy" || res.IP == nil || *res.IP != ip.String() || res.ProxyConnect == nil || res.ProxyConnect.StatusCode != 200 {
		t.Errorf("result: path %s ip %v connect %+v", res.Path, res.IP, res.ProxyConnect)
	}
	want := map[string]bool{"AzureBackup.WestEurope": false, "AzureBackup": false, "AzureCloud": false}
	for _, m := range res.ServiceTags {
		if _, ok := want[m.Tag]; ok {
			want[m.Tag] = true
		}
	}
	for tag, found := range want {
		if !found {
			t.Errorf("%s not among the tags of %s: %+v", tag, ip, res.ServiceTags)
		}
	}
	if res.ExpectedTagsOK == nil || !*res.ExpectedTagsOK {
		t.Errorf("expected_tags_ok = %v for %v (expected %v)", res.ExpectedTagsOK, ip, res.ExpectedTags)
	}
	if res.Provider == nil || res.Provider.Name != "azure" {
		t.Errorf("provider = %+v, want cdncheck's azure", res.Provider)
	}
}
