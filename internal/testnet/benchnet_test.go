//go:build unix

package testnet

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

const benchNetTestEnv = "EGRESSPROBE_TESTNET_BENCHNET"

// TestBenchNetServers is the server process of TestBenchNet.
func TestBenchNetServers(t *testing.T) { ServeBenchNet(t, benchNetTestEnv) }

// TestBenchNet starts a small benchmark network in a child process and checks
// what the benchmarks rely on: every name resolves to its own server and
// handshakes against the CA, the targets file lists them, and the baseline
// counts probes that fail.
func TestBenchNet(t *testing.T) {
	const n = 5
	bn := StartBenchNet(t, "TestBenchNetServers", benchNetTestEnv, n, 0)
	if len(bn.Names) != n || len(bn.Addrs) != n {
		t.Fatalf("got %d names, %d addresses; want %d each", len(bn.Names), len(bn.Addrs), n)
	}
	for _, c := range []struct {
		name        string
		concurrency int
	}{{"one worker", 1}, {"more workers than names", n + 3}} {
		if failed := bn.Baseline(c.concurrency, 5*time.Second); failed != 0 {
			t.Errorf("%s: baseline: %d of %d probes failed, want 0", c.name, failed, n)
		}
	}
	list, err := os.ReadFile(bn.Targets)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(list))
	if first := fmt.Sprintf("%s:%d", bn.Names[0], bn.Addrs[0].Port()); len(lines) != n || lines[0] != first {
		t.Errorf("targets file %s = %q, want %d NAME:PORT lines, the first %s", bn.Targets, list, n, first)
	}
	if _, err := os.Stat(bn.CAFile); err != nil {
		t.Errorf("CA file: %v", err)
	}
	untrusted := *bn
	untrusted.Pool = x509.NewCertPool()
	if failed := untrusted.Baseline(2, 5*time.Second); failed != n {
		t.Errorf("baseline against an empty pool: %d of %d probes failed, want all", failed, n)
	}
}
