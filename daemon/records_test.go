package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"egressprobe/internal/testenv"
)

// fakeNow is a clock tests move by hand.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// lockedBuffer is a bytes.Buffer the sink's goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func lifecycleRecord(seq uint64, detail string) *Record {
	return &Record{TS: time.Unix(0, 0).UTC(), Type: TypeLifecycle, Seq: seq, Lifecycle: &Lifecycle{Event: EventStart, Detail: detail}}
}

// readRecords reads every line of the files given, failing on a line that
// is not one whole JSON record.
func readRecords(t *testing.T, files ...string) []Record {
	t.Helper()
	var out []Record
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", f)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Errorf("%s: a line that is not a record: %v: %.80q", f, err, sc.Text())
				continue
			}
			out = append(out, r)
		}
	}
	return out
}

// TestSinkRotation writes 2.5 MB with max_size_mb 1 and max_backups 1: the
// file rotates, old backups are removed, and no record is split.
func TestSinkRotation(t *testing.T) {
	dir := testenv.TempDir(t)
	file := filepath.Join(dir, "probes.jsonl")
	s := NewSink(SinkOptions{File: file, MaxSizeMB: 1, MaxBackups: 1, Log: slog.New(slog.DiscardHandler)})
	pad := strings.Repeat("x", 1000)
	const n = 2500
	for i := 1; i <= n; i++ {
		s.Write(lifecycleRecord(uint64(i), pad))
		if i%500 == 0 {
			time.Sleep(10 * time.Millisecond) // let the queue drain: this test is not about drops
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var files []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ = filepath.Glob(filepath.Join(dir, "probes*.jsonl"))
		if len(files) == 2 || time.Now().After(deadline) {
			break // lumberjack removes old backups in its own goroutine
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) != 2 {
		t.Fatalf("files %v, want the log and one backup", files)
	}
	recs := readRecords(t, files...)
	if len(recs) == 0 || len(recs) >= n {
		t.Errorf("%d records kept of %d, want the last ~2 MB", len(recs), n)
	}
	last := readRecords(t, file)
	if last[len(last)-1].Seq != n {
		t.Errorf("the current file ends at seq %d, want %d", last[len(last)-1].Seq, n)
	}
}

// TestSinkUnwritableThenWritable: the log's folder cannot be made (a file
// is in its way), so writes fail: each is counted, stderr hears of it at
// most once a minute; once the way is clear writing resumes, with a record
// saying how many were lost.
func TestSinkUnwritableThenWritable(t *testing.T) {
	dir := testenv.TempDir(t)
	blocker := filepath.Join(dir, "logs")
	if err := os.WriteFile(blocker, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(blocker, "probes.jsonl")
	clock := &fakeNow{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	var stderr lockedBuffer
	var mu sync.Mutex
	errs := 0
	s := NewSink(SinkOptions{
		File: file, MaxSizeMB: 1, Log: slog.New(slog.NewTextHandler(&stderr, nil)), Now: clock.Now,
		OnError: func() { mu.Lock(); errs++; mu.Unlock() },
		Resumed: func(lost, _ int) *Record { r := lifecycleRecord(0, "resumed"); r.Lifecycle.Lost = lost; return r },
	})
	flush := func() {
		// Wait for the sink's goroutine to take every queued line.
		deadline := time.Now().Add(10 * time.Second)
		for len(s.lines) > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 1; i <= 5; i++ {
		s.Write(lifecycleRecord(uint64(i), "lost"))
	}
	flush()
	clock.add(61 * time.Second)
	s.Write(lifecycleRecord(6, "lost"))
	flush()
	if got := strings.Count(stderr.String(), "cannot write the log"); got != 2 {
		t.Errorf("stderr reported %d times in 61 s of errors, want 2 (once a minute):\n%s", got, stderr.String())
	}
	mu.Lock()
	if errs != 6 {
		t.Errorf("%d write errors counted, want 6", errs)
	}
	mu.Unlock()

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	s.Write(lifecycleRecord(7, "kept"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, file)
	if len(recs) != 2 || recs[0].Seq != 7 || recs[1].Lifecycle.Lost != 6 {
		t.Errorf("records after the folder came back: %+v, want seq 7 and a record of 6 lost", recs)
	}
	if !strings.Contains(stderr.String(), "writing the log works again") {
		t.Errorf("stderr does not say writing resumed:\n%s", stderr.String())
	}
}

// TestSinkStdout: with no file, records go to the given stdout, one a line.
func TestSinkStdout(t *testing.T) {
	var out lockedBuffer
	s := NewSink(SinkOptions{Stdout: &out, Log: slog.New(slog.DiscardHandler)})
	s.Write(lifecycleRecord(1, "a"))
	s.Write(lifecycleRecord(2, "b"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 2 {
		t.Errorf("%d lines, want 2:\n%s", got, out.String())
	}
}
