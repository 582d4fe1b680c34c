//go:build unix

// The benchmark network is unix-only, as the benchmarks that use it are: the
// CPU figures come from getrusage.

package testnet

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"egressprobe/internal/testenv"
)

// BenchNet is the network the probe benchmarks race on: one resolver
// answering Names[i] with the address of Addrs[i], where a TLS server for that
// name listens (TLSLab.Farm, each on its own 127.x address on Linux). It is
// served by a child process, this test binary re-executed, so the CPU a
// benchmark measures is the client's alone.
type BenchNet struct {
	DNS     string           `json:"dns"`     // the resolver, "127.0.0.1:PORT"
	CA      []byte           `json:"ca"`      // the test CA, PEM
	CAFile  string           `json:"ca_file"` // the same, as a file (for --ca-file)
	Targets string           `json:"targets"` // a file of NAME:PORT lines, one per server (for --targets)
	Names   []string         `json:"names"`
	Addrs   []netip.AddrPort `json:"addrs"` // the server for Names[i]
	Pool    *x509.CertPool   `json:"-"`     // the CA, for verifying in process
}

// ServeBenchNet is the child's side of StartBenchNet, to be called from a test
// named as StartBenchNet's test argument: it serves a BenchNet until its stdin
// closes, and skips the test unless the environment variable env is set (it
// is only by StartBenchNet). With ",trust" after the delay in env's value,
// the servers' leaf comes from a PKI whose OCSP responder and CRL are served
// on loopback too, and names them: a trust path to fetch.
func ServeBenchNet(t *testing.T, env string) {
	t.Helper()
	spec := os.Getenv(env)
	if spec == "" {
		t.Skipf("testnet: a benchmark's server process; started by the benchmark with %s set", env)
	}
	ns, ds, _ := strings.Cut(spec, ",")
	ds, trust := strings.CutSuffix(ds, ",trust")
	n, err := strconv.Atoi(ns)
	if err != nil {
		t.Fatalf("testnet: %s=%q: endpoint count: %v", env, spec, err)
	}
	delay, err := time.ParseDuration(ds)
	if err != nil {
		t.Fatalf("testnet: %s=%q: server delay: %v", env, spec, err)
	}
	lab := NewTLSLab(t)
	ca, cert := lab.CA, lab.good
	if trust {
		pki := NewPKI(t)
		ca = pki.Root
		cert = pki.Issuing.Leaf(t, []string{lab.Host, "*.egress.test"}, nil, LeafOptions{OCSP: []string{pki.URL(PathOCSP)}, CRL: []string{pki.URL(PathCRL)}})
	}
	zone := DNSZone{}
	out := BenchNet{CA: ca.PEM, CAFile: ca.WritePEM(t), Targets: filepath.Join(testenv.TempDir(t), "targets.txt")}
	var list strings.Builder
	for i, a := range FarmOf(t, n, delay, cert) {
		name := "h" + strconv.Itoa(i) + ".egress.test" // covered by the lab's *.egress.test leaf
		zone[name] = DNSName{A: []netip.Addr{a.Addr()}}
		out.Names, out.Addrs = append(out.Names, name), append(out.Addrs, a)
		fmt.Fprintf(&list, "%s:%d\n", name, a.Port())
	}
	if err := os.WriteFile(out.Targets, []byte(list.String()), 0o600); err != nil {
		t.Fatalf("testnet: write the benchmark's targets file: %v", err)
	}
	out.DNS = NewDNSServer(t, zone).Addr
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		t.Fatalf("testnet: hand the benchmark network to the client: %v", err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// StartBenchNet starts the server process for n endpoints whose TLS servers
// wait delay before the handshake: this test binary re-executed to run only
// test, which calls ServeBenchNet with the same env. The process ends with tb.
func StartBenchNet(tb testing.TB, test, env string, n int, delay time.Duration) *BenchNet {
	tb.Helper()
	return startBenchNet(tb, test, env, fmt.Sprintf("%d,%s", n, delay))
}

// StartTrustBenchNet is StartBenchNet whose servers' chain names an OCSP
// responder and a CRL, served by the same process (see ServeBenchNet).
func StartTrustBenchNet(tb testing.TB, test, env string, n int) *BenchNet {
	tb.Helper()
	return startBenchNet(tb, test, env, fmt.Sprintf("%d,0s,trust", n))
}

func startBenchNet(tb testing.TB, test, env, spec string) *BenchNet {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), env+"="+spec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testnet: start the bench server process %s: %v", os.Args[0], err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	var bn BenchNet
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&bn); err != nil {
		tb.Fatalf("testnet: bench server process (%s, %s): %v", test, env, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	bn.Pool = x509.NewCertPool()
	if !bn.Pool.AppendCertsFromPEM(bn.CA) {
		tb.Fatalf("testnet: bench server process (%s): no CA certificate in its answer", test)
	}
	return &bn
}

// Baseline is the minimal probe loop the benchmarks measure against: a pool
// of concurrency workers; per name one A query (miekg/dns), a TCP dial and a
// verified TLS handshake, each probe within timeout. It returns how many
// probes failed.
func (bn *BenchNet) Baseline(concurrency int, timeout time.Duration) int {
	jobs := make(chan int)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			c := &dns.Client{Timeout: timeout}
			for i := range jobs {
				if bn.probeOnce(c, i, timeout) != nil {
					failed.Add(1)
				}
			}
		})
	}
	for i := range bn.Names {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return int(failed.Load())
}

func (bn *BenchNet) probeOnce(c *dns.Client, i int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
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
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.A.String(), strconv.Itoa(int(bn.Addrs[i].Port()))))
	if err != nil {
		return err
	}
	defer conn.Close()
	return tls.Client(conn, &tls.Config{ServerName: bn.Names[i], RootCAs: bn.Pool}).HandshakeContext(ctx)
}

// Cost is the wall and CPU time of a run, or of several added up.
type Cost struct{ Wall, CPU time.Duration }

// Add adds d to c.
func (c *Cost) Add(d Cost) { c.Wall, c.CPU = c.Wall+d.Wall, c.CPU+d.CPU }

// MS is d in milliseconds, per n (a per-probe metric).
func MS(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }

// SelfCPU is this process's user+system CPU time so far (getrusage).
func SelfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("testnet: getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RunLoop runs one round of an in-process probe loop, which returns how many
// probes failed, and returns its wall time and this process's CPU time over
// it; any failed probe fails tb, naming the loop.
func RunLoop(tb testing.TB, name string, loop func() int) Cost {
	tb.Helper()
	cpu0, wall0 := SelfCPU(tb), time.Now()
	failed := loop()
	c := Cost{time.Since(wall0), SelfCPU(tb) - cpu0}
	if failed > 0 {
		tb.Fatalf("%s: %d probes failed", name, failed)
	}
	return c
}
