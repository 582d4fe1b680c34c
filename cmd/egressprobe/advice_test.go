package main

import (
	"net"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testnet"
)

// TestCheckCatalogHostsProbedAsTheCatalog: hosts the catalog knows, named on
// the command line, are probed as the catalog probes them; an explicit
// https:// or :443 is probed as written.
func TestCheckCatalogHostsProbedAsTheCatalog(t *testing.T) {
	binary(t)
	l := newLab(t)
	for _, h := range []string{"www.msftncsi.com", "www.msftconnecttest.com", "login.microsoftonline.com"} {
		l.zone[h] = testnet.DNSName{A: a("127.0.98.1")} // nothing listens: refused at once
	}
	l.zone["dns.msftncsi.com"] = testnet.DNSName{A: a("131.107.255.255")}
	resolver := l.start(t)
	r := runBinary(t, nil, "check", "www.msftncsi.com", "www.msftconnecttest.com", "dns.msftncsi.com", "login.microsoftonline.com",
		"https://www.msftncsi.com/", "www.msftconnecttest.com:443", "--resolver", resolver, "--proxy", "none", "--timeout", "5s", "-o", "json")
	rep := decodeReport(t, r.stdout)
	type shape struct {
		host, scheme string
		port         int
		role         string
		tags         []string
	}
	var got []shape
	for _, res := range rep.Results {
		got = append(got, shape{res.Host, res.Scheme, res.Port, res.Role, res.ExpectedTags})
	}
	want := []shape{
		{"www.msftncsi.com", "http", 80, "ncsi", []string{}},
		{"www.msftconnecttest.com", "http", 80, "ncsi", []string{}},
		{"dns.msftncsi.com", "dns", 0, "ncsi-dns", []string{}},
		{"login.microsoftonline.com", "https", 443, "sign-in", []string{"AzureActiveDirectory"}},
		{"www.msftncsi.com", "https", 443, "custom", []string{}},
		{"www.msftconnecttest.com", "https", 443, "custom", []string{}},
	}
	if len(got) != len(want) {
		t.Fatalf("results %+v, want %+v; stderr %s", got, want, r.stderr)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.host != w.host || g.scheme != w.scheme || g.port != w.port || g.role != w.role || !slices.Equal(g.tags, w.tags) {
			t.Errorf("result %d: %+v, want %+v", i, g, w)
		}
	}
	if dns := rep.Results[2]; dns.Status != "ok" {
		t.Errorf("dns.msftncsi.com at its expected address: %s %s, want ok", dns.Status, dns.Error)
	}
}

// TestCheckAdviceNamesTheRightThing: an IP literal is probed once, with
// resolver none; an IPv6 address with a port is written [::1]:PORT; a UDP
// resolver that refuses is an ICMP port unreachable, not a TCP reset; and the
// DNS advice names the resolver's port and quotes no Go error text.
func TestCheckAdviceNamesTheRightThing(t *testing.T) {
	binary(t)
	closedUDP := testnet.ClosedUDPPort(t)
	_, udpPort, _ := net.SplitHostPort(closedUDP)
	v4 := testnet.TCPClosed(t, "127.0.98.2")
	targetsArgs := []string{v4.String(), "a.test"}
	v6 := ""
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		v6 = ln.Addr().String() // closed again at once: refused
		ln.Close()
		targetsArgs = append(targetsArgs, v6)
	} else {
		t.Logf("no IPv6 loopback here (%v): the [::1]:PORT case is not run", err)
	}
	args := append([]string{"check", "--resolver", closedUDP, "--resolver", "127.0.0.1:1", "--proxy", "none", "--timeout", "5s"}, targetsArgs...)
	r := runBinary(t, nil, append(args, "-o", "json")...)
	rep := decodeReport(t, r.stdout)
	perHost := map[string]int{}
	for _, res := range rep.Results {
		perHost[res.Host]++
		if res.Host != "a.test" && res.Resolver != "none" {
			t.Errorf("%s: resolver %q, want none (an IP literal is not resolved)", res.Host, res.Resolver)
		}
		if res.Host == "a.test" && res.Resolver == closedUDP &&
			(!strings.Contains(res.Error, "port unreachable (ICMP): nothing answers DNS on UDP "+udpPort) || strings.Contains(res.Error, "TCP reset")) {
			t.Errorf("a.test via a closed UDP port: error %q, want the ICMP port unreachable, not a TCP reset", res.Error)
		}
	}
	if perHost["127.0.98.2"] != 1 || perHost["a.test"] != 2 {
		t.Errorf("results per host %v: an IP literal once, a name once per resolver", perHost)
	}
	var dnsAdvice []string
	for _, o := range rep.Open {
		if strings.Contains(o.Change, "write udp") || strings.Contains(o.Change, "read udp") || strings.Contains(o.Change, "dial ") {
			t.Errorf("what_to_open quotes Go's error text: %q", o.Change)
		}
		if o.Hop == "dns" {
			dnsAdvice = append(dnsAdvice, o.Change)
		}
	}
	if !slices.ContainsFunc(dnsAdvice, func(c string) bool { return strings.Contains(c, "UDP and TCP "+udpPort) }) ||
		!slices.ContainsFunc(dnsAdvice, func(c string) bool { return strings.Contains(c, "UDP and TCP 1") }) {
		t.Errorf("DNS advice %q: want each resolver's own port (%s and 1)", dnsAdvice, udpPort)
	}
	if v6 != "" {
		table := runBinary(t, nil, args...)
		if !strings.Contains(table.stdout, "\n  "+v6+"\n") {
			t.Errorf("table: want the host line %q:\n%s", v6, table.stdout)
		}
	}
}

// TestCheckCatalogRunHints: in a catalog run, a family whose only success is
// its DNS-only member does not "work", and a region with no published Backup
// pods says so instead of "add --region".
func TestCheckCatalogRunHints(t *testing.T) {
	binary(t)
	l := newLab(t)
	l.zone["dns.msftncsi.com"] = testnet.DNSName{A: a("131.107.255.255")} // every other name: NXDOMAIN
	resolver := l.start(t)
	args := []string{"check", "--region", "austriaeast", "--resolver", resolver, "--proxy", "none", "--no-wildcard-check", "--timeout", "5s"}
	rep := decodeReport(t, runBinary(t, nil, append(args, "-o", "json")...).stdout)
	for _, f := range rep.Summary.Families {
		if f.Family == "www.msftncsi.com" && (f.OK != 1 || len(f.Works) != 0) {
			t.Errorf("www.msftncsi.com: %d ok, works via %v; want 1 ok (the DNS-only member) and working on no path", f.OK, f.Works)
		}
	}
	found := false
	for _, n := range rep.NotProbed {
		if n.Family == "*.windowsazure.com" {
			found = true
			if !strings.Contains(n.NameOne, "Austria East has no published Azure Backup pods") {
				t.Errorf("not probed %s: %q, want the region's missing pods named", n.Family, n.NameOne)
			}
		}
	}
	if !found {
		t.Errorf("families_not_probed %+v lacks *.windowsazure.com", rep.NotProbed)
	}
	table := runBinary(t, nil, args...)
	if !strings.Contains(table.stdout, "works on no path") || strings.Contains(table.stdout, "add --region") {
		t.Errorf("table:\n%s\nwant no family working by DNS alone and no 'add --region' after --region", table.stdout)
	}
}
