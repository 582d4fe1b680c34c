package report

import (
	"strings"
	"testing"

	"egressprobe/probe"
)

// TestSummaryVerdict: every result failing at the same step is said with the
// step's hint; failures at different steps, or one ok result, say nothing.
func TestSummaryVerdict(t *testing.T) {
	var results []Result
	for _, host := range []string{"login.microsoftonline.com", "pod01-prot1.we.backup.windowsazure.com", "www.msftconnecttest.com"} {
		results = append(results, Result{Host: host, Status: probe.DNSTimeout})
	}
	if got, want := SummaryVerdict(results), "Every result failed the same way (dns_timeout): this server gets no usable DNS answers"; !strings.HasPrefix(got, want) {
		t.Errorf("all dns_timeout: %q, want %q", got, want)
	}

	// Failed at the same step in different ways: said too.
	results[1].Status = probe.DNSError
	if got, want := SummaryVerdict(results), "Every result failed at the same step (dns_error, dns_timeout): this server gets no usable DNS answers"; !strings.HasPrefix(got, want) {
		t.Errorf("dns_timeout and dns_error: %q, want %q", got, want)
	}

	// Failures at different steps: no verdict.
	results[1].Status = probe.TCPTimeout
	if got := SummaryVerdict(results); got != "" {
		t.Errorf("two different steps: %q, want none", got)
	}
	results[1].Status = probe.OK
	if got := SummaryVerdict(results); got != "" {
		t.Errorf("one ok result: %q, want none", got)
	}
	if got := SummaryVerdict(nil); got != "" {
		t.Errorf("no results: %q, want none", got)
	}

	// The hints per outcome, and per step when the outcomes differ.
	for _, tc := range []struct {
		outcomes []probe.Outcome
		hint     string // "" when the line has none
	}{
		{[]probe.Outcome{probe.DNSNXDomain}, "does not forward to the internet"},
		{[]probe.Outcome{probe.DNSNoData}, ""},
		{[]probe.Outcome{probe.TCPTimeout}, "silently dropped"},
		{[]probe.Outcome{probe.TCPTimeout, probe.TCPRefused}, ""},
		{[]probe.Outcome{probe.ProxyDenied}, "the proxy is the problem"},
		{[]probe.Outcome{probe.ProxyDenied, probe.ProxyError}, "the proxy is the problem"},
		{[]probe.Outcome{probe.TLSIntercepted}, "intercepts every host"},
		{[]probe.Outcome{probe.TLSUntrusted}, ""},
		{[]probe.Outcome{probe.Cancelled}, "stopped before any endpoint"},
	} {
		var rs []Result
		for _, o := range tc.outcomes {
			rs = append(rs, Result{Status: o})
		}
		got := SummaryVerdict(rs)
		if got == "" || strings.Contains(got, ": ") != (tc.hint != "") || !strings.Contains(got, tc.hint) {
			t.Errorf("%v: %q, want hint %q", tc.outcomes, got, tc.hint)
		}
	}
}

// TestClockMessage: Build words a skewed clock once, for every format and the
// JSON; a clock within MaxClockSkew has no message.
func TestClockMessage(t *testing.T) {
	for _, tc := range []struct {
		c    Clock
		want string
	}{
		{Clock{SkewSeconds: 420, Source: "login.microsoftonline.com", Skewed: true},
			"this server's clock is 7m0s behind the Date header of login.microsoftonline.com; sign-in tokens and certificate checks fail beyond 5 minutes."},
		{Clock{SkewSeconds: -3600, Source: "x", Skewed: true},
			"this server's clock is 1h0m0s ahead of the Date header of x; sign-in tokens and certificate checks fail beyond 5 minutes."},
	} {
		if got := clockMessage(&tc.c); got != tc.want {
			t.Errorf("clockMessage(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

// TestSummaryVerdictCancelled: a run stopped while its probes were running
// does not say it stopped before any endpoint was checked; one stopped before
// any probe started does. (Moved from render with the verdict.)
func TestSummaryVerdictCancelled(t *testing.T) {
	var results []Result
	for _, host := range []string{"login.microsoftonline.com", "www.msftconnecttest.com"} {
		results = append(results, Result{Host: host, Port: 443, Family: "f", Path: "direct", Resolver: "system",
			Status: "cancelled", Error: "cancelled before it started"})
	}
	if out := SummaryVerdict(results); !strings.Contains(out, "stopped before any endpoint was checked") {
		t.Errorf("no probe started, yet the verdict does not say so: %s", out)
	}
	results[0].DNS.Status, results[0].Error = "cancelled", "resolver 127.0.0.53:53: the resolution was cancelled before an answer"
	out := SummaryVerdict(results)
	if strings.Contains(out, "before any endpoint was checked") || !strings.Contains(out, "stopped while probes were running") {
		t.Errorf("a probe was running, yet the verdict says: %s", out)
	}
}
