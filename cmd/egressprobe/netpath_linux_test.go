package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/report"
)

// pathLab is a client namespace with its own resolver (on its loopback) and
// a CA, for running the built binary where the path itself is the fault.
type pathLab struct {
	*lab
	client *testnet.Netns
}

func newPathLab(t *testing.T) *pathLab {
	testnet.NeedNetns(t)
	return &pathLab{lab: newLab(t), client: testnet.NewNetns(t)}
}

// serve serves HTTPS for names in ns on addr ("[::]:443" for both families).
func (l *pathLab) serve(t *testing.T, ns *testnet.Netns, addr string, names ...string) {
	cert := l.ca.Leaf(t, names, nil, testnet.LeafOptions{})
	testnet.ServeHTTPOn(t, ns.Listen(t, addr), testnet.NCSI("ok"), &cert)
}

// check runs `egressprobe check` in the client namespace with the lab's
// resolver (started there on first use) and CA, no proxy, and args.
func (l *pathLab) check(t *testing.T, args ...string) runResult {
	t.Helper()
	if l.dns == nil {
		l.client.Do(t, func() { l.start(t) })
	}
	full := append([]string{binary(t), "check", "--resolver", l.dns.Addr, "--ca-file", l.caFile, "--proxy", "none"}, args...)
	cmd := l.client.Command(full[0], full[1:]...)
	cmd.Env = cleanEnv(t)
	return runCmd(t, cmd)
}

// expect runs check -o json with args and fails the test unless it exits
// with code and each address has its status.
func (l *pathLab) expect(t *testing.T, code int, status map[string]string, args ...string) report.Report {
	t.Helper()
	res := l.check(t, append([]string{"-o", "json"}, args...)...)
	r := decodeReport(t, res.stdout)
	for ip, want := range status {
		if got := statusOf(r, ip); got != want || res.code != code {
			t.Fatalf("exit %d, %s %s; want exit %d, %s\nstderr: %s\n%s", res.code, ip, got, code, want, res.stderr, res.stdout)
		}
	}
	return r
}

func statusOf(r report.Report, ip string) string {
	i := slices.IndexFunc(r.Results, func(res report.Result) bool { return res.IP != nil && *res.IP == ip })
	if i < 0 {
		return "(no result)"
	}
	return string(r.Results[i].Status)
}

// TestCheckIPv4OnlyHost: a client with IPv4 only resolves a name with an A
// and an AAAA answer. The AAAA address is skipped_no_ipv6 — not a failure,
// no advice — the run exits 0, and the header says there is no IPv6 here.
// -6 on the same host probes the IPv6 address anyway (and it fails: no route).
func TestCheckIPv4OnlyHost(t *testing.T) {
	l := newPathLab(t)
	server := testnet.NewNetns(t)
	testnet.Link(t, l.client, "eth0", []string{"10.18.0.2/24"}, server, "eth0", []string{"10.18.0.1/24", "2001:db8:18::1/64"})
	l.serve(t, server, "[::]:443", "svc.lab.test")
	l.zone["svc.lab.test"] = testnet.DNSName{A: a("10.18.0.1"), AAAA: a("2001:db8:18::1")}

	r := l.expect(t, 0, map[string]string{"10.18.0.1": "ok", "2001:db8:18::1": "skipped_no_ipv6"}, "--timeout", "3s", "svc.lab.test")
	if r.IPv6 == nil || r.IPv6.Available || r.Summary.Skipped != 1 || r.Summary.Failed != 0 || len(r.Open) != 0 {
		t.Errorf("ipv6 %+v, summary %+v, what to open %+v: want no IPv6, 1 skipped, nothing to open", r.IPv6, r.Summary, r.Open)
	}
	table := l.check(t, "--timeout", "3s", "svc.lab.test")
	if !strings.Contains(table.stdout, "IPv6: none on this host") || !strings.Contains(table.stdout, "1 skipped") {
		t.Errorf("the table does not say IPv6 is absent and one result skipped:\n%s", table.stdout)
	}
	only6 := l.check(t, "-6", "-o", "json", "--timeout", "2s", "svc.lab.test")
	r6 := decodeReport(t, only6.stdout)
	if len(r6.Results) != 1 || statusOf(r6, "2001:db8:18::1") != "skipped_no_ipv6" || only6.code != 0 {
		t.Errorf("-6 on an IPv4-only host: exit %d, %+v; want the one IPv6 address, skipped", only6.code, r6.Results)
	}
	only4 := l.check(t, "-4", "-o", "json", "--timeout", "2s", "svc.lab.test")
	if r4 := decodeReport(t, only4.stdout); len(r4.Results) != 1 || statusOf(r4, "10.18.0.1") != "ok" {
		t.Errorf("-4: %+v, want the IPv4 address alone, ok", r4.Results)
	}
}

// TestCheckDualStackIPv6Dropped: a dual-stack client whose IPv6 to the
// server is silently dropped (nftables on the server) while IPv4 works: the
// IPv6 result is tcp_timeout with a warning naming the wait the agent will
// see, and what to open names the IPv6 address although the host worked.
func TestCheckDualStackIPv6Dropped(t *testing.T) {
	l := newPathLab(t)
	server := testnet.NewNetns(t)
	testnet.Link(t, l.client, "eth0", []string{"10.18.0.2/24", "2001:db8:18::2/64"}, server, "eth0", []string{"10.18.0.1/24", "2001:db8:18::1/64"})
	l.client.Run(t, "ip", "-6", "route", "add", "default", "via", "2001:db8:18::1")
	server.RunStdin(t, `
table inet lab {
	chain input {
		type filter hook input priority 0; policy accept;
		ip6 saddr 2001:db8:18::2 tcp dport 443 drop
	}
}`, "nft", "-f", "-")
	l.serve(t, server, "[::]:443", "svc.lab.test")
	l.zone["svc.lab.test"] = testnet.DNSName{A: a("10.18.0.1"), AAAA: a("2001:db8:18::1")}

	r := l.expect(t, 1, map[string]string{"10.18.0.1": "ok", "2001:db8:18::1": "tcp_timeout"}, "--timeout", "2s", "svc.lab.test")
	if r.IPv6 == nil || !r.IPv6.Available {
		t.Errorf("ipv6 %+v: want available (a global address and a default route)", r.IPv6)
	}
	v6 := r.Results[slices.IndexFunc(r.Results, func(res report.Result) bool { return *res.IP == "2001:db8:18::1" })]
	if len(v6.Warnings) != 1 || v6.Warnings[0].Code != "ipv6_fallback" || !strings.Contains(v6.Warnings[0].Message, "21 s") {
		t.Errorf("IPv6 result warnings %+v, want ipv6_fallback naming the 21 s wait", v6.Warnings)
	}
	if len(r.Open) != 1 || !slices.Equal(r.Open[0].IPs, []string{"2001:db8:18::1"}) {
		t.Errorf("what to open %+v, want one change naming 2001:db8:18::1", r.Open)
	}
}

// rsaServerCert is an RSA-4096 root and a leaf for names signed by it (one
// key for both: generating them is slow), and the root as a PEM file: the
// server's first flight, leaf and root with a 512-byte signature, is then
// well over 1280 bytes.
func rsaServerCert(t *testing.T, names ...string) (tls.Certificate, string) {
	key, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "egressprobe MTU lab RSA root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(testenv.TempDir(t), "rsa-root.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER, rootDER}, PrivateKey: key}, caFile
}

// TestCheckPathMTUBlackhole is the MTU lab: client — router — server, the
// router's link toward the client with MTU 1280 and its ICMP
// destination-unreachable (ICMPv6 packet too big) dropped in its output
// chain, and a server whose RSA-4096 chain makes its first flight bigger
// than 1280 bytes; over IPv4 and over IPv6. The TLS handshake stalls;
// retried with the segment size clamped it completes: tcp_mtu_blackhole, and
// what to open says to clamp MSS or allow the ICMP. With the router's ICMP
// let through, path-MTU discovery works and the same run is ok: the drop,
// not the server, made the blackhole.
func TestCheckPathMTUBlackhole(t *testing.T) {
	l := newPathLab(t)
	router, server := testnet.NewNetns(t), testnet.NewNetns(t)
	testnet.Link(t, l.client, "eth0", []string{"10.18.1.2/24", "2001:db8:18:1::2/64"}, router, "toclient", []string{"10.18.1.1/24", "2001:db8:18:1::1/64"})
	testnet.Link(t, router, "toserver", []string{"10.18.2.1/24", "2001:db8:18:2::1/64"}, server, "eth0", []string{"10.18.2.2/24", "2001:db8:18:2::2/64"})
	router.Router(t)
	router.Run(t, "ip", "link", "set", "toclient", "mtu", "1280")
	l.client.Run(t, "ip", "route", "add", "default", "via", "10.18.1.1")
	l.client.Run(t, "ip", "-6", "route", "add", "default", "via", "2001:db8:18:1::1")
	server.Run(t, "ip", "route", "add", "default", "via", "10.18.2.1")
	server.Run(t, "ip", "-6", "route", "add", "default", "via", "2001:db8:18:2::1")
	const dropICMP = `
table inet mtulab {
	chain output {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable drop
		icmpv6 type packet-too-big drop
	}
}`
	cert, caFile := rsaServerCert(t, "big.lab.test", "big6.lab.test")
	testnet.ServeHTTPOn(t, server.Listen(t, "[::]:443"), testnet.NCSI("ok"), &cert)
	l.zone["big.lab.test"] = testnet.DNSName{A: a("10.18.2.2")}
	l.zone["big6.lab.test"] = testnet.DNSName{AAAA: a("2001:db8:18:2::2")}
	l.caFile = caFile
	l.client.Do(t, func() { l.start(t) }) // the resolver outlives the subtests

	for _, f := range []struct{ name, host, ip, icmp string }{
		{"ipv4", "big.lab.test", "10.18.2.2", "ICMP type 3 code 4"},
		{"ipv6", "big6.lab.test", "2001:db8:18:2::2", "ICMPv6 type 2"},
	} {
		t.Run(f.name, func(t *testing.T) {
			router.RunStdin(t, dropICMP, "nft", "-f", "-")
			r := l.expect(t, 1, map[string]string{f.ip: "tcp_mtu_blackhole"}, "--timeout", "6s", f.host)
			res := r.Results[0]
			if res.TLS == nil || res.TLS.MSSRetry == nil || res.TLS.MSSRetry.MSS != 1200 || res.TLS.MSSRetry.Outcome != "ok" {
				t.Errorf("tls %+v: want the clamped retry (MSS 1200) ok", res.TLS)
			}
			if len(r.Open) != 1 || r.Open[0].Hop != report.HopPathMTU || !strings.Contains(r.Open[0].Change, "clamp the TCP MSS") ||
				!strings.Contains(r.Open[0].Change, f.icmp) || !slices.Equal(r.Open[0].IPs, []string{f.ip}) {
				t.Errorf("what to open %+v, want one path-MTU change for %s: clamp MSS or allow %s", r.Open, f.ip, f.icmp)
			}
			table := l.check(t, "--timeout", "6s", f.host)
			if !strings.Contains(table.stdout, "path-MTU blackhole") || !strings.Contains(table.stdout, "Path MTU") {
				t.Errorf("the table does not name the blackhole and its fix:\n%s", table.stdout)
			}

			router.Run(t, "nft", "delete", "table", "inet", "mtulab")
			l.expect(t, 0, map[string]string{f.ip: "ok"}, "--timeout", "6s", f.host)
		})
	}
}

// TestCheckTraceDropAtSecondRouter: client — r1 — r2 — r3 — server, r2
// dropping TCP 443 in its forward chain, over IPv4 and over IPv6.
// check --trace=auto reports the tcp_timeout with a trace that ends at r2,
// the table says "dies after hop 2 (r2)", and what to open names r2. Without
// --trace there is no trace; with the drop gone the endpoint is ok and
// nothing is traced.
func TestCheckTraceDropAtSecondRouter(t *testing.T) {
	l := newPathLab(t)
	c := testnet.NewChain(t, 182, 3)
	l.client = c.Client
	c.Routers[1].RunStdin(t, `
table inet trace_lab {
	chain forward {
		type filter hook forward priority 0; policy accept;
		tcp dport 443 drop
	}
}`, "nft", "-f", "-")
	l.serve(t, c.Server, "[::]:443", "far.lab.test", "far6.lab.test")
	l.zone["far.lab.test"] = testnet.DNSName{A: []netip.Addr{c.ServerAddr}}
	l.zone["far6.lab.test"] = testnet.DNSName{AAAA: []netip.Addr{c.ServerAddr6}}
	l.client.Do(t, func() { l.start(t) }) // the resolver outlives the subtests
	families := []struct{ name, host, server, r2 string }{
		{"ipv4", "far.lab.test", c.ServerAddr.String(), c.RouterAddrs[1].String()},
		{"ipv6", "far6.lab.test", c.ServerAddr6.String(), c.RouterAddrs6[1].String()},
	}

	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			plain := l.expect(t, 1, map[string]string{f.server: "tcp_timeout"}, "--timeout", "2s", f.host)
			if plain.Results[0].Trace != nil {
				t.Errorf("a trace without --trace: %+v", plain.Results[0].Trace)
			}
			r := l.expect(t, 1, map[string]string{f.server: "tcp_timeout"}, "--timeout", "2s", "--trace=auto", f.host)
			tr := r.Results[0].Trace
			if tr != nil { // the figure README's "The network path" quotes
				t.Logf("run without --trace %v, with --trace=auto %v; the trace itself %.0f ms", plain.Finished.Sub(plain.Started), r.Finished.Sub(r.Started), tr.MS)
			}
			if tr == nil || tr.Method != "tcp-syn" || tr.Reached || tr.LastResponding == nil || tr.LastResponding.TTL != 2 || tr.LastResponding.Addr.String() != f.r2 {
				t.Fatalf("trace %+v, want a tcp-syn trace whose last responding hop is 2 (%s)", tr, f.r2)
			}
			if len(r.Open) != 1 || !strings.Contains(r.Open[0].Change, "dies after hop 2 ("+f.r2+")") {
				t.Errorf("what to open %+v, want the change to name hop 2 (%s)", r.Open, f.r2)
			}
			table := l.check(t, "--timeout", "2s", "--trace", f.host)
			if !strings.Contains(table.stdout, "dies after hop 2 ("+f.r2+")") {
				t.Errorf("the table does not say where the packets die:\n%s", table.stdout)
			}
		})
	}
	if bad := l.check(t, "--trace", "auto", "far.lab.test"); bad.code != 2 || !strings.Contains(bad.stderr, "--trace=auto") {
		t.Errorf("--trace auto (space): exit %d, stderr %q; want a usage error saying --trace=auto", bad.code, bad.stderr)
	}

	c.Routers[1].Run(t, "nft", "delete", "table", "inet", "trace_lab")
	for _, f := range families {
		if r := l.expect(t, 0, map[string]string{f.server: "ok"}, "--timeout", "2s", "--trace", f.host); r.Results[0].Trace != nil {
			t.Errorf("an ok result was traced: %+v", r.Results[0].Trace)
		}
	}
}
