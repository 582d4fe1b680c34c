package report

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"egressprobe/probe"
	"egressprobe/targets"
)

// Without IPv6 on the host an AAAA address is skipped: it counts neither as
// ok nor failed (the exit status follows Failed), gets no advice, and the
// report carries the host's IPv6 decision.
func TestBuildSkippedNoIPv6(t *testing.T) {
	const res = "127.0.0.1:53"
	login := ep("login.microsoftonline.com", "*.microsoftonline.com")
	d := dnsOK(login.Host, res, "40.126.1.1", "2603:1037::1")
	none := &probe.IPv6Reach{Detail: "no global IPv6 address on an up interface"}
	r := Build(Input{
		Started: t0, Finished: t0, IPv6: none,
		Endpoints:    []targets.Endpoint{login},
		Observations: []probe.Observation{obs(0, d, "40.126.1.1", probe.OK), obs(0, d, "2603:1037::1", probe.SkippedNoIPv6)},
	})
	s := r.Summary
	if s.Total != 2 || s.OK != 1 || s.Failed != 0 || s.Skipped != 1 || s.Families[0].Skipped != 1 || s.ByStatus["skipped_no_ipv6"] != 1 {
		t.Errorf("summary %+v, want 2 results: 1 ok, 0 failed, 1 skipped", s)
	}
	if len(r.Open) != 0 || r.IPv6 != none {
		t.Errorf("what to open %+v (want none), ipv6 %+v (want the run's decision)", r.Open, r.IPv6)
	}
	for _, res := range r.Results {
		if hasWarning(res, "ipv6_fallback") {
			t.Errorf("%v: a skipped address warns of a fallback", *res.IP)
		}
	}
	// A skipped address says nothing about the network: every address tried
	// failing the same way is still the verdict.
	r = Build(Input{Started: t0, Finished: t0, IPv6: none, Endpoints: []targets.Endpoint{login},
		Observations: []probe.Observation{obs(0, d, "40.126.1.1", probe.TCPTimeout), obs(0, d, "2603:1037::1", probe.SkippedNoIPv6)}})
	if !strings.Contains(r.Summary.Verdict, "failed the same way (tcp_timeout)") {
		t.Errorf("verdict %q, want every result failed the same way (tcp_timeout)", r.Summary.Verdict)
	}
}

// With IPv6, an IPv6 address that fails while IPv4 works for the same host
// warns of what the agent will see, and what to open still names the IPv6
// address although the host worked over IPv4.
func TestBuildIPv6FallbackWarning(t *testing.T) {
	const res = "127.0.0.1:53"
	tests := []struct {
		status probe.Outcome
		says   string
	}{
		{probe.TCPTimeout, "about 21 s per connection"},
		{probe.TCPUnreachable, "about 21 s per connection"},
		{probe.TCPRefused, "about 1 s"},
		{probe.TLSTimeout, "does not fall back"},
	}
	for _, tc := range tests {
		login := ep("login.microsoftonline.com", "*.microsoftonline.com")
		d := dnsOK(login.Host, res, "40.126.1.1", "2603:1037::1")
		r := Build(Input{
			Started: t0, Finished: t0, IPv6: &probe.IPv6Reach{Available: true},
			Endpoints:    []targets.Endpoint{login},
			Observations: []probe.Observation{obs(0, d, "40.126.1.1", probe.OK), obs(0, d, "2603:1037::1", tc.status)},
		})
		v6 := r.Results[1]
		if !hasWarning(v6, "ipv6_fallback") || !strings.Contains(v6.Warnings[0].Message, tc.says) || hasWarning(r.Results[0], "ipv6_fallback") {
			t.Errorf("%s: warnings %+v / %+v, want ipv6_fallback saying %q on the IPv6 result only", tc.status, v6.Warnings, r.Results[0].Warnings, tc.says)
		}
		if len(r.Open) != 1 || (strings.HasPrefix(string(tc.status), "tcp") && !slices.Equal(r.Open[0].IPs, []string{"2603:1037::1"})) {
			t.Errorf("%s: what to open %+v, want one change for the IPv6 address (IPv4 working does not excuse it)", tc.status, r.Open)
		}
		if r.Summary.Failed != 1 {
			t.Errorf("%s: %d failed, want the IPv6 result failed", tc.status, r.Summary.Failed)
		}
	}
	// Both families failing is a plain failure: no fallback to warn about.
	login := ep("login.microsoftonline.com", "*.microsoftonline.com")
	d := dnsOK(login.Host, res, "40.126.1.1", "2603:1037::1")
	r := Build(Input{Endpoints: []targets.Endpoint{login},
		Observations: []probe.Observation{obs(0, d, "40.126.1.1", probe.TCPTimeout), obs(0, d, "2603:1037::1", probe.TCPTimeout)}})
	if hasWarning(r.Results[1], "ipv6_fallback") {
		t.Errorf("both families failed, yet %+v", r.Results[1].Warnings)
	}
}

// A trace that stops short names the device in what to open: the last hop
// that answered (or the router that rejected), and toward the proxy through
// one; a trace that reached the target adds nothing.
func TestBuildTraceNamesTheDevice(t *testing.T) {
	r2 := netip.MustParseAddr("10.0.2.1")
	hop := probe.Hop{TTL: 2, Addr: &r2, Reply: probe.ReplyTimeExceeded}
	rejected := hop
	rejected.Reply = probe.ReplyUnreachable
	// A router rejecting what it forwards answers the TTL after its own
	// time-exceeded: the device is still hop 2.
	rejectedNext := rejected
	rejectedNext.TTL = 3
	tests := []struct {
		trace *probe.TraceResult
		says  string
	}{
		{&probe.TraceResult{Method: "tcp-syn", LastResponding: &hop}, "dies after hop 2 (10.0.2.1): the device dropping them is 10.0.2.1 or the next one"},
		{&probe.TraceResult{Method: "tcp-syn", LastResponding: &rejected}, "rejected at hop 2 by 10.0.2.1"},
		{&probe.TraceResult{Method: "tcp-syn", Hops: []probe.Hop{hop, rejectedNext}, LastResponding: &rejectedNext}, "rejected at hop 2 by 10.0.2.1"},
		{&probe.TraceResult{Method: "tcp-syn", LastResponding: &hop, Reached: true}, ""},
		{nil, ""},
	}
	for _, tc := range tests {
		login := ep("login.microsoftonline.com", "*.microsoftonline.com")
		d := dnsOK(login.Host, "127.0.0.1:53", "40.126.1.1")
		o := obs(0, d, "40.126.1.1", probe.TCPTimeout)
		o.Trace = tc.trace
		r := Build(Input{Endpoints: []targets.Endpoint{login}, Observations: []probe.Observation{o}})
		if r.Results[0].Trace != tc.trace || len(r.Open) != 1 {
			t.Fatalf("trace %+v: result trace %+v, what to open %+v", tc.trace, r.Results[0].Trace, r.Open)
		}
		if got := r.Open[0].Change; (tc.says == "" && strings.Contains(got, "trace")) || !strings.Contains(got, tc.says) {
			t.Errorf("trace %+v: change %q, want it to say %q", tc.trace, got, tc.says)
		}
	}
}
