package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/report"
)

// TestCheckFormatsAndExitStatus: one good and one refused endpoint, in every
// output format: exit 1 (one result failed) with the output printed in full;
// the good one alone: exit 0.
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

	for format, check := range formatChecks() {
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

// formatChecks is, per output format, what TestCheckFormatsAndExitStatus's
// run of one good and one refused endpoint must print.
func formatChecks() map[string]func(t *testing.T, out string) {
	return map[string]func(t *testing.T, out string){
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
