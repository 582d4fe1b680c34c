//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"egressprobe/daemon"
	"egressprobe/internal/testnet"
)

// needTool finds a tool the test starts: missing, the test skips with a
// message, or fails under CI=true.
func needTool(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing (Debian package %s; .ci/run installs it): %v", path, pkg, err)
		}
		t.Skipf("%s missing: apt-get install %s", path, pkg)
	}
	return path
}

// TestPrometheusScrapesDaemon: Debian's Prometheus, started by the test on
// its own port with its own config and data folder, scrapes a daemon probing
// one good and one refused endpoint, and answers PromQL queries with the
// values the probes earned.
func TestPrometheusScrapesDaemon(t *testing.T) {
	l := newLab(t)
	goodIP := "127.0.63.1"
	good := l.httpsIP(t, goodIP)
	refused := testnet.TCPClosed(t, "127.0.63.2")
	p := startDaemon(t, fmt.Sprintf(`version: 1
schedule: {interval: 1s}
targets: ["%s", "%s"]
resolvers: [127.0.0.1]
proxy: none
ca_file: %s
timeout: 3s
`, good, refused, l.caFile))
	p.waitFor(t, "a first cycle", 0, func(r *daemon.Record) bool { return r.Type == daemon.TypeResult })

	web := startPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: egressprobe
    static_configs: [{targets: ["%s"]}]
`, p.metrics))

	for _, q := range []struct{ query, want string }{
		{fmt.Sprintf(`egressprobe_probe_success{host="%s"}`, good), "1"},
		{fmt.Sprintf(`egressprobe_probe_success{host="%s"}`, refused), "0"},
		{fmt.Sprintf(`egressprobe_results_total{host="%s",outcome="tcp_timeout"}`, refused), "0"},
		{fmt.Sprintf(`egressprobe_consecutive_failures{host="%s"} > bool 0`, refused), "1"},
		{`count(egressprobe_build_info)`, "1"},
	} {
		if got := promQuery(t, web, q.query, q.want); got != q.want {
			t.Errorf("%s = %s, want %s", q.query, got, q.want)
		}
	}
	p.stop(t, 20*time.Second)
}

// promQuery asks Prometheus for an instant vector of one sample until it
// has the wanted value or the wait is over, and returns the last value.
func promQuery(t *testing.T, web, query, want string) string {
	t.Helper()
	deadline := time.Now().Add(daemonWait)
	last := "(no sample)"
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(query))
		if err == nil {
			var body struct {
				Status string
				Data   struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if derr == nil && len(body.Data.Result) == 1 {
				if v, ok := body.Data.Result[0].Value[1].(string); ok {
					last = v
					if v == want {
						return v
					}
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return last
}
