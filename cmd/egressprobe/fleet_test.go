//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"egressprobe/daemon"
	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/probe"
	"egressprobe/report"
)

// The fleet view (deploy/): alert rules, Alertmanager routing and the Grafana
// dashboard, checked with Debian's promtool and run against real daemons, a
// real Prometheus and a real Alertmanager.

const (
	rulesFile     = "../../deploy/prometheus/egressprobe-rules.yml"
	rulesTestFile = "../../deploy/prometheus/egressprobe-rules_test.yml"
	amConfigFile  = "../../deploy/alertmanager/alertmanager.yml"
	dashboardFile = "../../deploy/grafana/egressprobe-dashboard.json"
	promConfig    = "../../deploy/prometheus/prometheus.yml"
)

// TestFleetRulesUnitTests: the rules load, every rule's firing and quiet
// cases pass `promtool test rules`, the example scrape config is valid, and
// the Alertmanager config (with its inhibit rules) loads.
func TestFleetRulesUnitTests(t *testing.T) {
	promtool := needTool(t, "/usr/bin/promtool", "prometheus")
	amtool := needTool(t, "/usr/bin/amtool", "prometheus-alertmanager")
	for _, args := range [][]string{
		{promtool, "check", "rules", rulesFile},
		{promtool, "test", "rules", rulesTestFile},
		{promtool, "check", "config", "--syntax-only", promConfig},
		{amtool, "check-config", amConfigFile},
	} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(args[1:], " "), err, out)
		}
	}
	// Every alert has a unit test that expects it firing.
	rules := readRules(t)
	tests, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Alert == "" {
			continue
		}
		if !regexp.MustCompile(`alertname: ` + r.Alert + `\n\s+exp_alerts:\n\s+- `).Match(tests) {
			t.Errorf("alert %s has no unit test in which it fires", r.Alert)
		}
		if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.For == "" {
			t.Errorf("alert %s needs a severity label, a summary and a for:", r.Alert)
		}
	}
}

type rule struct {
	Alert, Record, Expr, For string
	Labels, Annotations      map[string]string
}

func readRules(t *testing.T) []rule {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Groups []struct{ Rules []rule } }
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// daemonMetricNames are the series names a daemon exposes once it has
// probed: one cycle of an ok result (TLS, tags judged) and a failing one
// through a proxy fills every family.
func daemonMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	now := time.Now()
	m := daemon.NewMetrics("test", func() time.Time { return now })
	ip := "192.0.2.10"
	yes := true
	ok := report.Result{Host: "a.example", Port: 443, Scheme: "https", Family: "*.example", IP: &ip, Path: "direct",
		Resolver: "127.0.0.1:53", Status: probe.OK, TLS: &report.TLS{NotAfter: now.Add(time.Hour)}, ExpectedTagsOK: &yes}
	bad := ok
	bad.Host, bad.Status, bad.TLS = "b.example", probe.TCPTimeout, nil
	m.Observe([]report.Result{ok, bad}, now, func(daemon.TargetKey) int { return 1 })
	m.SetFeed(report.ServiceTagsInfo{ChangeNumber: 1, Updated: now})
	m.Reloaded(true, now)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true} // Prometheus's own, per scrape target
	for _, f := range families {
		names[f.GetName()] = true
	}
	return names
}

var metricName = regexp.MustCompile(`\begressprobe[:_][a-z_:]+|\bup\b`)

// checkNames reports the metric names in expr that neither the daemon nor a
// recording rule provides.
func checkNames(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	for _, n := range metricName.FindAllString(expr, -1) {
		if !known[n] {
			t.Errorf("%s: %q names %s, which the daemon does not expose", where, expr, n)
		}
	}
}

// TestFleetNamesExist: every metric a rule or a dashboard panel queries is
// one the daemon exposes (or a recording rule of the rules file).
func TestFleetNamesExist(t *testing.T) {
	known := daemonMetricNames(t)
	rules := readRules(t)
	for _, r := range rules {
		if r.Record != "" {
			known[r.Record] = true
		}
	}
	for _, r := range rules {
		checkNames(t, "rule "+r.Alert+r.Record, r.Expr, known)
	}
	for _, e := range dashboardExprs(t) {
		checkNames(t, "dashboard", e, known)
	}
}

// dashboardExprs checks the dashboard's shape (fixed uid, a Prometheus
// datasource variable every panel uses, no export placeholders) and returns
// every query in it.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "${DS_") || strings.Contains(string(data), "__inputs") {
		t.Error("the dashboard holds export placeholders (${DS_…}/__inputs); provisioning cannot fill them")
	}
	type target struct{ Expr string }
	type panel struct {
		Title      string
		Datasource struct{ Type, UID string }
		Targets    []target
	}
	var d struct {
		UID        string
		Templating struct {
			List []struct{ Name, Type, Query any }
		}
		Panels []panel
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID != "egressprobe-fleet" {
		t.Errorf("uid %q, want the fixed egressprobe-fleet (links and provisioning rely on it)", d.UID)
	}
	hasDS := slices.ContainsFunc(d.Templating.List, func(v struct{ Name, Type, Query any }) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	})
	if !hasDS {
		t.Error("no Prometheus datasource variable named datasource")
	}
	var exprs []string
	for _, p := range d.Panels {
		if p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q uses datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	return exprs
}

// grafanaVars are values Grafana would put in for its variables, so that
// promtool can parse the queries.
var grafanaVars = strings.NewReplacer("$__rate_interval", "2m", "$__range", "1h", "$instance", ".*", "$family", ".*")

// TestFleetDashboardQueriesParse: every dashboard query, with Grafana's
// variables filled in, is valid PromQL (promtool parses it as a recording
// rule).
func TestFleetDashboardQueriesParse(t *testing.T) {
	promtool := needTool(t, "/usr/bin/promtool", "prometheus")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range dashboardExprs(t) {
		q, _ := json.Marshal(grafanaVars.Replace(e)) // a JSON string is a YAML string
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", i, q)
	}
	f := filepath.Join(testenv.TempDir(t), "dashboard-queries.yml")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("dashboard queries: %v\n%s", err, out)
	}
}

// startService starts a daemon (Prometheus, Alertmanager) for the test, its
// output in a log file shown when the test fails, killed by PID at the end.
func startService(t *testing.T, name, bin string, args ...string) {
	t.Helper()
	logName := filepath.Join(testenv.TempDir(t), name+".log")
	logFile, err := os.Create(logName)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the process this test started, by its PID
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, stderrText(logName))
		}
	})
}

// startPrometheus runs Debian's Prometheus with config on a free loopback
// port and returns its address.
func startPrometheus(t *testing.T, config string) string {
	t.Helper()
	bin := needTool(t, "/usr/bin/prometheus", "prometheus")
	dir := testenv.TempDir(t)
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	web := fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	startService(t, "prometheus", bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web, "--log.level=warn")
	return web
}

// activeAlerts lists the alerts Alertmanager holds now (not inhibited,
// silenced or resolved) named alertname, as their label sets.
func activeAlerts(t *testing.T, am, alertname string) []map[string]string {
	t.Helper()
	q := url.Values{"filter": {`alertname="` + alertname + `"`}, "active": {"true"}, "inhibited": {"false"}, "silenced": {"false"}}
	resp, err := http.Get("http://" + am + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		return nil // not up yet
	}
	defer resp.Body.Close()
	var alerts []struct{ Labels map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return nil
	}
	out := make([]map[string]string, len(alerts))
	for i, a := range alerts {
		out[i] = a.Labels
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["instance"]+out[i]["host"] < out[j]["instance"]+out[j]["host"] })
	return out
}

// waitAlerts polls Alertmanager until cond holds for the alerts named
// alertname, and returns them.
func waitAlerts(t *testing.T, am, alertname, what string, cond func([]map[string]string) bool) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(2 * daemonWait)
	var got []map[string]string
	for time.Now().Before(deadline) {
		if got = activeAlerts(t, am, alertname); cond(got) {
			return got
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: Alertmanager never had %s; last: %v", alertname, what, got)
	return nil
}

// TestFleetAlertsEndToEnd: two daemons on loopback, one of which cannot reach
// an endpoint; a real Prometheus scrapes both with the shipped rules and
// sends to a real Alertmanager with the shipped routing. The per-server alert
// fires for the blocked server's endpoint only, names the outcome and what to
// open, and clears once the endpoint is opened again.
func TestFleetAlertsEndToEnd(t *testing.T) {
	amBin := needTool(t, "/usr/bin/prometheus-alertmanager", "prometheus-alertmanager")
	l := newLab(t)
	good := l.httpsIP(t, "127.0.65.1")
	blocked := l.flaky(t, "127.0.65.2")
	blocked.down(t)
	daemonConfig := func(targets ...string) string {
		return fmt.Sprintf("version: 1\nschedule: {interval: 1s}\ntargets: [%s]\nresolvers: [127.0.0.1]\nproxy: none\nca_file: %s\ntimeout: 3s\n",
			`"`+strings.Join(targets, `", "`)+`"`, l.caFile)
	}
	open := startDaemon(t, daemonConfig(good.String()))
	shut := startDaemon(t, daemonConfig(good.String(), blocked.addr.String()))

	am := fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	startService(t, "alertmanager", amBin, "--config.file="+amConfigFile, "--storage.path="+testenv.TempDir(t),
		"--web.listen-address="+am, "--cluster.listen-address=", "--log.level=warn")

	// The shipped rules, with each for: cut to 2s so the test takes seconds,
	// not minutes; the expressions are the ones a fleet runs.
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	fast := regexp.MustCompile(`(?m)^(\s+for: )\S+$`).ReplaceAll(rules, []byte("${1}2s"))
	rulesCopy := filepath.Join(testenv.TempDir(t), "egressprobe-rules.yml")
	if err := os.WriteFile(rulesCopy, fast, 0o600); err != nil {
		t.Fatal(err)
	}
	startPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%s]
alerting: {alertmanagers: [{static_configs: [{targets: ["%s"]}]}]}
scrape_configs:
  - job_name: egressprobe
    static_configs: [{targets: ["%s", "%s"], labels: {site: lab}}]
`, rulesCopy, am, open.metrics, shut.metrics))

	waitAlerts(t, am, "EgressProbeEndpointDown", "one alert", func(a []map[string]string) bool { return len(a) > 0 })
	// A few more evaluations: the good endpoint must stay quiet on both.
	time.Sleep(3 * time.Second)
	down := activeAlerts(t, am, "EgressProbeEndpointDown")
	if len(down) != 1 {
		t.Fatalf("EgressProbeEndpointDown alerts: %v; want exactly one, for %s on %s", down, blocked.addr, shut.metrics)
	}
	a := down[0]
	want := map[string]string{"instance": shut.metrics, "host": blocked.addr.String(), "outcome": string(probe.TCPRefused),
		"path": "direct", "site": "lab", "severity": "warning"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("alert label %s = %q, want %q (alert %v)", k, a[k], v, a)
		}
	}
	if fleet := activeAlerts(t, am, "EgressProbeEndpointDownFleetWide"); len(fleet) != 0 {
		t.Errorf("a fleet-wide alert for one server's failure: %v", fleet)
	}

	blocked.up(t)
	waitAlerts(t, am, "EgressProbeEndpointDown", "no alert after the endpoint opened", func(a []map[string]string) bool { return len(a) == 0 })
	open.stop(t, 20*time.Second)
	shut.stop(t, 20*time.Second)
}
