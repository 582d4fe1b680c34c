//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

// BenchmarkCheck1000 measures the `egressprobe check` command end to end,
// process start to exit, on 1,000 loopback TLS endpoints, against a minimal
// in-process DNS+TCP+TLS loop on the same endpoints in the same iteration (see
// docs/PERFORMANCE.md, "check end to end"). The servers run in a child
// process (this test binary re-executed as TestCheckBenchServers), so neither
// figure counts their CPU.
const (
	checkBenchEndpoints   = 1000
	checkBenchConcurrency = 32
	checkBenchTimeout     = 10 * time.Second
	checkBenchServerEnv   = "EGRESSPROBE_CHECK_BENCH_SERVERS" // "N,DELAY" in the child
)

// TestCheckBenchServers is the server process of BenchmarkCheck1000: it
// serves a testnet.BenchNet until its stdin closes, and is skipped unless
// started by it.
func TestCheckBenchServers(t *testing.T) { testnet.ServeBenchNet(t, checkBenchServerEnv) }

// benchBins are the binary, built once as a user gets it (no race detector,
// no coverage), and two programs that split its start-up cost: one that only
// links cdncheck (its package inits run, nothing else) and an empty one (the
// Go runtime's start alone).
type benchBins struct{ egressprobe, cdncheckOnly, empty string }

func buildBench(b *testing.B) benchBins {
	b.Helper()
	dir := testenv.TempDir(b)
	bins := benchBins{filepath.Join(dir, "egressprobe"), filepath.Join(dir, "cdncheck-only"), filepath.Join(dir, "empty")}
	build := func(out, src string) { buildBinary(b, out, src) }
	build(bins.egressprobe, ".")
	for bin, imports := range map[string]string{bins.cdncheckOnly: `import _ "` + cdncheckPkg + `"`, bins.empty: ""} {
		src := filepath.Join(testenv.TempDir(b), "main.go")
		if err := os.WriteFile(src, []byte("package main\n\n"+imports+"\n\nfunc main() {}\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		build(bin, src) // built from here, with this module's go.mod: the cdncheck egressprobe links
	}
	return bins
}

// buildBinary builds src (a package or file, from this directory) into out,
// as a user gets it: no race detector, no coverage.
func buildBinary(b *testing.B, out, src string) {
	b.Helper()
	if msg, err := exec.Command("go", "build", "-o", out, src).CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", src, err, msg)
	}
}

// runChild runs bin with a clean environment (no proxy variables, an empty
// cache: no service-tag feed) and returns its wall time, its CPU time
// (user+system, from its rusage) and its stderr; any exit status but 0 fails
// the benchmark.
func runChild(b *testing.B, bin string, env []string, args ...string) (testnet.Cost, string) {
	b.Helper()
	c, stderr, err := runCommand(childCommand(b, bin, env, args...))
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr)
	}
	return c, stderr
}

// runCommand runs cmd and returns its wall time, its CPU time (user+system,
// from its rusage), its stderr and how it ended.
func runCommand(cmd *exec.Cmd) (testnet.Cost, string, error) {
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	c := testnet.Cost{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		c.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return c, errb.String(), err
}

// childCommand is bin with args in a clean environment: no proxy variables,
// an empty cache (no service-tag feed), env added.
func childCommand(b *testing.B, bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	home := testenv.TempDir(b)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CACHE_HOME=" + home}, env...)
	return cmd
}

// initLine is one line of GODEBUG=inittrace=1: a package's init and its
// wall-clock time.
var initLine = regexp.MustCompile(`(?m)^init (\S+) @\S+ ms, ([0-9.]+) ms clock`)

// initClock sums the init wall-clock time of all packages in an inittrace.
func initClock(trace string) time.Duration {
	var all time.Duration
	for _, m := range initLine.FindAllStringSubmatch(trace, -1) {
		if clock, err := strconv.ParseFloat(m[2], 64); err == nil {
			all += time.Duration(clock * float64(time.Millisecond))
		}
	}
	return all
}

const cdncheckPkg = "github.com/projectdiscovery/cdncheck"

// startRuns is how many times each iteration starts each start-up program:
// a start costs tens of milliseconds, too little to read from one run.
const startRuns = 3

func BenchmarkCheck1000(b *testing.B) {
	bn := testnet.StartBenchNet(b, "TestCheckBenchServers", checkBenchServerEnv, checkBenchEndpoints, 0)
	bins := buildBench(b)
	args := []string{"check", "--targets", bn.Targets, "--resolver", bn.DNS, "--ca-file", bn.CAFile,
		"--proxy", "none", "-o", "json", "--output-file", os.DevNull, "--concurrency", strconv.Itoa(checkBenchConcurrency)}
	check := func() testnet.Cost {
		c, _ := runChild(b, bins.egressprobe, nil, args...)
		return c
	}
	baseline := func() testnet.Cost {
		return testnet.RunLoop(b, "baseline", func() int { return bn.Baseline(checkBenchConcurrency, checkBenchTimeout) })
	}
	// Warm up: the page cache holds the binaries, the resolver has answered.
	check()
	baseline()

	var chk, base, version, cdnOnly, empty testnet.Cost
	var initAll time.Duration
	i := 0
	for b.Loop() {
		// Both contenders in alternating order, so both see the same machine.
		if i%2 == 0 {
			base.Add(baseline())
			chk.Add(check())
		} else {
			chk.Add(check())
			base.Add(baseline())
		}
		// The fixed cost of a process start: `version` does no work past the
		// package inits. The cdncheck-only program minus the empty one is
		// what linking cdncheck would cost each start (why egressprobe embeds
		// its ranges instead, internal/providers).
		for range startRuns {
			c, _ := runChild(b, bins.egressprobe, nil, "version")
			version.Add(c)
			c, _ = runChild(b, bins.cdncheckOnly, nil)
			cdnOnly.Add(c)
			c, _ = runChild(b, bins.empty, nil)
			empty.Add(c)
		}
		_, trace := runChild(b, bins.egressprobe, []string{"GODEBUG=inittrace=1"}, "version")
		initAll += initClock(trace)
		i++
	}
	probes, starts := checkBenchEndpoints*i, startRuns*i
	b.ReportMetric(testnet.MS(chk.CPU, probes), "cpu-ms/probe")
	b.ReportMetric(testnet.MS(base.CPU, probes), "baseline-cpu-ms/probe")
	b.ReportMetric(testnet.MS(chk.CPU, probes)/testnet.MS(base.CPU, probes), "cpu-x-baseline")
	b.ReportMetric(float64(probes)/chk.Wall.Seconds(), "probes/s")
	b.ReportMetric(float64(probes)/base.Wall.Seconds(), "baseline-probes/s")
	b.ReportMetric(testnet.MS(version.CPU, starts), "start-cpu-ms")
	b.ReportMetric(testnet.MS(cdnOnly.CPU-empty.CPU, starts), "start-cdncheck-cpu-ms")
	b.ReportMetric(testnet.MS(empty.CPU, starts), "start-runtime-cpu-ms")
	b.ReportMetric(testnet.MS(initAll, i), "init-clock-ms")
	b.ReportMetric(testnet.MS(chk.CPU-version.CPU/startRuns, probes), "cpu-ms/probe-less-start")
}
