package main

import (
	"encoding/json"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/probe"
	"egressprobe/report"
)

// TestCheckTraceWindowsEndToEnd runs egressprobe.exe check --trace through
// the router lab of .ci/wine/netns (this namespace — r1 — r2 — server). To
// the address r2 drops TCP 443 to, the connect times out and the ICMP echo
// trace reaches the server anyway — the result says it is an ICMP trace and
// may not take TCP's path; to the address r2 drops echo requests to, the
// connect is refused by the server and the trace dies after hop 2 (r2).
func TestCheckTraceWindowsEndToEnd(t *testing.T) {
	ns := testenv.WineNetns(t)
	tcpDropped, icmpDropped := ns["trace_tcp443_dropped"]+":443", ns["trace_icmp_dropped"]+":443"
	r2 := strings.Split(ns["trace_hops"], ",")[1]
	args := []string{"check", "--proxy", "none", "--timeout", "2s", "--trace", tcpDropped, icmpDropped}
	res := runBinary(t, nil, append(args, "-o", "json")...)
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || len(rep.Results) != 2 {
		t.Fatalf("exit %d, %v; want a JSON report with 2 results\nstderr: %s\n%s", res.code, err, res.stderr, res.stdout)
	}
	dropped, refused := rep.Results[0], rep.Results[1]
	if tr := dropped.Trace; dropped.Status != probe.TCPTimeout || tr == nil || tr.Method != probe.TraceMethodICMPEcho || !tr.Reached ||
		tr.LastResponding == nil || tr.LastResponding.TTL != 3 || !strings.Contains(tr.Note, "filters by port") {
		t.Errorf("TCP 443 dropped: %s, trace %+v; want tcp_timeout with an icmp-echo trace reaching the server at hop 3, its note saying ICMP may pass where TCP does not", dropped.Status, tr)
	}
	if tr := refused.Trace; refused.Status != probe.TCPRefused || tr == nil || tr.Reached || tr.LastResponding == nil || tr.LastResponding.Addr.String() != r2 {
		t.Errorf("echo dropped: %s, trace %+v; want tcp_refused with a trace that dies at r2 (%s)", refused.Status, tr, r2)
	}
	table := runBinary(t, nil, args...)
	if want := "dies after hop 2 (" + r2 + ") (ICMP echo trace)"; !strings.Contains(table.stdout, want) {
		t.Errorf("the table does not say %q:\n%s", want, table.stdout)
	}
}
