package daemon

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/plan"
)

// stepClock is a fake clock for the loop: every wait passes at once and
// moves time on by what was asked, so cycles run back to back, each at its
// scheduled time. onWait runs in the loop's goroutine between cycles.
type stepClock struct {
	mu     sync.Mutex
	t      time.Time
	onWait func()
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *stepClock) After(d time.Duration) (<-chan time.Time, func()) {
	if c.onWait != nil {
		c.onWait()
	}
	c.mu.Lock()
	c.t = c.t.Add(max(d, 0))
	now := c.t
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch, func() {}
}

// turnServer is a TLS server on a loopback address that fails in turns:
// while failing it drops each connection at once (tls_handshake_failed).
type turnServer struct {
	addr    string
	failing atomic.Bool
}

func startTurnServer(t testing.TB, ca *testnet.CA, ip string) *turnServer {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cert := ca.Leaf(t, nil, []net.IP{net.ParseIP(ip)}, testnet.LeafOptions{})
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	s := &turnServer{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if s.failing.Load() {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				_ = tc.Handshake()
				buf := make([]byte, 1)
				_, _ = tc.Read(buf) // until the probe hangs up
			}()
		}
	}()
	return s
}

// newStepDaemon is a daemon on cfgFile whose time is clock, with no
// environment (no proxy variables) and no jitter.
func newStepDaemon(t testing.TB, cfgFile string, clock *stepClock) *Daemon {
	t.Helper()
	d, err := New(Deps{ConfigFile: cfgFile, Getenv: os.Getenv, PlanEnv: plan.SystemEnv(func(string) string { return "" }),
		Clock: clock, Rand: func() float64 { return 0 }, Log: slog.New(slog.DiscardHandler), Hostname: "test", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// resources is what must not grow over cycles.
type resources struct {
	cycle      uint64
	goroutines int
	files      int // -1 where not counted
	heap       uint64
}

func measure(cycle uint64) resources {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return resources{cycle: cycle, goroutines: runtime.NumGoroutine(), files: openFiles(), heap: ms.HeapAlloc}
}

// openFiles counts this process's open file descriptors (Linux), -1
// elsewhere (under Wine /proc/self/fd is Wine's own, not the Windows
// process's handles).
func openFiles() int {
	if runtime.GOOS == "windows" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestSoak runs 2,000 cycles of the daemon, in-process with a fake clock
// (so back to back), against loopback servers that fail in turns, with the
// log file and the metrics server on: goroutines and open files come back to
// their baseline after the stop, and from cycle 100 to cycle 2,000 the heap
// and the goroutines stay within 5%. The figures are logged (README,
// "Scheduled probes").
func TestSoak(t *testing.T) {
	cycles := uint64(2000)
	if testing.Short() {
		cycles = 300
	}
	ca := testnet.NewCA(t, "soak CA")
	var servers []*turnServer
	for i := range 4 {
		servers = append(servers, startTurnServer(t, ca, testnet.LoopbackIP(200+i)))
	}
	cfgFile := writeSoakConfig(t, ca, servers)

	base := measure(0)
	clock := &stepClock{t: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	d := newStepDaemon(t, cfgFile, clock)
	snaps := soakRun(t, d, clock, servers, cycles)
	after := settle(d, base)
	for _, s := range snaps {
		t.Logf("cycle %5d: %3d goroutines, %3d open files, heap %6.2f MB", s.cycle, s.goroutines, s.files, float64(s.heap)/1e6)
	}
	t.Logf("baseline: %d goroutines, %d open files; after the stop: %d goroutines, %d open files", base.goroutines, base.files, after.goroutines, after.files)
	if len(snaps) != 4 {
		t.Fatalf("%d snapshots, want 4", len(snaps))
	}
	checkFlat(t, snaps[1], snaps[3], base.files >= 0)
	if after.goroutines > base.goroutines+lumberjackMill {
		t.Errorf("%d goroutines after the stop, baseline %d (+%d for lumberjack's mill)", after.goroutines, base.goroutines, lumberjackMill)
	}
	if base.files >= 0 && after.files != base.files {
		t.Errorf("%d open files after the stop, baseline %d", after.files, base.files)
	}
}

// writeSoakConfig writes the soak's daemon config, probing servers every
// second with the log file (rotated small) and the metrics server on, and
// returns its path.
func writeSoakConfig(t *testing.T, ca *testnet.CA, servers []*turnServer) string {
	dir := testenv.TempDir(t)
	var targets []string
	for _, s := range servers {
		targets = append(targets, `"`+s.addr+`"`)
	}
	cfgFile := filepath.Join(dir, "daemon.yaml")
	cfg := fmt.Sprintf(`version: 1
schedule: {interval: 1s}
targets: [%s]
resolvers: [127.0.0.1]
proxy: none
timeout: 2s
ca_file: '%s'
service_tags: {refresh: 0s, cache_dir: '%s'}
log: {file: '%s', summary_every: 10s, max_size_mb: 1, max_backups: 2, compress: false}
metrics: {listen: 127.0.0.1:0}
`, strings.Join(targets, ", "), ca.WritePEM(t), filepath.Join(dir, "cache"), filepath.Join(dir, "logs", "probes.jsonl"))
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgFile
}

// soakRun runs d for cycles cycles, failing the servers in turns, and
// returns the resources measured at cycles 1, 100, half way and the last.
func soakRun(t *testing.T, d *Daemon, clock *stepClock, servers []*turnServer, cycles uint64) []resources {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var snaps []resources
	clock.onWait = func() {
		c := d.cycle
		// Fail in turns: in cycle c, server c%4 drops its connections.
		for i, s := range servers {
			s.failing.Store(uint64(i) == c%4)
		}
		if c == 1 || c == 100 || c == cycles/2 || c == cycles {
			for len(d.sink.lines) > 0 { // the log has caught up: its queue is not what is measured
				time.Sleep(time.Millisecond)
			}
			snaps = append(snaps, measure(c))
		}
		if c >= cycles {
			cancel()
		}
	}
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return snaps
}

// settle measures the resources once the stopped daemon's goroutines are
// back to base (the servers' handler goroutines end as the probes'
// connections close), or after 10 s.
func settle(d *Daemon, base resources) resources {
	for deadline := time.Now().Add(10 * time.Second); ; {
		after := measure(d.cycle)
		if after.goroutines <= base.goroutines+lumberjackMill || time.Now().After(deadline) {
			return after
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkFlat: from at100 to last, the heap and the goroutines grew at most
// 5%, and the open files (where counted) not at all.
func checkFlat(t *testing.T, at100, last resources, files bool) {
	t.Helper()
	if growth := float64(last.heap)/float64(at100.heap) - 1; growth > 0.05 {
		t.Errorf("heap grew %.1f%% from cycle %d to %d (%d → %d bytes), want at most 5%%", growth*100, at100.cycle, last.cycle, at100.heap, last.heap)
	}
	if last.goroutines > at100.goroutines+at100.goroutines/20 {
		t.Errorf("goroutines grew from %d at cycle %d to %d at cycle %d", at100.goroutines, at100.cycle, last.goroutines, last.cycle)
	}
	if files && last.files > at100.files {
		t.Errorf("open files grew from %d at cycle %d to %d at cycle %d", at100.files, at100.cycle, last.files, last.cycle)
	}
}

// lumberjackMill is the goroutine lumberjack starts per logger for removing
// old backups and never ends (v2.2.1): the daemon keeps one logger per file
// for its life, so it is one goroutine, not a leak per cycle.
const lumberjackMill = 1
