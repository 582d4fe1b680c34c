package daemon

import (
	"testing"
	"time"

	"egressprobe/probe"
	"egressprobe/report"
)

func result(host, status string, ms float64) report.Result {
	ip := "192.0.2.10"
	r := report.Result{Host: host, Port: 443, Scheme: "https", Family: "*.example", IP: &ip, Path: "direct", Resolver: "127.0.0.1:53", Status: probe.Outcome(status), ElapsedMS: ms}
	if status != "ok" {
		r.Error = status + " detail"
	}
	return r
}

// viaProxy is r along the proxy path, its CONNECT answered by 10.0.0.1:3128.
func viaProxy(r report.Result) report.Result {
	p := "http://10.0.0.1:3128"
	r.Path, r.Proxy, r.ProxyConnect = "proxy", &p, &report.Connect{StatusCode: 200, ProxyAddr: "10.0.0.1:3128"}
	return r
}

// TestTransitions follows one target through ok → failing → another
// failure → still failing → ok, and another failing at its first cycle.
func TestTransitions(t *testing.T) {
	s := NewStates()
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	steps := []struct {
		status string
		want   *Transition
	}{
		{"ok", nil},
		{"tls_untrusted", &Transition{From: "ok", To: "tls_untrusted", Step: "tls", Consecutive: 1, Hop: &Hop{Address: "a.example:443"}}},
		{"proxy_denied", &Transition{From: "tls_untrusted", To: "proxy_denied", Step: "proxy", Consecutive: 2, Hop: &Hop{Address: "10.0.0.1:3128"}}},
		{"proxy_denied", nil},
		{"ok", &Transition{From: "proxy_denied", To: "ok", Consecutive: 3}},
		{"ok", nil},
	}
	for i, st := range steps {
		got := s.Observe([]report.Result{viaProxy(result("a.example", st.status, 10)), result("b.example", "dns_nxdomain", 5)}, at(i))
		var ta []Transition
		for _, tr := range got {
			if tr.Host == "a.example" {
				ta = append(ta, tr)
			} else if i != 0 {
				t.Errorf("cycle %d: b.example failing the same way again: %+v", i, tr)
			} else if tr.From != "unseen" || tr.To != "dns_nxdomain" || tr.Step != "dns" || tr.Hop.Address != "127.0.0.1:53" {
				t.Errorf("b.example's first transition %+v, want unseen → dns_nxdomain at the resolver", tr)
			}
		}
		if st.want == nil {
			if len(ta) != 0 {
				t.Errorf("cycle %d: transitions %+v, want none", i, ta)
			}
			continue
		}
		if len(ta) != 1 {
			t.Fatalf("cycle %d: transitions %+v, want one", i, ta)
		}
		tr := ta[0]
		if tr.From != st.want.From || tr.To != st.want.To || tr.Step != st.want.Step || tr.Consecutive != st.want.Consecutive {
			t.Errorf("cycle %d: %s → %s (step %q, consecutive %d), want %+v", i, tr.From, tr.To, tr.Step, tr.Consecutive, *st.want)
		}
		if tr.LastOK == nil || !tr.LastOK.Equal(at(0)) {
			t.Errorf("cycle %d: last_ok %v, want %v", i, tr.LastOK, at(0))
		}
		if tr.To != "ok" && (tr.Hop == nil || tr.Hop.Address != st.want.Hop.Address || tr.Hop.Proxy != "http://10.0.0.1:3128" || tr.Error == "") {
			t.Errorf("cycle %d: hop %+v error %q, want %s through the proxy and the error", i, tr.Hop, tr.Error, st.want.Hop.Address)
		}
		if tr.To == "ok" && (tr.OutageSeconds == nil || *tr.OutageSeconds != 180 || !tr.FailingSince.Equal(at(1))) {
			t.Errorf("recovery: outage %v since %v, want 180s since %v", tr.OutageSeconds, tr.FailingSince, at(1))
		}
	}
}

// TestCancelledKeepsState: a cycle cut short by a stop is no verdict.
func TestCancelledKeepsState(t *testing.T) {
	s := NewStates()
	now := time.Now()
	s.Observe([]report.Result{result("a", "tcp_refused", 1)}, now)
	if got := s.Observe([]report.Result{result("a", "cancelled", 1)}, now); len(got) != 0 {
		t.Errorf("cancelled made transitions %+v", got)
	}
	if s.Consecutive(TargetKey{Host: "a", Port: 443, Resolver: "127.0.0.1:53", Path: "direct"}) != 1 {
		t.Error("a cancelled cycle changed the failing streak")
	}
	// One address failing fails the target, the other one's ok notwithstanding.
	got := s.Observe([]report.Result{result("a", "ok", 1), result("a", "tls_untrusted", 1)}, now)
	if len(got) != 1 || got[0].To != "tls_untrusted" {
		t.Errorf("mixed addresses: %+v, want the change to tls_untrusted", got)
	}
}

func TestSummaries(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s := NewSummaries(t0)
	for i := 1; i <= 20; i++ {
		st := "ok"
		if i%4 == 0 {
			st = "tcp_timeout"
		}
		s.Add([]report.Result{result("a", st, float64(i))})
	}
	s.Add([]report.Result{result("a", "cancelled", 999)})
	out := s.Flush(t0.Add(15 * time.Minute))
	if len(out) != 1 {
		t.Fatalf("%d summaries, want 1", len(out))
	}
	got := out[0]
	if got.Attempts != 20 || got.Failures != 5 || got.FailurePct != 25 || got.P50MS != 10 || got.P95MS != 19 ||
		got.ByOutcome["ok"] != 15 || got.ByOutcome["tcp_timeout"] != 5 || got.ByOutcome["cancelled"] != 1 || !got.To.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("summary %+v", got)
	}
	if again := s.Flush(t0.Add(30 * time.Minute)); len(again) != 0 {
		t.Errorf("a flushed period came back: %+v", again)
	}
}
