//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

// BenchmarkCheckMemory measures `egressprobe check` at scale, the built
// binary on 1,000 and 10,000 loopback TLS endpoints at --concurrency 200: its
// peak RSS (the child's rusage maxrss), its CPU per probe and its wall time,
// against the baseline loop (internal/testnet) on the same endpoints in the
// same iteration, in alternating order. Every iteration is a full run whose
// report must say every endpoint is ok: -benchtime 2x is two runs back to
// back, the second among the first's TIME_WAIT sockets (issue 11: a bind per
// connection once made that one fail). The servers run in a child process, each
// endpoint on its own 127.x address and port. See docs/PERFORMANCE.md, "Memory
// at scale".
//
// With EGRESSPROBE_BENCH_BEFORE=BIN set (another build of egressprobe, say of
// the commit before a change) each iteration runs it too, on the same servers
// right after this build's run: the before-* metrics.
func BenchmarkCheckMemory(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchCheckMemory(b, n) })
	}
}

const (
	memoryBenchConcurrency = 200
	// memoryBenchTimeout is generous: on a loaded machine the servers' side
	// (one process, thousands of handshakes) is slow, and the deadline is not
	// what is measured.
	memoryBenchTimeout = 30 * time.Second
)

func benchCheckMemory(b *testing.B, n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Max < uint64(n)+1024 {
		// Go raises the soft limit to the hard one; the server process needs a
		// descriptor per endpoint.
		b.Fatalf("open-file limit %d is too low for %d endpoints: raise it (ulimit -Hn %d) or run the 1000 case only (-bench CheckMemory/1000$)", lim.Max, n, n+1024)
	}
	bn := testnet.StartBenchNet(b, "TestCheckBenchServers", checkBenchServerEnv, n, 0)
	bin := filepath.Join(testenv.TempDir(b), "egressprobe")
	buildBinary(b, bin, ".")
	out := filepath.Join(testenv.TempDir(b), "report.json")
	args := []string{"check", "--targets", bn.Targets, "--resolver", bn.DNS, "--ca-file", bn.CAFile, "--proxy", "none",
		"--timeout", memoryBenchTimeout.String(), "-o", "json", "--output-file", out, "--concurrency", strconv.Itoa(memoryBenchConcurrency)}
	baseline := func() testnet.Cost {
		return testnet.RunLoop(b, "baseline", func() int { return bn.Baseline(memoryBenchConcurrency, memoryBenchTimeout) })
	}
	baseline() // warm up the servers' side

	before := os.Getenv("EGRESSPROBE_BENCH_BEFORE")
	var chk, base, prev testnet.Cost
	var peak, prevPeak int64
	i := 0
	for b.Loop() {
		tw := timeWait(b)
		var run checkMemoryRun
		if i%2 == 0 {
			base.Add(baseline())
			run = runCheckMemory(b, bin, out, n, args)
		} else {
			run = runCheckMemory(b, bin, out, n, args)
			base.Add(baseline())
		}
		chk.Add(run.cost)
		peak = max(peak, run.maxRSS)
		logCheckMemory(b, "run "+strconv.Itoa(i+1), n, run, tw)
		if before != "" {
			tw := timeWait(b)
			run := runCheckMemory(b, before, out, n, args)
			prev.Add(run.cost)
			prevPeak = max(prevPeak, run.maxRSS)
			logCheckMemory(b, "before "+strconv.Itoa(i+1), n, run, tw)
		}
		i++
	}
	probes := n * i
	if before != "" {
		b.ReportMetric(float64(prevPeak)/1024, "before-peak-rss-MB")
		b.ReportMetric(testnet.MS(prev.CPU, probes), "before-cpu-ms/probe")
		b.ReportMetric(prev.Wall.Seconds()/base.Wall.Seconds(), "before-wall-x-baseline")
	}
	b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
	b.ReportMetric(testnet.MS(chk.CPU, probes), "cpu-ms/probe")
	b.ReportMetric(testnet.MS(base.CPU, probes), "baseline-cpu-ms/probe")
	b.ReportMetric(testnet.MS(chk.CPU, probes)/testnet.MS(base.CPU, probes), "cpu-x-baseline")
	b.ReportMetric(chk.Wall.Seconds()/base.Wall.Seconds(), "wall-x-baseline")
	b.ReportMetric(float64(probes)/chk.Wall.Seconds(), "probes/s")
	b.ReportMetric(float64(probes)/base.Wall.Seconds(), "baseline-probes/s")
}

func logCheckMemory(b *testing.B, what string, n int, run checkMemoryRun, tw int) {
	b.Logf("%s, %d endpoints: %d ok, 0 failed; peak RSS %.1f MB; CPU %.2f ms/probe; wall %.1fs; %d TCP sockets in TIME_WAIT before it; load average %s",
		what, n, n, float64(run.maxRSS)/1024, testnet.MS(run.cost.CPU, n), run.cost.Wall.Seconds(), tw, loadAverage())
}

// checkMemoryRun is one check run: its wall and CPU time and its peak
// resident set (KiB).
type checkMemoryRun struct {
	cost   testnet.Cost
	maxRSS int64
}

// runCheckMemory runs check once and reads its report: any endpoint not ok
// fails the benchmark with the report's count of each status (a false
// failure of the lab is as much a finding as a slow run).
func runCheckMemory(b *testing.B, bin, out string, n int, args []string) checkMemoryRun {
	b.Helper()
	cmd := childCommand(b, bin, nil, args...)
	cost, stderr, err := runCommand(cmd)
	data, rerr := os.ReadFile(out)
	if rerr != nil {
		b.Fatalf("check: %v (%v)\n%s", rerr, err, stderr)
	}
	var rep struct {
		Summary struct {
			Total    int            `json:"total"`
			OK       int            `json:"ok"`
			ByStatus map[string]int `json:"by_status"`
		} `json:"summary"`
	}
	if jerr := json.Unmarshal(data, &rep); jerr != nil || err != nil || rep.Summary.OK != n || rep.Summary.Total != n {
		b.Fatalf("check on %d endpoints: exit %v, report %v: %d results, %d ok, by status %v\n%s",
			n, err, jerr, rep.Summary.Total, rep.Summary.OK, rep.Summary.ByStatus, stderr)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatalf("check: no rusage for the child process")
	}
	return checkMemoryRun{cost: cost, maxRSS: ru.Maxrss} // KiB on Linux
}

// timeWait is how many TCP sockets of this network namespace are in
// TIME_WAIT (/proc/net/sockstat's "tw").
func timeWait(b *testing.B) int {
	b.Helper()
	data, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		b.Fatalf("TIME_WAIT count: %v", err)
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line) // "TCP: inuse 5 orphan 0 tw 20633 alloc 9 mem 1"
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if tw, err := strconv.Atoi(f[i+1]); err == nil && f[i] == "tw" {
				return tw
			}
		}
	}
	b.Fatalf("TIME_WAIT count: no TCP tw in /proc/net/sockstat:\n%s", data)
	return 0
}

// loadAverage is the first three fields of /proc/loadavg: the figures are
// only read beside the machine's load.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"

}
