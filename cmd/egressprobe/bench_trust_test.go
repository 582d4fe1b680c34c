//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/report"
)

// checkTrustBenchServerEnv starts the server process of
// BenchmarkCheckTrustPath1000.
const checkTrustBenchServerEnv = "EGRESSPROBE_CHECK_TRUST_BENCH_SERVERS"

// TestCheckTrustBenchServers is the server process of
// BenchmarkCheckTrustPath1000, skipped unless started by it.
func TestCheckTrustBenchServers(t *testing.T) { testnet.ServeBenchNet(t, checkTrustBenchServerEnv) }

// BenchmarkCheckTrustPath1000 is the trust path's cost end to end: the
// built binary on 1,000 loopback TLS endpoints whose one chain names an OCSP
// responder and a CRL (served beside them), with --trust-path check and off
// in the same iteration, in alternating order, and the baseline loop of
// BenchmarkCheck1000 (docs/PERFORMANCE.md, "The trust path").
func BenchmarkCheckTrustPath1000(b *testing.B) {
	bn := testnet.StartTrustBenchNet(b, "TestCheckTrustBenchServers", checkTrustBenchServerEnv, checkBenchEndpoints)
	bins := buildBench(b)
	out := filepath.Join(testenv.TempDir(b), "report.json")
	check := func(mode string) testnet.Cost {
		c, _ := runChild(b, bins.egressprobe, nil, "check", "--targets", bn.Targets, "--resolver", bn.DNS, "--ca-file", bn.CAFile,
			"--proxy", "none", "-o", "json", "--output-file", out, "--concurrency", strconv.Itoa(checkBenchConcurrency), "--trust-path", mode)
		return c
	}
	baseline := func() testnet.Cost {
		return testnet.RunLoop(b, "baseline", func() int { return bn.Baseline(checkBenchConcurrency, checkBenchTimeout) })
	}
	// Warm up, and check what a run with the trust path fetches: the two
	// URLs once each, for every endpoint.
	check("check")
	var rep report.Report
	data, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(data, &rep)
	}
	if err != nil {
		b.Fatal(err)
	}
	if len(rep.TrustPath) != 2 || rep.Summary.TrustPath.OK != 2 || len(rep.TrustPath[0].UsedBy) != checkBenchEndpoints {
		b.Fatalf("the trust path of the warm-up run: %+v", rep.Summary.TrustPath)
	}
	check("off")
	baseline()

	var on, off, base testnet.Cost
	i := 0
	for b.Loop() {
		runs := []func(){func() { on.Add(check("check")) }, func() { off.Add(check("off")) }, func() { base.Add(baseline()) }}
		for k := range runs {
			runs[(k+i)%len(runs)]()
		}
		i++
	}
	probes := checkBenchEndpoints * i
	b.ReportMetric(on.Wall.Seconds()/off.Wall.Seconds(), "wall-on-x-off")
	b.ReportMetric(float64(on.CPU)/float64(off.CPU), "cpu-on-x-off")
	b.ReportMetric(testnet.MS(on.CPU, probes)/testnet.MS(base.CPU, probes), "cpu-on-x-baseline")
	b.ReportMetric(testnet.MS(off.CPU, probes)/testnet.MS(base.CPU, probes), "cpu-off-x-baseline")
	b.ReportMetric(float64(probes)/on.Wall.Seconds(), "on-probes/s")
	b.ReportMetric(float64(probes)/off.Wall.Seconds(), "off-probes/s")
}
