package daemon

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"egressprobe/probe"
	"egressprobe/report"
)

// targetLabels identify a target in every per-target series. Bounded by the
// config: never an IP, an error text or a proxy user (failure detail lives
// in the log; a counter by outcome carries the rest).
var targetLabels = []string{"host", "family", "path", "resolver"}

// Metrics are the daemon's Prometheus collectors, on a registry of their own
// (no global state).
type Metrics struct {
	Registry *prometheus.Registry

	success, duration, lastRun, lastSuccess, consecutive *prometheus.GaugeVec
	notAfter, intercepted, tagMatch, stepDuration        *prometheus.GaugeVec
	results                                              *prometheus.CounterVec

	feedChange, feedUpdated    prometheus.Gauge
	reloadOK, reloadTime       prometheus.Gauge
	overruns, cycles           prometheus.Counter
	logErrors, logDropped      prometheus.Counter
	cycleSeconds, targetsGauge prometheus.Gauge

	feedUpdatedAt atomic.Int64 // Unix seconds, for the age gauge

	now  func() time.Time
	seen map[string][]string // target label values of the last cycle, by joined key
}

// NewMetrics registers every collector; version goes into build_info.
func NewMetrics(version string, now func() time.Time) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), now: now, seen: map[string][]string{}}
	gv := func(name, help string, extra ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "egressprobe", Name: name, Help: help}, append(append([]string{}, targetLabels...), extra...))
		m.Registry.MustRegister(v)
		return v
	}
	g := func(name, help string) prometheus.Gauge {
		v := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "egressprobe", Name: name, Help: help})
		m.Registry.MustRegister(v)
		return v
	}
	c := func(name, help string) prometheus.Counter {
		v := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "egressprobe", Name: name, Help: help})
		m.Registry.MustRegister(v)
		return v
	}
	m.success = gv("probe_success", "1 when every result of the target's last cycle was ok, else 0.")
	m.duration = gv("probe_duration_seconds", "The slowest result of the target's last cycle, all steps.")
	m.stepDuration = gv("step_duration_seconds", "The slowest of each step (dns, tcp, proxy, tls, http) in the target's last cycle.", "step")
	m.lastRun = gv("last_run_timestamp_seconds", "When the target was last probed (Unix time).")
	m.lastSuccess = gv("last_success_timestamp_seconds", "When the target was last ok (Unix time); absent until it is.")
	m.consecutive = gv("consecutive_failures", "Failing cycles in a row; 0 when ok.")
	m.notAfter = gv("tls_leaf_not_after_timestamp_seconds", "The earliest expiry of the TLS leaf certificates seen for the target (Unix time).")
	m.intercepted = gv("tls_interception_seen", "1 when a TLS-inspecting middlebox minted the leaf in the last cycle.")
	m.tagMatch = gv("service_tag_match", "1 when every address judged was in the expected service tags, 0 when one was not; absent when none was judged.")
	m.results = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "egressprobe", Name: "results_total", Help: "Results by outcome (one per address and cycle)."}, append(append([]string{}, targetLabels...), "outcome"))
	m.Registry.MustRegister(m.results)

	m.feedChange = g("service_tags_change_number", "The change number of the service-tag feed in use; 0: none loaded.")
	m.feedUpdated = g("service_tags_updated_timestamp_seconds", "When the cached feed was last downloaded or confirmed current (Unix time).")
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "egressprobe", Name: "service_tags_age_seconds", Help: "Seconds since the feed in use was downloaded or confirmed current; 0 when unknown (a fixed file, or none).",
	}, m.feedAge))
	m.reloadOK = g("config_last_reload_successful", "1 when the last config load or reload succeeded.")
	m.reloadTime = g("config_last_reload_success_timestamp_seconds", "When the config was last loaded successfully (Unix time).")
	m.overruns = c("scheduler_overruns_total", "Cycles that took longer than their interval (the next started when they ended).")
	m.logErrors = c("log_write_errors_total", "Records lost: not written (a write error) or dropped (the log fell behind).")
	m.logDropped = c("log_records_dropped_total", "Of log_write_errors_total, records dropped because the log fell behind: its queue was full (a slow or blocked disk).")
	m.cycles = c("cycles_total", "Cycles run.")
	m.cycleSeconds = g("cycle_duration_seconds", "How long the last cycle took.")
	m.targetsGauge = g("targets", "Probe targets in the config's plan.")
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "egressprobe", Name: "build_info", Help: "1, labelled with the build's version and Go version."}, []string{"version", "goversion"})
	bi.WithLabelValues(version, runtime.Version()).Set(1)
	m.Registry.MustRegister(bi)
	return m
}

func (m *Metrics) feedAge() float64 {
	ts := m.feedUpdatedAt.Load()
	if ts == 0 {
		return 0
	}
	return m.now().Sub(time.Unix(ts, 0)).Seconds()
}

// SetFeed records the feed in use.
func (m *Metrics) SetFeed(info report.ServiceTagsInfo) {
	m.feedChange.Set(float64(info.ChangeNumber))
	var ts int64
	if !info.Updated.IsZero() {
		ts = info.Updated.Unix()
	}
	m.feedUpdated.Set(float64(ts))
	m.feedUpdatedAt.Store(ts)
}

// Reloaded records a config load: ok, and when.
func (m *Metrics) Reloaded(ok bool, at time.Time) {
	if ok {
		m.reloadOK.Set(1)
		m.reloadTime.Set(float64(at.Unix()))
	} else {
		m.reloadOK.Set(0)
	}
}

// targetLabelValues are a result's per-target labels. The host carries its
// port when that is not the scheme's default, so two ports stay two series.
func targetLabelValues(r *report.Result) []string {
	host := r.Host
	if (r.Scheme == "https" && r.Port != 443) || (r.Scheme == "http" && r.Port != 80) {
		host += ":" + strconv.Itoa(r.Port)
	}
	return []string{host, r.Family, string(r.Path), r.Resolver}
}

// possibleOutcomes are the outcomes a target with this result's scheme and
// path can end in: its results counter starts at 0 for each, so increase()
// sees the first failure.
func possibleOutcomes(r *report.Result) []probe.Outcome {
	dns := []probe.Outcome{probe.DNSNXDomain, probe.DNSNoData, probe.DNSServfail, probe.DNSRefused, probe.DNSTimeout, probe.DNSError, probe.DNSUnexpected}
	out := []probe.Outcome{probe.OK, probe.Cancelled, probe.LocalResources}
	if r.Scheme == "dns" {
		return append(out, dns...)
	}
	if r.Path == probe.PathProxy {
		out = append(out, probe.ProxyUnreachable, probe.ProxyAuthRequired, probe.ProxyDenied, probe.ProxyError, probe.ProxyTimeout)
	} else {
		out = append(append(out, dns...), probe.TCPRefused, probe.TCPTimeout, probe.TCPUnreachable)
	}
	if r.Scheme == "http" {
		// A block page; and port 80's transparent proxies answer on the
		// direct path too (the certificate authorities' hosts).
		out = append(out, probe.HTTPBlockPage)
		if r.Path != probe.PathProxy {
			out = append(out, probe.ProxyAuthRequired, probe.ProxyDenied, probe.ProxyError)
		}
	} else {
		out = append(out, probe.TLSTimeout, probe.TLSHandshakeFailed, probe.TLSUntrusted, probe.TLSHostnameMismatch, probe.TLSExpired, probe.TLSOldVersion, probe.TLSIntercepted)
	}
	return append(out, probe.HTTPUnexpected, probe.HTTPTimeout, probe.HTTPError)
}

// targetAgg is one target's results in one cycle, folded for the gauges.
type targetAgg struct {
	labels      []string
	failed      bool
	cancelled   bool
	maxMS       float64
	steps       map[string]float64
	notAfter    time.Time
	intercepted bool
	tagJudged   bool
	tagOK       bool
}

// Observe updates the series from one cycle's results, finished at now;
// consecutive gives each target's failing streak (from States). Series of
// targets no longer planned are deleted.
func (m *Metrics) Observe(results []report.Result, now time.Time, consecutive func(TargetKey) int) {
	aggs := map[TargetKey]*targetAgg{}
	var order []TargetKey
	for i := range results {
		r := &results[i]
		k := keyOf(r)
		a := aggs[k]
		if a == nil {
			a = &targetAgg{labels: targetLabelValues(r), steps: map[string]float64{}, tagOK: true}
			aggs[k] = a
			order = append(order, k)
			if _, known := m.seen[joinLabels(a.labels)]; !known {
				for _, o := range possibleOutcomes(r) {
					m.results.WithLabelValues(append(a.labels, string(o))...)
				}
			}
		}
		m.results.WithLabelValues(append(a.labels, string(r.Status))...).Inc()
		a.fold(r)
	}
	seen := make(map[string][]string, len(aggs))
	for _, k := range order {
		a := aggs[k]
		seen[joinLabels(a.labels)] = a.labels
		if a.cancelled {
			continue // no verdict this cycle: keep the last one
		}
		m.lastRun.WithLabelValues(a.labels...).Set(float64(now.Unix()))
		m.duration.WithLabelValues(a.labels...).Set(a.maxMS / 1000)
		for step, ms := range a.steps {
			m.stepDuration.WithLabelValues(append(a.labels, step)...).Set(ms / 1000)
		}
		m.success.WithLabelValues(a.labels...).Set(boolFloat(!a.failed))
		if !a.failed {
			m.lastSuccess.WithLabelValues(a.labels...).Set(float64(now.Unix()))
		}
		m.consecutive.WithLabelValues(a.labels...).Set(float64(consecutive(k)))
		if !a.notAfter.IsZero() {
			m.notAfter.WithLabelValues(a.labels...).Set(float64(a.notAfter.Unix()))
		}
		m.intercepted.WithLabelValues(a.labels...).Set(boolFloat(a.intercepted))
		if a.tagJudged {
			m.tagMatch.WithLabelValues(a.labels...).Set(boolFloat(a.tagOK))
		}
	}
	for key, labels := range m.seen {
		if _, ok := seen[key]; !ok {
			m.forget(labels)
		}
	}
	m.seen = seen
}

func (a *targetAgg) fold(r *report.Result) {
	switch r.Status {
	case probe.Cancelled:
		a.cancelled = true
	case probe.OK:
	default:
		a.failed = true
	}
	a.maxMS = max(a.maxMS, r.ElapsedMS)
	step := func(name string, ms float64) { a.steps[name] = max(a.steps[name], ms) }
	if r.DNS.Status != "" {
		step(probe.StepDNS, r.DNS.MS)
	}
	if r.TCP != nil {
		step(probe.StepTCP, r.TCP.MS)
	}
	if r.ProxyConnect != nil {
		step(probe.StepProxy, r.ProxyConnect.MS)
	}
	if r.TLS != nil {
		step(probe.StepTLS, r.TLS.MS)
		if !r.TLS.NotAfter.IsZero() && (a.notAfter.IsZero() || r.TLS.NotAfter.Before(a.notAfter)) {
			a.notAfter = r.TLS.NotAfter
		}
		if r.TLS.InterceptedBy != "" {
			a.intercepted = true
		}
	}
	if r.Status == probe.TLSIntercepted {
		a.intercepted = true
	}
	if r.HTTP != nil {
		step(probe.StepHTTP, r.HTTP.MS)
	}
	if r.ExpectedTagsOK != nil {
		a.tagJudged = true
		a.tagOK = a.tagOK && *r.ExpectedTagsOK
	}
}

// forget deletes every series of a target no longer planned.
func (m *Metrics) forget(labels []string) {
	match := prometheus.Labels{}
	for i, n := range targetLabels {
		match[n] = labels[i]
	}
	for _, v := range []*prometheus.GaugeVec{m.success, m.duration, m.stepDuration, m.lastRun, m.lastSuccess, m.consecutive, m.notAfter, m.intercepted, m.tagMatch} {
		v.DeletePartialMatch(match)
	}
	m.results.DeletePartialMatch(match)
}

func joinLabels(l []string) string {
	s := ""
	for _, v := range l {
		s += v + "\x00"
	}
	return s
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
