package daemon

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"egressprobe/report"
)

// TestMetricsLintAndValues: the exposition passes client_golang's linter,
// the results counter starts at 0 for every outcome a target can have, the
// per-target gauges follow the cycles, and no label carries an IP, an error
// or a proxy user.
func TestMetricsLintAndValues(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	m := NewMetrics("v1.2.3", func() time.Time { return now })
	s := NewStates()
	notAfter := now.Add(90 * 24 * time.Hour)
	yes, no := true, false
	good := result("a.example", "ok", 40)
	good.TLS = &report.TLS{NotAfter: notAfter, MS: 12, InterceptedBy: "Corp Inspection CA"}
	good.ExpectedTagsOK = &yes
	bad := viaProxy(result("b.example", "proxy_auth_required", 7))
	user := "http://alice@10.0.0.1:3128"
	bad.Proxy = &user
	bad.ExpectedTagsOK = &no
	cycle := func(rs ...report.Result) {
		s.Observe(rs, now)
		m.Observe(rs, now, s.Consecutive)
	}
	cycle(good, bad)
	cycle(good, bad)
	m.SetFeed(report.ServiceTagsInfo{ChangeNumber: 388, Updated: now.Add(-2 * time.Hour)})
	m.Reloaded(true, now)

	problems, err := testutil.GatherAndLint(m.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	a := []string{"a.example", "*.example", "direct", "127.0.0.1:53"}
	b := []string{"b.example", "*.example", "proxy", "127.0.0.1:53"}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"success a", testutil.ToFloat64(m.success.WithLabelValues(a...)), 1},
		{"success b", testutil.ToFloat64(m.success.WithLabelValues(b...)), 0},
		{"results a ok", testutil.ToFloat64(m.results.WithLabelValues(append(a, "ok")...)), 2},
		{"results a tcp_timeout (initialised)", testutil.ToFloat64(m.results.WithLabelValues(append(a, "tcp_timeout")...)), 0},
		{"results b proxy_auth_required", testutil.ToFloat64(m.results.WithLabelValues(append(b, "proxy_auth_required")...)), 2},
		{"consecutive b", testutil.ToFloat64(m.consecutive.WithLabelValues(b...)), 2},
		{"not after a", testutil.ToFloat64(m.notAfter.WithLabelValues(a...)), float64(notAfter.Unix())},
		{"intercepted a", testutil.ToFloat64(m.intercepted.WithLabelValues(a...)), 1},
		{"tag match a", testutil.ToFloat64(m.tagMatch.WithLabelValues(a...)), 1},
		{"tag match b", testutil.ToFloat64(m.tagMatch.WithLabelValues(b...)), 0},
		{"tls step a", testutil.ToFloat64(m.stepDuration.WithLabelValues(append(a, "tls")...)), 0.012},
		{"feed change", testutil.ToFloat64(m.feedChange), 388},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := m.feedAge(); got != 7200 {
		t.Errorf("feed age %v, want 7200 s", got)
	}
	// Proxy-path targets do not start DNS counters; direct ones no proxy ones.
	if n := testutil.CollectAndCount(m.results); n != len(possibleOutcomes(&good))+len(possibleOutcomes(&bad)) {
		t.Errorf("%d results series, want the possible outcomes of both targets", n)
	}
	out := gatherText(t, m)
	for _, leak := range []string{"alice", "10.0.0.1", "192.0.2.10", "detail"} {
		if strings.Contains(out, leak) {
			t.Errorf("the exposition carries %q", leak)
		}
	}
	if !strings.Contains(out, `egressprobe_build_info{goversion="go`) || !strings.Contains(out, `version="v1.2.3"} 1`) {
		t.Errorf("no build_info in\n%s", out)
	}

	// A reload that drops b deletes its series.
	cycle(good)
	if strings.Contains(gatherText(t, m), "b.example") {
		t.Error("series of a target no longer planned remain")
	}
}

// gatherText is the exposition as Prometheus scrapes it.
func gatherText(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}
