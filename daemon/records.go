package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"egressprobe/report"
)

// The record types.
const (
	TypeResult     = "result"
	TypeTransition = "transition"
	TypeSummary    = "summary"
	TypeLifecycle  = "lifecycle"
)

// Record is one line of the log. Every record carries the envelope (ts to
// config_sha256) and one of the bodies, named after its type.
type Record struct {
	TS           time.Time `json:"ts"`
	Type         string    `json:"type"`
	Seq          uint64    `json:"seq"` // per process, from 1; a gap is a record lost to a write error
	Hostname     string    `json:"hostname"`
	Version      string    `json:"version"`
	ConfigSHA256 string    `json:"config_sha256"`
	Cycle        uint64    `json:"cycle,omitempty"` // the cycle a result, transition or summary belongs to

	// Result is `check`'s JSON result, unchanged.
	Result     *report.Result `json:"result,omitempty"`
	Transition *Transition    `json:"transition,omitempty"`
	Summary    *Summary       `json:"summary,omitempty"`
	Lifecycle  *Lifecycle     `json:"lifecycle,omitempty"`
}

// The lifecycle events.
const (
	EventStart          = "start"
	EventReload         = "reload"          // Error set: rejected, the old config keeps running
	EventStop           = "stop"            // Error: why, when not a signal
	EventFeedRefreshed  = "feed_refreshed"  // ChangeNumber: the feed now in use
	EventFeedRefresh    = "feed_refresh"    // a refresh that failed (Error) or found no newer feed
	EventOverrun        = "overrun"         // a cycle took longer than its interval
	EventLogWriteErrors = "log_write_error" // written once writing works again: how many records were lost, and of them dropped
)

// Lifecycle is the daemon's own story: start, reloads, feed refreshes, stop.
type Lifecycle struct {
	Event        string  `json:"event"`
	OK           *bool   `json:"ok,omitempty"` // reload, feed_refresh
	Error        string  `json:"error,omitempty"`
	Config       string  `json:"config,omitempty"` // the file
	Targets      int     `json:"targets,omitempty"`
	ChangeNumber int     `json:"change_number,omitempty"`
	Detail       string  `json:"detail,omitempty"`
	Seconds      float64 `json:"seconds,omitempty"` // overrun: how long the cycle took
	Lost         int     `json:"lost,omitempty"`    // log_write_error: records lost
	Dropped      int     `json:"dropped,omitempty"` // log_write_error: of the lost, those dropped because the log fell behind
}

// SinkOptions configure a Sink.
type SinkOptions struct {
	File       string // "" writes to Stdout
	Stdout     io.Writer
	MaxSizeMB  int
	MaxBackups int
	MaxAgeDays int
	Compress   bool
	// Log reports write errors, at most once per ErrorEvery.
	Log        *slog.Logger
	ErrorEvery time.Duration
	Now        func() time.Time
	// OnError is called once per record lost (the metrics count them);
	// OnDrop, when set, once more for a record lost because the queue was
	// full (the writer fell behind: a slow or blocked disk).
	OnError, OnDrop func()
	// Queue is how many lines may wait for a slow disk before new ones are
	// dropped (and counted): probing never waits for the log. 0: 4096.
	Queue int
	// CloseWait is how long Close waits for a stuck writer; 0: 5 s.
	CloseWait time.Duration
	// Resumed, when set, makes the record that tells how many were lost
	// (and of them dropped) once writing works again; the sink writes it
	// next in line.
	Resumed func(lost, dropped int) *Record
}

// Sink writes records as JSON lines, each line whole or not at all, from a
// goroutine of its own so a slow or full disk never holds probing up.
//
// Rotation is lumberjack's, with its pitfalls minded: one Sink (so one
// lumberjack.Logger) per file per process for the daemon's life; a write
// that failed halfway is cut off the file; and a file that cannot be renamed
// for rotation (on Windows, another process holding it open) is a counted
// write error, reported, not a crash.
type Sink struct {
	opt      SinkOptions
	lj       *lumberjack.Logger
	w        io.Writer
	lines    chan []byte
	done     chan struct{}
	closeErr error // the file's close, set by run before done

	mu       sync.Mutex // guards the error bookkeeping below
	lost     int        // records lost since writing last worked
	dropped  int        // of them, dropped from a full queue
	reported time.Time
}

// NewSink opens nothing yet: the file is created at the first write (a log
// folder that does not exist yet is made then, or reported).
func NewSink(opt SinkOptions) *Sink {
	if opt.Queue <= 0 {
		opt.Queue = 4096
	}
	if opt.CloseWait <= 0 {
		opt.CloseWait = 5 * time.Second
	}
	if opt.ErrorEvery <= 0 {
		opt.ErrorEvery = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Sink{opt: opt, lines: make(chan []byte, opt.Queue), done: make(chan struct{})}
	if opt.File != "" {
		s.lj = &lumberjack.Logger{
			Filename: opt.File, MaxSize: opt.MaxSizeMB, MaxBackups: opt.MaxBackups,
			MaxAge: opt.MaxAgeDays, Compress: opt.Compress,
		}
		s.w = s.lj
	} else {
		s.w = opt.Stdout
	}
	go s.run()
	return s
}

// File is the sink's file ("" for stdout).
func (s *Sink) File() string { return s.opt.File }

// Write queues one record; a full queue drops it (counted). Not after Close.
func (s *Sink) Write(rec *Record) {
	line, err := encodeLine(rec)
	if err != nil {
		s.failed(err, false)
		return
	}
	select {
	case s.lines <- line:
	default:
		s.failed(errors.New("the log is not keeping up (disk too slow or blocked?): record dropped"), true)
	}
}

// encodeLine is rec as one JSON line.
func encodeLine(rec *Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("encoding a %s record: %w", rec.Type, err)
	}
	return b.Bytes(), nil
}

// Close writes what is queued, closes the file and returns when done. A
// writer stuck for CloseWait (a hung disk or mount) is left behind, so that
// the disk never holds a stop up: what it had not written is lost, and the
// error says so.
func (s *Sink) Close() error {
	close(s.lines)
	select {
	case <-s.done:
	case <-time.After(s.opt.CloseWait):
		left := len(s.lines) + 1 // and the line being written
		s.opt.Log.Error("the log's writer is stuck; stopping without it", "file", s.opt.File, "records_lost", left)
		return fmt.Errorf("log %s: the writer is stuck (a hung disk or mount?): %d records not written after waiting %v", s.opt.File, left, s.opt.CloseWait)
	}
	return s.closeErr
}

// run writes the queued lines until Close, then closes the file: also when
// Close gave up waiting, so a writer that comes unstuck releases it.
func (s *Sink) run() {
	defer close(s.done)
	for line := range s.lines {
		s.writeLine(line)
	}
	if s.lj != nil {
		s.closeErr = s.lj.Close()
	}
}

func (s *Sink) writeLine(line []byte) {
	n, err := s.w.Write(line)
	if err == nil {
		s.ok()
		return
	}
	if s.lj != nil {
		// Close, so the next write reopens (a folder that came back, a disk
		// with room), in append mode at the file's true end; and cut a line
		// written in part.
		_ = s.lj.Close()
		if n > 0 {
			if fi, serr := os.Stat(s.opt.File); serr == nil && fi.Size() >= int64(n) {
				_ = os.Truncate(s.opt.File, fi.Size()-int64(n))
			}
		}
	}
	s.failed(err, false)
}

// ok notes a record written; after losses, says how many were lost.
func (s *Sink) ok() {
	s.mu.Lock()
	lost, dropped, resumed := s.lost, s.dropped, s.opt.Resumed
	s.lost, s.dropped = 0, 0
	s.mu.Unlock()
	if lost == 0 {
		return
	}
	s.opt.Log.Info("writing the log works again", "file", s.opt.File, "records_lost", lost, "records_dropped", dropped)
	if resumed == nil {
		return
	}
	if line, err := encodeLine(resumed(lost, dropped)); err == nil {
		s.writeLine(line)
	}
}

// failed counts a record lost; dropped: from a full queue.
func (s *Sink) failed(err error, dropped bool) {
	s.mu.Lock()
	s.lost++
	if dropped {
		s.dropped++
	}
	lost := s.lost
	report := s.opt.Now().Sub(s.reported) >= s.opt.ErrorEvery
	if report {
		s.reported = s.opt.Now()
	}
	s.mu.Unlock()
	if s.opt.OnError != nil {
		s.opt.OnError()
	}
	if dropped && s.opt.OnDrop != nil {
		s.opt.OnDrop()
	}
	if report {
		s.opt.Log.Error("cannot write the log; probing goes on", "file", s.opt.File, "records_lost", lost, "err", err)
	}
}
