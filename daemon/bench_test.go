//go:build unix

package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/probe"
)

// BenchmarkCycle100 is the daemon's cost per cycle of 100 loopback HTTPS
// targets (TLS handshakes included, the servers in this process too), run
// back to back with a fake clock, records to a rotated file and metrics on:
// cpu-ms/cycle is this process's CPU per cycle; the ratio to a bare
// probe.Run of the same plan is the daemon's own overhead.
//
//	go test ./daemon -run '^$' -bench Cycle100 -benchtime 50x
func BenchmarkCycle100(b *testing.B) {
	ca := testnet.NewCA(b, "bench CA")
	var targets []string
	for i := range 100 {
		targets = append(targets, `"`+startTurnServer(b, ca, testnet.LoopbackIP(300+i)).addr+`"`)
	}
	dir := testenv.TempDir(b)
	cfgFile := filepath.Join(dir, "daemon.yaml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`version: 1
schedule: {interval: 60s}
targets: [%s]
resolvers: [127.0.0.1]
proxy: none
timeout: 5s
ca_file: '%s'
service_tags: {refresh: 0s, cache_dir: '%s'}
log: {file: '%s', summary_every: 15m}
metrics: {listen: 127.0.0.1:0}
`, strings.Join(targets, ", "), ca.WritePEM(b), filepath.Join(dir, "cache"), filepath.Join(dir, "probes.jsonl"))), 0o600); err != nil {
		b.Fatal(err)
	}
	clock := &stepClock{t: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	d := newStepDaemon(b, cfgFile, clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cpu0, daemonCPU time.Duration
	clock.onWait = func() {
		switch d.cycle {
		case 1: // the first cycle warms up (tzdata, x509 roots): not counted
			b.ResetTimer()
			cpu0 = testnet.SelfCPU(b)
		case uint64(b.N) + 1:
			b.StopTimer()
			daemonCPU = testnet.SelfCPU(b) - cpu0
			cancel()
		}
	}
	if err := d.Run(ctx); err != nil {
		b.Fatal(err)
	}
	// The baseline: the same plan through probe.Run and the report, bare.
	p := d.cur.plan
	cpu0 = testnet.SelfCPU(b)
	for range b.N {
		p.Report(time.Now(), time.Now(), probe.Run(context.Background(), p.Targets, p.RunOptions(nil)), d.cur.feed.Current())
	}
	bare := testnet.SelfCPU(b) - cpu0
	b.ReportMetric(testnet.MS(daemonCPU, b.N), "cpu-ms/cycle")
	b.ReportMetric(float64(daemonCPU)/float64(bare), "x-bare-run")
	for _, r := range parseRecordsFile(b, filepath.Join(dir, "probes.jsonl")) {
		if r.Type == TypeResult && r.Result.Status != "ok" && r.Result.Status != "cancelled" {
			b.Fatalf("a result failed: %+v", r.Result)
		}
	}
}

func parseRecordsFile(b *testing.B, file string) []Record {
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	return parseRecords(b, string(data))
}
