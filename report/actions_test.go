package report

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/targets"
)

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
	if len(fams) != 2 || fams[0].Family != "*.windowsazure.com" || fams[0].Failed != 3 || fams[1].OK != 1 || !slices.Equal(fams[1].Works, []probe.Path{"proxy"}) {
		t.Errorf("families = %+v", fams)
	}
	if rep.Summary.Total != 5 || rep.Summary.OK != 1 || rep.Summary.Failed != 4 || rep.Summary.ByStatus["tcp_timeout"] != 3 {
		t.Errorf("summary = %+v", rep.Summary)
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
