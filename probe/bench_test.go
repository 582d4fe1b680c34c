//go:build unix

package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"egressprobe/internal/testnet"
)

// The benchmarks race the engine against a minimal hand-written probe loop on
// the same 1,000 loopback TLS endpoints (see README, "Performance"). The
// servers run in a child process (this test binary re-executed as
// TestBenchServers), so the CPU measured with getrusage is the client's alone.
const (
	benchEndpoints   = 1000
	benchConcurrency = DefaultConcurrency
	benchTimeout     = 10 * time.Second
	benchServerEnv   = "EGRESSPROBE_BENCH_SERVERS" // "N,DELAY" in the child
)

// benchNet is what the child serves: a resolver answering each name with one
// 127.x address, and a TLS server for that name there.
type benchNet struct {
	DNS   string   `json:"dns"`
	CA    []byte   `json:"ca"`
	Names []string `json:"names"`
	Addrs []string `json:"addrs"` // "IP:PORT", the server for Names[i]
	pool  *x509.CertPool
}

// TestBenchServers is the child's side: it serves a benchNet until its stdin
// closes. It is skipped unless started by startBenchNet.
func TestBenchServers(t *testing.T) {
	spec := os.Getenv(benchServerEnv)
	if spec == "" {
		t.Skip("the benchmarks' server process; started by BenchmarkProbe*")
	}
	ns, ds, _ := strings.Cut(spec, ",")
	n, err := strconv.Atoi(ns)
	if err != nil {
		t.Fatalf("%s=%q: %v", benchServerEnv, spec, err)
	}
	delay, err := time.ParseDuration(ds)
	if err != nil {
		t.Fatalf("%s=%q: %v", benchServerEnv, spec, err)
	}
	lab := testnet.NewTLSLab(t)
	farm := lab.Farm(t, n, delay)
	zone := testnet.DNSZone{}
	out := benchNet{CA: lab.CA.PEM}
	for i, a := range farm {
		name := "h" + strconv.Itoa(i) + ".egress.test" // covered by the lab's *.egress.test leaf
		zone[name] = testnet.DNSName{A: []netip.Addr{a.Addr()}}
		out.Names, out.Addrs = append(out.Names, name), append(out.Addrs, a.String())
	}
	out.DNS = testnet.NewDNSServer(t, zone).Addr
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startBenchNet starts the server process for n endpoints whose TLS servers
// wait delay before the handshake.
func startBenchNet(b *testing.B, n int, delay time.Duration) *benchNet {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServers$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%s", benchServerEnv, n, delay))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	var bn benchNet
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&bn); err != nil {
		b.Fatalf("bench server process: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	bn.pool = x509.NewCertPool()
	bn.pool.AppendCertsFromPEM(bn.CA)
	return &bn
}

func (bn *benchNet) targets() []Target {
	ts := make([]Target, len(bn.Names))
	for i, name := range bn.Names {
		port := netip.MustParseAddrPort(bn.Addrs[i]).Port()
		ts[i] = Target{Host: name, Port: port, Resolver: bn.DNS, TLS: TLSOptions{Roots: bn.pool}, Timeout: benchTimeout}
	}
	return ts
}

// baseline is the minimal probe loop the engine is measured against: a worker
// pool; per name one A query (miekg/dns), a TCP dial and a verified TLS
// handshake. It returns how many probes failed.
func (bn *benchNet) baseline(concurrency int) int {
	jobs := make(chan int)
	var failed sync.Map
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			c := &dns.Client{Timeout: benchTimeout}
			for i := range jobs {
				if err := bn.probeOnce(c, i); err != nil {
					failed.Store(i, err)
				}
			}
		})
	}
	for i := range bn.Names {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	n := 0
	failed.Range(func(_, _ any) bool { n++; return true })
	return n
}

func (bn *benchNet) probeOnce(c *dns.Client, i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(bn.Names[i]), dns.TypeA)
	in, _, err := c.ExchangeContext(ctx, m, bn.DNS)
	if err != nil {
		return err
	}
	if len(in.Answer) == 0 {
		return fmt.Errorf("no answer for %s", bn.Names[i])
	}
	a, ok := in.Answer[0].(*dns.A)
	if !ok {
		return fmt.Errorf("not an A record: %v", in.Answer[0])
	}
	port := netip.MustParseAddrPort(bn.Addrs[i]).Port()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.A.String(), strconv.Itoa(int(port))))
	if err != nil {
		return err
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: bn.Names[i], RootCAs: bn.pool})
	return tc.HandshakeContext(ctx)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCost is what the rounds of one loop cost: wall and CPU time.
type loopCost struct{ wall, cpu time.Duration }

// run times one round of loop (one pass over all endpoints) and adds it up.
func (c *loopCost) run(b *testing.B, name string, loop func() int) {
	cpu0, wall0 := cpuTime(b), time.Now()
	failed := loop()
	c.wall += time.Since(wall0)
	c.cpu += cpuTime(b) - cpu0
	if failed > 0 {
		b.Fatalf("%s: %d probes failed", name, failed)
	}
}

func (c *loopCost) cpuMS(probes int) float64 {
	return float64(c.cpu.Microseconds()) / 1000 / float64(probes)
}

// BenchmarkProbe1000 races the engine against the baseline loop on 1,000
// loopback TLS endpoints. Each iteration runs both, in alternating order, so
// that both see the same machine (other processes, CPU frequency) and their
// ratio holds on a busy one: cpu-x-baseline is the engine's CPU per probe over
// the baseline's.
func BenchmarkProbe1000(b *testing.B) {
	bn := startBenchNet(b, benchEndpoints, 0)
	targets := bn.targets()
	baseline := func() int { return bn.baseline(benchConcurrency) }
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
	var base, eng loopCost
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			base.run(b, "baseline", baseline)
			eng.run(b, "engine", engine)
		} else {
			eng.run(b, "engine", engine)
			base.run(b, "baseline", baseline)
		}
		i++
	}
	probes := len(targets) * i
	b.ReportMetric(float64(probes)/base.wall.Seconds(), "baseline-probes/s")
	b.ReportMetric(float64(probes)/eng.wall.Seconds(), "engine-probes/s")
	b.ReportMetric(base.cpuMS(probes), "baseline-cpu-ms/probe")
	b.ReportMetric(eng.cpuMS(probes), "engine-cpu-ms/probe")
	b.ReportMetric(eng.cpuMS(probes)/base.cpuMS(probes), "cpu-x-baseline")
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
			targets := startBenchNet(b, benchEndpoints, delay).targets()
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
