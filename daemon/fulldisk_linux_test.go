package daemon

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testenv"
)

// TestSinkFullDisk fills a small tmpfs (mounted in a mount namespace of
// its own, so nothing else sees it) under the log: writes fail with ENOSPC,
// some halfway through a line; each lost record is counted; the file holds
// only whole lines; once room is made, writing resumes with a record of how
// many were lost. Needs root (mount); fails under CI=true without it.
func TestSinkFullDisk(t *testing.T) {
	if dir := os.Getenv("EGRESSPROBE_FULLDISK_DIR"); dir != "" {
		fullDiskChild(t, dir)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("needs root and unshare (util-linux): %v", err)
		}
		t.Skip("needs root and unshare to mount a small tmpfs in a mount namespace")
	}
	dir := testenv.TempDir(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=64k egressprobe-full "$1" && exec "$2" -test.run '^TestSinkFullDisk$' -test.v`, "sh", dir, self)
	cmd.Env = append(os.Environ(), "EGRESSPROBE_FULLDISK_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestSinkFullDisk") {
		t.Fatalf("the test in its mount namespace: %v\n%s", err, out)
	}
	t.Logf("in the namespace:\n%s", out)
}

func fullDiskChild(t *testing.T, dir string) {
	file := filepath.Join(dir, "probes.jsonl")
	var stderr lockedBuffer
	var errs atomic.Int64
	s := NewSink(SinkOptions{File: file, MaxSizeMB: 1, Log: slog.New(slog.NewTextHandler(&stderr, nil)), Queue: 1 << 16,
		OnError: func() { errs.Add(1) },
		Resumed: func(lost, _ int) *Record { r := lifecycleRecord(0, "resumed"); r.Lifecycle.Lost = lost; return r }})
	pad := strings.Repeat("y", 3000)
	seq := uint64(0)
	write := func(n int) {
		for range n {
			seq++
			s.Write(lifecycleRecord(seq, pad))
		}
		for len(s.lines) > 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	write(5) // the file exists, its last page part-full
	// Fill what is left with another file.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 512)); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	write(20) // the disk is full: lost, one or more halfway
	if errs.Load() == 0 {
		t.Fatal("no write failed on a full disk")
	}
	lostWhileFull := int(errs.Load())
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	write(3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, file) // fails on any line that is not whole
	if n := len(recs); n != 5+1+3 {
		t.Errorf("%d records in the file, want the 5 before, the lost-count record and the 3 after", n)
	}
	var lost *Lifecycle
	for _, r := range recs {
		if r.Lifecycle.Lost > 0 {
			lost = r.Lifecycle
		}
	}
	if lost == nil || lost.Lost != lostWhileFull {
		t.Errorf("lost-count record %+v, want %d lost", lost, lostWhileFull)
	}
	if !strings.Contains(stderr.String(), "no space left on device") {
		t.Errorf("stderr does not name the cause:\n%s", stderr.String())
	}
}
