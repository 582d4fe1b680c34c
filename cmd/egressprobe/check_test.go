package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/report"
	"egressprobe/servicetags"
)

// The tests here run the built binary, as a user does, against loopback
// servers started by the test.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds egressprobe once per test run, or returns $EGRESSPROBE_EXE
// when that names a build already made: under Wine (.ci/wine/test) the tests
// run where no Go toolchain can.
func binary(t *testing.T) string {
	t.Helper()
	if exe := os.Getenv("EGRESSPROBE_EXE"); exe != "" {
		return exe
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "egressprobe-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "egressprobe")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, out}
		}
	})
	if buildErr != nil {
		t.Fatalf("building egressprobe: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }

type runResult struct {
	code           int
	stdout, stderr string
}

// runBinary runs egressprobe with args and a clean environment (no proxy
// variables, a private cache dir).
func runBinary(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	return runBinaryIn(t, "", env, args...)
}

// runBinaryIn is runBinary in the working directory dir ("" for the test's).
func runBinaryIn(t *testing.T, dir string, env []string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(t), env...)
	return runCmd(t, cmd)
}

// runCmd runs cmd, an egressprobe command line, to its end.
func runCmd(t *testing.T, cmd *exec.Cmd) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running egressprobe: %v", err)
	}
	return runResult{code, out.String(), errb.String()}
}

// cleanEnv is an environment without proxy variables and with a private
// user cache directory (XDG_CACHE_HOME; LocalAppData on Windows).
func cleanEnv(t *testing.T) []string {
	cache := testenv.TempDir(t)
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + testenv.TempDir(t), "XDG_CACHE_HOME=" + cache, "LOCALAPPDATA=" + cache}
}

// lab is a loopback world: a resolver, a CA, and TLS servers for names.
type lab struct {
	ca     *testnet.CA
	caFile string
	zone   testnet.DNSZone
	dns    *testnet.DNSServer
}

func newLab(t *testing.T) *lab {
	ca := testnet.NewCA(t, "egressprobe e2e root")
	return &lab{ca: ca, caFile: ca.WritePEM(t), zone: testnet.DNSZone{}}
}

// https serves a TLS web server for names on ip at an ephemeral port.
func (l *lab) https(t *testing.T, ip string, names ...string) netip.AddrPort {
	cert := l.ca.Leaf(t, names, nil, testnet.LeafOptions{})
	return testnet.ServeHTTP(t, ip, testnet.NCSI("ok"), &cert)
}

// httpsIP serves a TLS web server on ip at an ephemeral port whose leaf names
// ip itself, for targets given as IP literals (no DNS).
func (l *lab) httpsIP(t *testing.T, ip string) netip.AddrPort {
	cert := l.ca.Leaf(t, nil, []net.IP{net.ParseIP(ip)}, testnet.LeafOptions{})
	return testnet.ServeHTTP(t, ip, testnet.NCSI("ok"), &cert)
}

// silentTargets serves n TCP servers that accept and never speak, on
// 127.0.subnet.1 to .n, named mute<i>.lab.test, and returns them as
// command-line targets "name:port".
func (l *lab) silentTargets(t *testing.T, subnet, n int) []string {
	var out []string
	for i := range n {
		ip := fmt.Sprintf("127.0.%d.%d", subnet, i+1)
		addr := testnet.TCPSilent(t, ip)
		host := fmt.Sprintf("mute%d.lab.test", i)
		l.zone[host] = testnet.DNSName{A: a(ip)}
		out = append(out, fmt.Sprintf("%s:%d", host, addr.Port()))
	}
	return out
}

func (l *lab) start(t *testing.T) string {
	l.dns = testnet.NewDNSServer(t, l.zone)
	return l.dns.Addr
}

// catalogListen is for tests that serve catalog hosts on their own ports 80
// and 443, which needs root (not on Windows, where any user may listen on
// them): it skips (fails in CI) without, and returns a listen that closes with
// the test.
func catalogListen(t *testing.T) func(addr string) net.Listener {
	t.Helper()
	if runtime.GOOS != "windows" && os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root to listen on ports 80 and 443 (CI runs as root)")
		}
		t.Skip("needs root to listen on ports 80 and 443")
	}
	return func(addr string) net.Listener {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen %s: %v", addr, err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}
}

// serveNCSI answers Windows' NCSI probes as Microsoft's servers do, on ip:80
// and [::1]:80, and puts the NCSI names in the lab's zone.
func (l *lab) serveNCSI(t *testing.T, listen func(string) net.Listener, ip string) {
	ncsi := http.NewServeMux()
	ncsi.Handle("/connecttest.txt", testnet.NCSI(testnet.NCSIBody))
	ncsi.Handle("/ncsi.txt", testnet.NCSI("Microsoft NCSI"))
	testnet.ServeHTTPOn(t, listen(ip+":80"), ncsi, nil)
	testnet.ServeHTTPOn(t, listen("[::1]:80"), ncsi, nil)
	l.zone["www.msftconnecttest.com"] = testnet.DNSName{A: a(ip)}
	l.zone["www.msftncsi.com"] = testnet.DNSName{A: a(ip)}
	l.zone["ipv6.msftconnecttest.com"] = testnet.DNSName{AAAA: a("::1")}
	l.zone["ipv6.msftncsi.com"] = testnet.DNSName{AAAA: a("::1")}
	l.zone["dns.msftncsi.com"] = testnet.DNSName{A: a("131.107.255.255")}
}

func a(ips ...string) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		out = append(out, netip.MustParseAddr(ip))
	}
	return out
}

func decodeReport(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, s)
	}
	if r.SchemaVersion != 1 {
		t.Fatalf("schema_version = %d, want 1", r.SchemaVersion)
	}
	return r
}

// TestCheckFormatsAndExitStatus: one good and one refused endpoint, in every
// output format: exit 1 (one result failed) with the output printed in full;
// the good one alone: exit 0. Long by its table: a check per output format.
func TestCheckFormatsAndExitStatus(t *testing.T) {
	l := newLab(t)
	good := l.https(t, "127.0.90.1", "good.lab.test")
	closed := testnet.TCPClosed(t, "127.0.90.2")
	l.zone["good.lab.test"] = testnet.DNSName{A: a("127.0.90.1")}
	l.zone["closed.lab.test"] = testnet.DNSName{A: a("127.0.90.2")}
	resolver := l.start(t)
	goodT := "good.lab.test:" + itoa(good.Port())
	closedT := "closed.lab.test:" + itoa(closed.Port())
	base := []string{"check", "--resolver", resolver, "--ca-file", l.caFile, "--proxy", "none", "--timeout", "5s"}

	t.Run("exit 0 when every result is ok", func(t *testing.T) {
		r := runBinary(t, nil, append(base, "-o", "json", goodT)...)
		if r.code != 0 {
			t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
		}
		rep := decodeReport(t, r.stdout)
		res := rep.Results[0]
		if res.Status != "ok" || res.IP == nil || *res.IP != "127.0.90.1" || res.TLS == nil || !res.TLS.Verified || res.Resolver != resolver || res.Path != "direct" {
			t.Errorf("result = %+v", res)
		}
	})

	checks := map[string]func(t *testing.T, out string){
		"table": func(t *testing.T, out string) {
			for _, want := range []string{"good.lab.test", "closed.lab.test", "tcp_refused", "What to open", "RST"} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("colour codes in a pipe")
			}
		},
		"json": func(t *testing.T, out string) {
			rep := decodeReport(t, out)
			got := map[string]string{}
			for _, r := range rep.Results {
				got[r.Host] = string(r.Status)
			}
			if got["good.lab.test"] != "ok" || got["closed.lab.test"] != "tcp_refused" || rep.Summary.Failed != 1 {
				t.Errorf("statuses %v, summary %+v", got, rep.Summary)
			}
		},
		"jsonl": func(t *testing.T, out string) {
			sc := bufio.NewScanner(strings.NewReader(out))
			n := 0
			for sc.Scan() {
				var r report.Result
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Host == "" {
					t.Errorf("line %d is not a result: %v: %s", n+1, err, sc.Text())
				}
				n++
			}
			if n != 2 {
				t.Errorf("%d lines, want one per result (2)", n)
			}
		},
		"csv": func(t *testing.T, out string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) != 3 || rows[0][0] != "host" {
				t.Fatalf("csv: %v, %d rows: %q", err, len(rows), out)
			}
			status := slices.Index(rows[0], "status")
			if status < 0 || rows[1][status] == rows[2][status] {
				t.Errorf("csv status column: %v", rows)
			}
		},
		"markdown": func(t *testing.T, out string) {
			if !strings.Contains(out, "| ") || !strings.Contains(out, "tcp_refused") {
				t.Errorf("markdown: %s", out)
			}
		},
		"html": func(t *testing.T, out string) {
			if !strings.Contains(out, "<html") || !strings.Contains(out, "closed.lab.test") {
				t.Errorf("html: %s", out)
			}
		},
	}
	for format, check := range checks {
		t.Run(format, func(t *testing.T) {
			r := runBinary(t, nil, append(base, "-o", format, goodT, closedT)...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (one result failed); stderr %s", r.code, r.stderr)
			}
			check(t, r.stdout)
		})
	}

	t.Run("output file", func(t *testing.T) {
		file := filepath.Join(testenv.TempDir(t), "report.json")
		r := runBinary(t, nil, append(base, "-o", "json", "--output-file", file, goodT)...)
		data, err := os.ReadFile(file)
		if r.code != 0 || r.stdout != "" || err != nil {
			t.Fatalf("exit %d, stdout %q, read %v", r.code, r.stdout, err)
		}
		decodeReport(t, string(data))
	})
}

// TestCheckUsageErrors: exit 2, one line on stderr naming the input, nothing
// on stdout.
func TestCheckUsageErrors(t *testing.T) {
	bad := filepath.Join(testenv.TempDir(t), "targets.txt")
	if err := os.WriteFile(bad, []byte("ok.example\n\nnot a host!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--timeout", "0", "x.test"}, "--timeout"},
		{[]string{"check", "--timeout", "-3s", "x.test"}, "--timeout"},
		{[]string{"check", "--timeout", "soon", "x.test"}, "--timeout"},
		{[]string{"check", "-o", "yaml", "x.test"}, "yaml"},
		{[]string{"check", "--cloud", "mars", "x.test"}, "mars"},
		{[]string{"check", "--resolver", "dns.example", "x.test"}, "dns.example"},
		{[]string{"check", "--path", "sideways", "x.test"}, "sideways"},
		{[]string{"check", "--path", "proxy", "--proxy", "none", "--resolver", "127.0.0.1", "x.test"}, `--path: "proxy" asks for a proxy`},
		{[]string{"check", "--proxy", "ftp://p:21", "x.test"}, "--proxy"},
		{[]string{"check", "--targets", bad}, "targets.txt:3"},
		{[]string{"check", "--ca-file", bad, "--resolver", "127.0.0.1", "x.test"}, "--ca-file"},
		{[]string{"check", "--region", "atlantis"}, "atlantis"},
		{[]string{"check", "no_such..host"}, "no_such..host"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			r := runBinary(t, nil, tc.args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d stdout %q, want 2 and nothing", r.code, r.stdout)
			}
			if !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr %q: want one line naming %q", r.stderr, tc.want)
			}
		})
	}
}

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

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// TestCheckTargetsYAML: a targets file's expected body, expected tags and
// per-target timeout reach the probes and the verdicts.
func TestCheckTargetsYAML(t *testing.T) {
	binary(t)
	l := newLab(t)
	good := l.https(t, "127.0.96.1", "web.lab.test")
	silent := testnet.TCPSilent(t, "127.0.96.2")
	l.zone["web.lab.test"] = testnet.DNSName{A: a("127.0.96.1")}
	l.zone["mute.lab.test"] = testnet.DNSName{A: a("127.0.96.2")}
	resolver := l.start(t)
	file := filepath.Join(testenv.TempDir(t), "targets.yaml")
	yaml := fmt.Sprintf(`# lab targets
- host: web.lab.test
  port: %[1]d
  path: /health
  expect_body: ok
  expect_tags: [AzureCloud]
- host: web.lab.test
  port: %[1]d
  path: /other
  expect_body: something else
- host: mute.lab.test
  port: %[2]d
  timeout: 700ms
`, good.Port(), silent.Port())
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, nil, "check", "--targets", file, "--resolver", resolver, "--ca-file", l.caFile, "--proxy", "none",
		"--cloud", "china", "--service-tags", "../../testdata/check/ServiceTags_China_lab.json", "--timeout", "10s", "-o", "json")
	rep := decodeReport(t, r.stdout)
	if r.code != 1 || len(rep.Results) != 3 {
		t.Fatalf("exit %d with %d results, want 1 with 3; stderr %s", r.code, len(rep.Results), r.stderr)
	}
	body, other, mute := rep.Results[0], rep.Results[1], rep.Results[2]
	if body.Status != "ok" || body.HTTP == nil || !body.HTTP.BodyMatch {
		t.Errorf("expected body: %s %+v", body.Status, body.HTTP)
	}
	// 127.0.96.1 is in no prefix of the lab feed: the file's expectation fails.
	if body.ExpectedTagsOK == nil || *body.ExpectedTagsOK || !slices.Equal(body.ExpectedTags, []string{"AzureCloud"}) {
		t.Errorf("expected tags %v ok %v, want AzureCloud not met", body.ExpectedTags, body.ExpectedTagsOK)
	}
	if other.Status != "http_unexpected" {
		t.Errorf("wrong body: status %s (%s), want http_unexpected", other.Status, other.Error)
	}
	if mute.Status != "tls_timeout" || mute.ElapsedMS > 2000 {
		t.Errorf("per-target timeout 700ms: status %s after %.0f ms, want tls_timeout well before the 10s flag", mute.Status, mute.ElapsedMS)
	}
}

// TestCheckHostsFileAndSinkholes: a DNS filter's 0.0.0.0 is dns_blocked with
// no connection and DNS advice; a name the resolver sends to loopback is
// warned about and gets no firewall line; beside --resolver a hosts-file entry
// is a warning, and with the system resolver the entry is the answer
// (resolver "hosts"), probed without asking DNS.
func TestCheckHostsFileAndSinkholes(t *testing.T) {
	l := newLab(t)
	pinned := l.https(t, "127.0.93.1", "pinned.lab.test")
	refused := testnet.TCPClosed(t, "127.0.93.2")
	l.zone["sink.lab.test"] = testnet.DNSName{A: a("0.0.0.0"), AAAA: a("::")}
	l.zone["loop.lab.test"] = testnet.DNSName{A: a("127.0.93.2")}
	resolver := l.start(t)
	hosts := filepath.Join(testenv.TempDir(t), "hosts")
	if err := os.WriteFile(hosts, []byte("# test hosts file\n127.0.93.1  pinned.lab.test  # pinned\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"check", "--hosts-file", hosts, "--ca-file", l.caFile, "--proxy", "none", "--timeout", "5s", "-o", "json"}

	r := runBinary(t, nil, append(base, "--resolver", resolver,
		"sink.lab.test:"+itoa(refused.Port()), "loop.lab.test:"+itoa(refused.Port()), "pinned.lab.test:"+itoa(pinned.Port()))...)
	rep := decodeReport(t, r.stdout)
	byHost := map[string]report.Result{}
	for _, res := range rep.Results {
		byHost[res.Host] = res
	}
	warned := func(res report.Result, code string) bool {
		return slices.ContainsFunc(res.Warnings, func(w report.Warning) bool { return w.Code == code })
	}
	if s := byHost["sink.lab.test"]; s.Status != "dns_blocked" || s.TCP != nil || s.IP != nil {
		t.Errorf("sinkholed name: %s ip %v tcp %v (%s), want dns_blocked and no connection", s.Status, s.IP, s.TCP, s.Error)
	}
	if lo := byHost["loop.lab.test"]; lo.Status != "tcp_refused" || !warned(lo, "loopback_answer") {
		t.Errorf("name sent to loopback: %s %v, want tcp_refused with a loopback_answer warning", lo.Status, lo.Warnings)
	}
	if p := byHost["pinned.lab.test"]; p.Status != "dns_nxdomain" || !warned(p, "hosts_override") {
		t.Errorf("pinned name with --resolver: %s %v, want the resolver's dns_nxdomain with a hosts_override warning", p.Status, p.Warnings)
	}
	for _, act := range rep.Open {
		if act.Hop == "firewall" || slices.Contains(act.IPs, "0.0.0.0") {
			t.Errorf("what_to_open has %+v: neither a DNS block nor a loopback answer is the firewall's", act)
		}
	}

	// The system resolver: the hosts file answers, no DNS query is made (this
	// host's real resolver is never asked: the only target is pinned).
	r = runBinary(t, nil, append(base, "pinned.lab.test:"+itoa(pinned.Port()))...)
	rep = decodeReport(t, r.stdout)
	if len(rep.Results) != 1 || rep.Results[0].Resolver != "hosts" || rep.Results[0].Status != "ok" || r.code != 0 {
		t.Fatalf("exit %d, results %+v; want one ok result resolved by the hosts file\n%s", r.code, rep.Results, r.stderr)
	}
}
