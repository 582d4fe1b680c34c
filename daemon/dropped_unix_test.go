//go:build unix

package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
	"egressprobe/plan"
)

// TestDaemonDropsWhenLogBlocked runs the daemon with its records file a
// FIFO nobody reads yet, so the log's writer blocks in open(2) as on a hung
// disk, with a queue of 8 records. The probe loop does not wait for it: its
// cycles go on, the records that do not fit are dropped and counted
// (log_records_dropped_total, within log_write_errors_total) and stderr
// hears of it once a minute. Once a reader drains the FIFO, writing resumes
// with a record saying how many were dropped (the gap in seq), every line
// whole, and after the stop the goroutines are back to their baseline.
func TestDaemonDropsWhenLogBlocked(t *testing.T) {
	const queue, blockedCycles, moreCycles = 8, 20, 10
	dir := testenv.TempDir(t)
	fifo := filepath.Join(dir, "logs", "probes.jsonl")
	cfgFile := writeDropConfig(t, dir, fifo)

	base := measure(0)
	var stderr lockedBuffer
	clock := &stepClock{t: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	d := newLoggingDaemon(t, cfgFile, clock, &stderr, queue)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The reader, started once the loop has run blockedCycles cycles with
	// the writer blocked; it copies what the FIFO carries to a plain file.
	copied := filepath.Join(dir, "copied.jsonl")
	read := make(chan error, 1)
	release := func() { go func() { read <- copyFIFO(fifo, copied) }() }
	reached := make(chan [2]float64, 1) // cycles run and records dropped while blocked
	clock.onWait = func() {
		c := d.cycle
		if c == blockedCycles {
			reached <- [2]float64{testutil.ToFloat64(d.metrics.cycles), testutil.ToFloat64(d.metrics.logDropped)}
			release()
		}
		if c >= blockedCycles {
			// From here on the log keeps up: the next cycle starts with the
			// queue drained (also the first after the release, which would
			// otherwise race the reader's open), so nothing more is dropped.
			for len(d.sink.lines) > 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if c >= blockedCycles+moreCycles {
			cancel()
		}
	}
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	select {
	case got := <-reached:
		if got[0] != blockedCycles || got[1] == 0 {
			t.Errorf("while the log was blocked: %v cycles run and %v records dropped, want %d cycles and some dropped", got[0], got[1], blockedCycles)
		}
	case <-time.After(2 * time.Minute):
		release() // unblock the writer, so the loop can end
		cancel()
		t.Fatalf("the probe loop is stuck at cycle %d while the log's writer is blocked", d.cycle)
	}
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatalf("reading the FIFO: %v", err)
	}

	recs := readRecords(t, copied)
	dropped := checkDropsCounted(t, d, recs)
	checkResumed(t, recs, blockedCycles, moreCycles)
	log := stderr.String()
	if n := strings.Count(log, "cannot write the log"); n != 1 || !strings.Contains(log, "record dropped") ||
		!strings.Contains(log, fmt.Sprintf("records_dropped=%d", dropped)) {
		t.Errorf("stderr, %d errors reported in %d s of drops:\n%s\nwant one (once a minute) and the dropped count once writing resumed", n, blockedCycles, log)
	}

	after := settle(d, base)
	if after.goroutines > base.goroutines+lumberjackMill {
		t.Errorf("%d goroutines after the stop, baseline %d (+%d for lumberjack's mill)", after.goroutines, base.goroutines, lumberjackMill)
	}
	if base.files >= 0 && after.files != base.files {
		t.Errorf("%d open files after the stop, baseline %d", after.files, base.files)
	}
	t.Logf("%d cycles with the log blocked: %d records dropped, %d written in all", blockedCycles, dropped, len(recs))
}

// newLoggingDaemon is a daemon on cfgFile with a step clock, its stderr to
// stderr, its log's queue queue records long.
func newLoggingDaemon(t *testing.T, cfgFile string, clock *stepClock, stderr *lockedBuffer, queue int) *Daemon {
	t.Helper()
	d, err := New(Deps{ConfigFile: cfgFile, Getenv: os.Getenv, PlanEnv: plan.SystemEnv(func(string) string { return "" }),
		Clock: clock, Rand: func() float64 { return 0 }, Log: slog.New(slog.NewTextHandler(stderr, nil)),
		Hostname: "test", Version: "test", LogQueue: queue})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDaemonStopsWithLogHung stops a daemon whose log's writer hangs (its
// records file a FIFO nobody reads): the stop does not wait for the disk
// beyond the sink's CloseWait; Run returns an error saying the records were
// not written, and stderr says so too. Once the FIFO gets a reader, the
// writer left behind ends.
func TestDaemonStopsWithLogHung(t *testing.T) {
	dir := testenv.TempDir(t)
	fifo := filepath.Join(dir, "logs", "probes.jsonl")
	var stderr lockedBuffer
	clock := &stepClock{t: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	d := newLoggingDaemon(t, writeDropConfig(t, dir, fifo), clock, &stderr, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock.onWait = func() {
		if d.cycle >= 3 {
			cancel()
		}
	}
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	read := make(chan error, 1)
	defer func() {
		go func() { read <- copyFIFO(fifo, filepath.Join(dir, "copied.jsonl")) }()
		if err := <-read; err != nil {
			t.Errorf("the writer left behind, given a reader: %v", err)
		}
	}()
	select {
	case err := <-ran:
		if err == nil || !strings.Contains(err.Error(), "the writer is stuck") || !strings.Contains(err.Error(), "records not written") {
			t.Errorf("Run returned %v, want the stuck writer and the records lost named", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the stop is held up by the hung log")
	}
	if !strings.Contains(stderr.String(), "the log's writer is stuck; stopping without it") {
		t.Errorf("stderr does not say the log's writer is stuck:\n%s", stderr.String())
	}
}

// writeDropConfig makes fifo, starts two loopback servers, and writes a
// daemon config in dir that probes them every second with its records file
// the FIFO; it returns the config's path.
func writeDropConfig(t *testing.T, dir, fifo string) string {
	ca := testnet.NewCA(t, "drop CA")
	var targets []string
	for i := range 2 {
		targets = append(targets, fmt.Sprintf("%q", startTurnServer(t, ca, testnet.LoopbackIP(210+i)).addr))
	}
	if err := os.MkdirAll(filepath.Dir(fifo), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo %s: %v", fifo, err)
	}
	cfgFile := filepath.Join(dir, "daemon.yaml")
	cfg := fmt.Sprintf("version: 1\nschedule: {interval: 1s}\ntargets: [%s]\nresolvers: [127.0.0.1]\nproxy: none\ntimeout: 5s\nca_file: '%s'\n"+
		"service_tags: {refresh: 0s, cache_dir: '%s'}\nlog: {file: '%s', compress: false}\nmetrics: {listen: 'off'}\n",
		strings.Join(targets, ", "), ca.WritePEM(t), filepath.Join(dir, "cache"), fifo)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgFile
}

// copyFIFO copies what fifo carries, until its writer closes it, to the
// plain file to.
func copyFIFO(fifo, to string) error {
	f, err := os.Open(fifo)
	if err != nil {
		return err
	}
	defer f.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, f)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkDropsCounted: every record lost was dropped (the metrics), and the
// records written say as many dropped as their seq has gaps. It returns the
// number dropped.
func checkDropsCounted(t *testing.T, d *Daemon, recs []Record) int {
	t.Helper()
	dropped := int(testutil.ToFloat64(d.metrics.logDropped))
	lost := int(testutil.ToFloat64(d.metrics.logErrors))
	if dropped < 1 || lost != dropped {
		t.Errorf("log_records_dropped_total %d, log_write_errors_total %d: want drops, all of the losses", dropped, lost)
	}
	said, gaps := 0, 0
	for i, r := range recs {
		if r.Type == TypeLifecycle && r.Lifecycle.Event == EventLogWriteErrors {
			said += r.Lifecycle.Dropped
			if r.Lifecycle.Lost != r.Lifecycle.Dropped || !strings.Contains(r.Lifecycle.Detail, "dropped because the log fell behind") {
				t.Errorf("the resumed record %+v, want its losses all dropped, said so", r.Lifecycle)
			}
		}
		if i > 0 {
			gaps += int(r.Seq - recs[i-1].Seq - 1)
		}
	}
	if said != dropped || gaps != dropped {
		t.Errorf("records say %d dropped and their seq has %d gaps; the metric counts %d", said, gaps, dropped)
	}
	return dropped
}

// checkResumed: once released, the log kept every result of the next
// moreCycles cycles (two targets each), and ends with the stop.
func checkResumed(t *testing.T, recs []Record, blockedCycles, moreCycles uint64) {
	t.Helper()
	results := 0
	for _, r := range recs {
		if r.Type == TypeResult && r.Cycle > blockedCycles && r.Cycle <= blockedCycles+moreCycles {
			results++
		}
	}
	if last := recs[len(recs)-1]; results != 2*int(moreCycles) || last.Type != TypeLifecycle || last.Lifecycle.Event != EventStop {
		t.Errorf("after the release %d results (want 2 a cycle for %d cycles), the last record %+v (want the stop)", results, moreCycles, last.Lifecycle)
	}
}
