//go:build unix

package probe

import (
	"context"
	"math"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// The benchmarks race the engine against a minimal hand-written probe loop on
// the same 1,000 loopback TLS endpoints (see docs/PERFORMANCE.md). The
// servers run in a child process (this test binary re-executed as
// TestBenchServers), so the CPU measured with getrusage is the client's alone.
const (
	benchEndpoints   = 1000
	benchConcurrency = DefaultConcurrency
	benchTimeout     = 10 * time.Second
	benchServerEnv   = "EGRESSPROBE_BENCH_SERVERS" // "N,DELAY" in the child
)

// TestBenchServers is the child's side: it serves a testnet.BenchNet until its
// stdin closes. It is skipped unless started by startBenchNet.
func TestBenchServers(t *testing.T) { testnet.ServeBenchNet(t, benchServerEnv) }

// startBenchNet starts the server process for n endpoints whose TLS servers
// wait delay before the handshake.
func startBenchNet(b *testing.B, n int, delay time.Duration) *testnet.BenchNet {
	b.Helper()
	return testnet.StartBenchNet(b, "TestBenchServers", benchServerEnv, n, delay)
}

// benchTargets is the engine's view of bn: one target per name.
func benchTargets(bn *testnet.BenchNet) []Target {
	ts := make([]Target, len(bn.Names))
	for i, name := range bn.Names {
		ts[i] = Target{Host: name, Port: bn.Addrs[i].Port(), Resolver: bn.DNS, TLS: TLSOptions{Roots: bn.Pool}, Timeout: benchTimeout}
	}
	return ts
}

// BenchmarkProbe1000 races the engine against the baseline loop on 1,000
// loopback TLS endpoints. Each iteration runs both, in alternating order, so
// that both see the same machine (other processes, CPU frequency) and their
// ratio holds on a busy one: cpu-x-baseline is the engine's CPU per probe over
// the baseline's.
func BenchmarkProbe1000(b *testing.B) {
	bn := startBenchNet(b, benchEndpoints, 0)
	targets := benchTargets(bn)
	baseline := func() int { return bn.Baseline(benchConcurrency, benchTimeout) }
	engine := func() int {
		failed := 0
		for _, o := range Run(context.Background(), targets, RunOptions{Concurrency: benchConcurrency}) {
			if o.Outcome != OK {
				failed++
			}
		}
		return failed
	}
	baseline() // warm up: connections, caches, the resolver's first answers
	engine()
	var base, eng testnet.Cost
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			base.Add(testnet.RunLoop(b, "baseline", baseline))
			eng.Add(testnet.RunLoop(b, "engine", engine))
		} else {
			eng.Add(testnet.RunLoop(b, "engine", engine))
			base.Add(testnet.RunLoop(b, "baseline", baseline))
		}
		i++
	}
	probes := len(targets) * i
	b.ReportMetric(float64(probes)/base.Wall.Seconds(), "baseline-probes/s")
	b.ReportMetric(float64(probes)/eng.Wall.Seconds(), "engine-probes/s")
	b.ReportMetric(testnet.MS(base.CPU, probes), "baseline-cpu-ms/probe")
	b.ReportMetric(testnet.MS(eng.CPU, probes), "engine-cpu-ms/probe")
	b.ReportMetric(testnet.MS(eng.CPU, probes)/testnet.MS(base.CPU, probes), "cpu-x-baseline")
}

// BenchmarkOverlap shows that probes overlap: the TLS servers wait a fixed
// delay before their handshake, so the delay adds about
// ceil(N/concurrency) x delay to a run ("ideal-ms"), not N x delay
// ("serial-ms"). "added-ms" is the run's wall time minus that of the same run
// without the delay (the first sub-benchmark), which on a loaded machine is
// CPU-bound on its own.
func BenchmarkOverlap(b *testing.B) {
	var undelayed time.Duration
	for _, delay := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond} {
		b.Run("delay="+delay.String(), func(b *testing.B) {
			targets := benchTargets(startBenchNet(b, benchEndpoints, delay))
			round := func() {
				for _, o := range Run(context.Background(), targets, RunOptions{Concurrency: benchConcurrency}) {
					if o.Outcome != OK {
						b.Fatalf("%s: %q %s", o.Target.Host, o.Outcome, o.Error)
					}
				}
			}
			round() // warm up
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				round()
			}
			wall := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(wall.Milliseconds()), "wall-ms")
			if delay == 0 {
				undelayed = wall
				return
			}
			ideal := time.Duration(math.Ceil(float64(len(targets))/benchConcurrency)) * delay
			b.ReportMetric(float64(ideal.Milliseconds()), "ideal-ms")
			b.ReportMetric(float64((time.Duration(len(targets)) * delay).Milliseconds()), "serial-ms")
			if undelayed > 0 {
				b.ReportMetric(float64((wall - undelayed).Milliseconds()), "added-ms")
			}
		})
	}
}
