//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"egressprobe/internal/testnet"
)

// BenchmarkCheck1000 measures the `egressprobe check` command end to end,
// process start to exit, on 1,000 loopback TLS endpoints, against a minimal
// in-process DNS+TCP+TLS loop on the same endpoints in the same iteration (see
// README, "Performance → check end to end"). The servers run in a child
// process (this test binary re-executed as TestCheckBenchServers), so neither
// figure counts their CPU.
const (
	checkBenchEndpoints   = 1000
	checkBenchConcurrency = 32
	checkBenchTimeout     = 10 * time.Second
	checkBenchServerEnv   = "EGRESSPROBE_CHECK_BENCH_SERVERS" // the endpoint count, in the child
)

// checkBenchNet is what the server process serves and wrote for the client:
// a resolver answering Names[i] with the address of Addrs[i], the CA file
// and a targets file listing every NAME:PORT.
type checkBenchNet struct {
	DNS     string   `json:"dns"`
	CAFile  string   `json:"ca_file"`
	Targets string   `json:"targets"`
	Names   []string `json:"names"`
	Addrs   []string `json:"addrs"` // "IP:PORT"
	pool    *x509.CertPool
}

// TestCheckBenchServers is the server process of BenchmarkCheck1000: it
// serves until its stdin closes, and is skipped unless started by it.
func TestCheckBenchServers(t *testing.T) {
	spec := os.Getenv(checkBenchServerEnv)
	if spec == "" {
		t.Skip("the server process of BenchmarkCheck1000; started by it")
	}
	n, err := strconv.Atoi(spec)
	if err != nil {
		t.Fatalf("%s=%q: %v", checkBenchServerEnv, spec, err)
	}
	lab := testnet.NewTLSLab(t)
	zone := testnet.DNSZone{}
	out := checkBenchNet{CAFile: lab.CA.WritePEM(t), Targets: filepath.Join(t.TempDir(), "targets.txt")}
	var list strings.Builder
	for i, a := range lab.Farm(t, n, 0) {
		name := "h" + strconv.Itoa(i) + ".egress.test" // covered by the lab's *.egress.test leaf
		zone[name] = testnet.DNSName{A: []netip.Addr{a.Addr()}}
		out.Names, out.Addrs = append(out.Names, name), append(out.Addrs, a.String())
		fmt.Fprintf(&list, "%s:%d\n", name, a.Port())
	}
	if err := os.WriteFile(out.Targets, []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out.DNS = testnet.NewDNSServer(t, zone).Addr
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startCheckBenchNet starts the server process for n endpoints.
func startCheckBenchNet(b *testing.B, n int) *checkBenchNet {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckBenchServers$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), checkBenchServerEnv+"="+strconv.Itoa(n))
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
	var bn checkBenchNet
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&bn); err != nil {
		b.Fatalf("bench server process: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	pem, err := os.ReadFile(bn.CAFile)
	if err != nil {
		b.Fatal(err)
	}
	bn.pool = x509.NewCertPool()
	bn.pool.AppendCertsFromPEM(pem)
	return &bn
}

// baseline is the minimal probe loop `check` is raced against: a worker pool;
// per name one A query (miekg/dns), a TCP dial and a verified TLS handshake.
// It returns how many probes failed.
func (bn *checkBenchNet) baseline() int {
	jobs := make(chan int)
	var failed atomic.Int64
	done := make(chan struct{})
	for range checkBenchConcurrency {
		go func() {
			defer func() { done <- struct{}{} }()
			c := &dns.Client{Timeout: checkBenchTimeout}
			for i := range jobs {
				if bn.probeOnce(c, i) != nil {
					failed.Add(1)
				}
			}
		}()
	}
	for i := range bn.Names {
		jobs <- i
	}
	close(jobs)
	for range checkBenchConcurrency {
		<-done
	}
	return int(failed.Load())
}

func (bn *checkBenchNet) probeOnce(c *dns.Client, i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), checkBenchTimeout)
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
	_, port, _ := net.SplitHostPort(bn.Addrs[i])
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.A.String(), port))
	if err != nil {
		return err
	}
	defer conn.Close()
	return tls.Client(conn, &tls.Config{ServerName: bn.Names[i], RootCAs: bn.pool}).HandshakeContext(ctx)
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cost is the wall and CPU time of a run, or of several added up.
type cost struct{ wall, cpu time.Duration }

func (c *cost) add(d cost) { c.wall, c.cpu = c.wall+d.wall, c.cpu+d.cpu }

// ms is d in milliseconds, per n.
func ms(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }

// benchBins are the binary, built once as a user gets it (no race detector,
// no coverage), and two programs that split its start-up cost: one that only
// links cdncheck (its package inits run, nothing else) and an empty one (the
// Go runtime's start alone).
type benchBins struct{ egressprobe, cdncheckOnly, empty string }

func buildBench(b *testing.B) benchBins {
	b.Helper()
	dir := b.TempDir()
	bins := benchBins{filepath.Join(dir, "egressprobe"), filepath.Join(dir, "cdncheck-only"), filepath.Join(dir, "empty")}
	build := func(out, src string) {
		if out, err := exec.Command("go", "build", "-o", out, src).CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", src, err, out)
		}
	}
	build(bins.egressprobe, ".")
	for bin, imports := range map[string]string{bins.cdncheckOnly: `import _ "` + cdncheckPkg + `"`, bins.empty: ""} {
		src := filepath.Join(b.TempDir(), "main.go")
		if err := os.WriteFile(src, []byte("package main\n\n"+imports+"\n\nfunc main() {}\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		build(bin, src) // built from here, with this module's go.mod: the cdncheck egressprobe links
	}
	return bins
}

// runChild runs bin with a clean environment (no proxy variables, an empty
// cache: no service-tag feed) and returns its wall time, its CPU time
// (user+system, from its rusage) and its stderr; any exit status but 0 fails
// the benchmark.
func runChild(b *testing.B, bin string, env []string, args ...string) (cost, string) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	home := b.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CACHE_HOME=" + home}, env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, errb.String())
	}
	return cost{wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, errb.String()
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
	bn := startCheckBenchNet(b, checkBenchEndpoints)
	bins := buildBench(b)
	args := []string{"check", "--targets", bn.Targets, "--resolver", bn.DNS, "--ca-file", bn.CAFile,
		"--proxy", "none", "-o", "json", "--output-file", os.DevNull, "--concurrency", strconv.Itoa(checkBenchConcurrency)}
	check := func() cost {
		c, _ := runChild(b, bins.egressprobe, nil, args...)
		return c
	}
	baseline := func() cost {
		cpu0, wall0 := selfCPU(b), time.Now()
		if failed := bn.baseline(); failed > 0 {
			b.Fatalf("baseline: %d probes failed", failed)
		}
		return cost{time.Since(wall0), selfCPU(b) - cpu0}
	}
	// Warm up: the page cache holds the binaries, the resolver has answered.
	check()
	baseline()

	var chk, base, version, cdnOnly, empty cost
	var initAll time.Duration
	i := 0
	for b.Loop() {
		// Both contenders in alternating order, so both see the same machine.
		if i%2 == 0 {
			base.add(baseline())
			chk.add(check())
		} else {
			chk.add(check())
			base.add(baseline())
		}
		// The fixed cost of a process start: `version` does no work past the
		// package inits. The cdncheck-only program minus the empty one is
		// what linking cdncheck would cost each start (why egressprobe embeds
		// its ranges instead, internal/providers).
		for range startRuns {
			c, _ := runChild(b, bins.egressprobe, nil, "version")
			version.add(c)
			c, _ = runChild(b, bins.cdncheckOnly, nil)
			cdnOnly.add(c)
			c, _ = runChild(b, bins.empty, nil)
			empty.add(c)
		}
		_, trace := runChild(b, bins.egressprobe, []string{"GODEBUG=inittrace=1"}, "version")
		initAll += initClock(trace)
		i++
	}
	probes, starts := checkBenchEndpoints*i, startRuns*i
	b.ReportMetric(ms(chk.cpu, probes), "cpu-ms/probe")
	b.ReportMetric(ms(base.cpu, probes), "baseline-cpu-ms/probe")
	b.ReportMetric(ms(chk.cpu, probes)/ms(base.cpu, probes), "cpu-x-baseline")
	b.ReportMetric(float64(probes)/chk.wall.Seconds(), "probes/s")
	b.ReportMetric(float64(probes)/base.wall.Seconds(), "baseline-probes/s")
	b.ReportMetric(ms(version.cpu, starts), "start-cpu-ms")
	b.ReportMetric(ms(cdnOnly.cpu-empty.cpu, starts), "start-cdncheck-cpu-ms")
	b.ReportMetric(ms(empty.cpu, starts), "start-runtime-cpu-ms")
	b.ReportMetric(ms(initAll, i), "init-clock-ms")
	b.ReportMetric(ms(chk.cpu-version.cpu/startRuns, probes), "cpu-ms/probe-less-start")
}
