package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"egressprobe/plan"
	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/report"
)

// Feed is the attribution a config's cycles use: the service-tag feed (a
// fixed file, or the cached feed that Refresh updates) and the providers.
type Feed interface {
	// Current is the attribution in use.
	Current() plan.Attribution
	// Refresh tries to update the feed; on failure the old one stays in use.
	// updated says a newer feed is now in use.
	Refresh(ctx context.Context) (updated bool, err error)
}

// Clock is the daemon's time: the real clock, or a test's.
type Clock interface {
	Now() time.Time
	// After fires once d has passed; stop releases it early.
	After(d time.Duration) (c <-chan time.Time, stop func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// Deps is everything the daemon takes from the process: cmd fills it in.
type Deps struct {
	ConfigFile string
	Getenv     func(string) string
	// PlanEnv is what planning reads from the host (plan.SystemEnv).
	PlanEnv plan.Env
	// Feed gives a config's attribution; nil: NewFeed.
	Feed func(*Config) Feed
	// Reload signals a reload (SIGHUP); nil: none.
	Reload <-chan struct{}
	// MetricsListen and LogFile, when set, override the file's (flags);
	// LogFileStdout sends the records to Stdout whatever the file says.
	MetricsListen, LogFile string
	LogFileStdout          bool
	// LogQueue is how many records may wait for a slow log before new ones
	// are dropped; 0: the sink's default.
	LogQueue          int
	Stdout            io.Writer // records when no log file is set
	Log               *slog.Logger
	Hostname, Version string
	Clock             Clock             // nil: the real clock
	Rand              func() float64    // in [0, 1); nil: math/rand
	Listening         func(addr string) // told the metrics address once listening (tests, logs)
}

// Daemon runs cycles on the schedule of its config until its context ends.
type Daemon struct {
	deps    Deps
	clock   Clock
	cur     *loaded
	sink    *Sink
	metrics *Metrics
	states  *States
	sums    *Summaries
	seq     atomic.Uint64
	cycle   uint64
	reloads chan chan error
	stopped chan struct{} // closed when the loop has ended
	feedRes chan feedResult
}

// loaded is one accepted config and what follows from it.
type loaded struct {
	cfg   *Config
	plan  *plan.Plan
	sched Schedule
	feed  Feed
}

type feedResult struct {
	updated bool
	err     error
}

// ErrConfig wraps a config or plan that cannot start: exit status 2.
var ErrConfig = errors.New("bad config")

// Load reads, validates and plans the config file, with the command line's
// overrides: what --check-config and every reload do.
func Load(deps *Deps) (*Config, *plan.Plan, error) {
	cfg, err := LoadConfig(deps.ConfigFile, deps.Getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if deps.MetricsListen != "" {
		cfg.Metrics.Listen = deps.MetricsListen
		if err := cfg.Metrics.validate(); err != nil {
			return nil, nil, fmt.Errorf("%w: --metrics-listen: %w", ErrConfig, err)
		}
	}
	switch {
	case deps.LogFileStdout:
		cfg.Log.File = ""
	case deps.LogFile != "":
		cfg.Log.File = deps.LogFile
		if abs, err := filepath.Abs(cfg.Log.File); err == nil {
			cfg.Log.File = abs
		}
	}
	p, err := plan.Build(cfg.PlanOptions(), deps.PlanEnv)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %s", ErrConfig, cfg.File, configKeys.Replace(err.Error()))
	}
	return cfg, p, nil
}

// configKeys turns the check flags plan's errors name into the config's keys.
var configKeys = strings.NewReplacer(
	"--resolver", "resolvers", "--path", "path", "--proxy", "proxy", "--cloud", "cloud", "--region", "region",
	"--ca-file", "ca_file", "--targets", "targets_file", "--member", "members", "--storage-account", "storage_accounts",
	"--vault", "vaults", "--private-endpoint", "private_endpoint", "--timeout", "timeout", "--concurrency", "concurrency", "--service-tags", "service_tags.file",
	"--trust-path", "trust_path",
)

// New loads the config; a bad one is an error wrapping ErrConfig.
func New(deps Deps) (*Daemon, error) {
	if deps.Clock == nil {
		deps.Clock = realClock{}
	}
	if deps.Rand == nil {
		deps.Rand = rand.Float64
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Feed == nil {
		deps.Feed = NewFeed
	}
	cfg, p, err := Load(&deps)
	if err != nil {
		return nil, err
	}
	d := &Daemon{deps: deps, clock: deps.Clock, reloads: make(chan chan error), stopped: make(chan struct{}), feedRes: make(chan feedResult, 1)}
	d.cur = &loaded{cfg: cfg, plan: p, sched: NewSchedule(cfg.Schedule), feed: deps.Feed(cfg)}
	d.metrics = NewMetrics(deps.Version, d.clock.Now)
	d.states = NewStates()
	d.sums = NewSummaries(d.clock.Now())
	d.sink = d.newSink(cfg)
	return d, nil
}

// Metrics are the daemon's collectors (for tests and the service wrapper).
func (d *Daemon) Metrics() *Metrics { return d.metrics }

func (d *Daemon) newSink(cfg *Config) *Sink {
	return NewSink(SinkOptions{
		File: cfg.Log.File, Stdout: d.deps.Stdout,
		MaxSizeMB: cfg.Log.MaxSizeMB, MaxBackups: cfg.Log.MaxBackups, MaxAgeDays: cfg.Log.MaxAgeDays, Compress: *cfg.Log.Compress,
		Log: d.deps.Log, Now: d.clock.Now, OnError: d.metrics.logErrors.Inc, OnDrop: d.metrics.logDropped.Inc, Queue: d.deps.LogQueue,
		Resumed: func(lost, dropped int) *Record {
			detail := "records lost to log write errors; writing works again"
			if dropped > 0 {
				detail = fmt.Sprintf("records lost: %d dropped because the log fell behind (a slow or blocked disk), %d to write errors; writing works again", dropped, lost-dropped)
			}
			return d.record(TypeLifecycle, &Record{Lifecycle: &Lifecycle{Event: EventLogWriteErrors, Lost: lost, Dropped: dropped, Detail: detail}})
		},
	})
}

// record fills the envelope of rec.
func (d *Daemon) record(typ string, rec *Record) *Record {
	rec.TS, rec.Type, rec.Seq = d.clock.Now().UTC(), typ, d.seq.Add(1)
	rec.Hostname, rec.Version, rec.ConfigSHA256 = d.deps.Hostname, d.deps.Version, d.cur.cfg.SHA256
	return rec
}

func (d *Daemon) write(typ string, rec *Record) { d.sink.Write(d.record(typ, rec)) }

func (d *Daemon) lifecycle(l *Lifecycle) { d.write(TypeLifecycle, &Record{Lifecycle: l}) }

// Run probes until ctx ends, then cancels the cycle in flight (its probes
// end as cancelled and are written), writes the stop record, flushes the log
// and returns nil. An error is a start that failed (the metrics address).
func (d *Daemon) Run(ctx context.Context) error {
	srv, err := d.serveMetrics()
	if err != nil {
		_ = d.sink.Close()
		return err
	}
	cfg := d.cur.cfg
	d.metrics.Reloaded(true, d.clock.Now())
	d.metrics.targetsGauge.Set(float64(len(d.cur.plan.Targets)))
	info := d.cur.feed.Current().TagsInfo
	d.metrics.SetFeed(info)
	d.lifecycle(&Lifecycle{Event: EventStart, Config: cfg.File, Targets: len(d.cur.plan.Targets), ChangeNumber: info.ChangeNumber,
		Detail: fmt.Sprintf("interval %v, jitter %.0f%%, %d windows; proxy %s", cfg.Schedule.Interval.Duration, float64(cfg.Schedule.Jitter)*100, len(cfg.Schedule.Windows), proxy.Redact(cfg.ProxyURL))})
	d.deps.Log.Info("egressprobe daemon started", "config", cfg.File, "targets", len(d.cur.plan.Targets), "log", logName(cfg.Log.File), "metrics", cfg.Metrics.Listen)

	d.loop(ctx)
	close(d.stopped)

	d.writeSummaries()
	d.lifecycle(&Lifecycle{Event: EventStop, Detail: "signal"})
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	d.deps.Log.Info("egressprobe daemon stopped")
	return d.sink.Close()
}

func logName(f string) string {
	if f == "" {
		return "stdout"
	}
	return f
}

// loop is the scheduler: one cycle at a time, never two at once.
func (d *Daemon) loop(ctx context.Context) {
	now := d.clock.Now()
	next := d.cur.sched.First(now, d.deps.Rand())
	summaryAt := now.Add(d.cur.cfg.Log.SummaryEvery.Duration)
	refreshAt := d.refreshAfter(now)
	var last time.Time // the last cycle's start
	for {
		wake := earliest(next, summaryAt, refreshAt)
		timer, stop := d.clock.After(wake.Sub(d.clock.Now()))
		select {
		case <-ctx.Done():
			stop()
			return
		case reply := <-d.reloads:
			stop()
			reply <- d.reload()
			if !last.IsZero() {
				next = d.cur.sched.Next(last, d.jitter())
			}
			continue
		case <-d.deps.Reload:
			stop()
			_ = d.reload()
			continue
		case fr := <-d.feedRes:
			stop()
			d.feedRefreshed(fr)
			continue
		case <-timer:
		}
		now = d.clock.Now()
		if !now.Before(next) {
			last = now
			d.runCycle(ctx)
			end := d.clock.Now()
			next = d.cur.sched.Next(last, d.jitter())
			if !next.After(end) {
				d.overrun(end.Sub(last), d.cur.sched.IntervalAt(last))
				next = end
			}
			if ctx.Err() != nil {
				return
			}
		}
		if now = d.clock.Now(); !now.Before(summaryAt) {
			d.writeSummaries()
			summaryAt = now.Add(d.cur.cfg.Log.SummaryEvery.Duration)
		}
		if !now.Before(refreshAt) {
			d.startRefresh(ctx)
			refreshAt = d.refreshAfter(now)
		}
	}
}

func (d *Daemon) jitter() float64 { return 2*d.deps.Rand() - 1 }

func earliest(ts ...time.Time) time.Time {
	e := ts[0]
	for _, t := range ts[1:] {
		if t.Before(e) {
			e = t
		}
	}
	return e
}

// refreshAfter is when the next feed refresh is due; far away when off.
func (d *Daemon) refreshAfter(now time.Time) time.Time {
	if r := d.cur.cfg.ServiceTags.Refresh.Duration; r > 0 {
		return now.Add(r)
	}
	return now.Add(100 * 365 * 24 * time.Hour)
}

func (d *Daemon) overrun(took, interval time.Duration) {
	d.metrics.overruns.Inc()
	d.lifecycle(&Lifecycle{Event: EventOverrun, Seconds: took.Seconds(), Detail: fmt.Sprintf("the cycle took %v, longer than its interval %v: the next starts now", took.Round(time.Millisecond), interval)})
	d.deps.Log.Warn("cycle overran its interval; the next starts now", "took", took.Round(time.Millisecond), "interval", interval)
}

// runCycle is one cycle: plan → probe.Run → report.Build, as check, then
// records, transitions and metrics.
func (d *Daemon) runCycle(ctx context.Context) {
	cur := d.cur
	d.cycle++
	started := d.clock.Now()
	obs := probe.Run(ctx, cur.plan.Targets, cur.plan.RunOptions(nil))
	finished := d.clock.Now()
	rep := cur.plan.Report(started, finished, obs, cur.feed.Current())
	for i := range rep.Results {
		r := &rep.Results[i]
		if d.keepResult(r) {
			d.write(TypeResult, &Record{Cycle: d.cycle, Result: r})
		}
	}
	for _, t := range d.states.Observe(rep.Results, finished) {
		d.write(TypeTransition, &Record{Cycle: d.cycle, Transition: &t})
		d.logTransition(&t)
	}
	d.metrics.Observe(rep.Results, finished, d.states.Consecutive)
	d.metrics.cycles.Inc()
	d.metrics.cycleSeconds.Set(finished.Sub(started).Seconds())
	d.sums.Add(rep.Results)
}

// logTransition tells the service log (the journal, the Windows event log)
// of a target that starts failing, fails another way or comes back: what an
// operator watching it needs, without reading the records.
func (d *Daemon) logTransition(t *Transition) {
	target := []any{"host", net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), "path", t.Path, "resolver", t.Resolver}
	switch {
	case t.To == string(probe.OK):
		var outage time.Duration
		if t.OutageSeconds != nil {
			outage = time.Duration(*t.OutageSeconds * float64(time.Second)).Round(time.Second)
		}
		d.deps.Log.Info("target ok again", append(target, "was", t.From, "outage", outage)...)
	default:
		attrs := append(target, "outcome", t.To, "was", t.From, "step", t.Step)
		if t.Hop != nil {
			attrs = append(attrs, "hop", t.Hop.Address)
			if t.Hop.Proxy != "" {
				attrs = append(attrs, "proxy", t.Hop.Proxy)
			}
		}
		d.deps.Log.Warn("target failing", append(attrs, "err", t.Error)...)
	}
}

// keepResult applies log.records to a result record.
func (d *Daemon) keepResult(r *report.Result) bool {
	switch d.cur.cfg.Log.Records {
	case RecordsTransitions:
		return false
	case RecordsFailures:
		return r.Status != probe.OK && r.Status != probe.Cancelled
	}
	return true
}

func (d *Daemon) writeSummaries() {
	for _, s := range d.sums.Flush(d.clock.Now().UTC()) {
		d.write(TypeSummary, &Record{Cycle: d.cycle, Summary: &s})
	}
}

// reload loads the config file again; a bad one is rejected (the old keeps
// running) with a lifecycle record.
func (d *Daemon) reload() error {
	yes, no := true, false
	cfg, p, err := Load(&d.deps)
	if err != nil {
		d.metrics.Reloaded(false, d.clock.Now())
		d.lifecycle(&Lifecycle{Event: EventReload, OK: &no, Config: d.deps.ConfigFile, Error: proxy.Redact(err.Error()), Detail: "rejected: the previous config keeps running"})
		d.deps.Log.Error("config reload rejected; the previous config keeps running", "err", proxy.Redact(err.Error()))
		return err
	}
	old := d.cur
	next := &loaded{cfg: cfg, plan: p, sched: NewSchedule(cfg.Schedule), feed: old.feed}
	if cfg.Cloud != old.cfg.Cloud || cfg.ServiceTags.File != old.cfg.ServiceTags.File {
		next.feed = d.deps.Feed(cfg)
	}
	var notes []string
	if cfg.Metrics.Listen != old.cfg.Metrics.Listen {
		notes = append(notes, "metrics.listen changes take effect at the next start")
	}
	if cfg.Log != old.cfg.Log || *cfg.Log.Compress != *old.cfg.Log.Compress {
		// One lumberjack logger per file per process: the old one is closed
		// before another is opened.
		_ = d.sink.Close()
		d.sink = d.newSink(cfg)
	}
	d.cur = next
	d.metrics.Reloaded(true, d.clock.Now())
	d.metrics.targetsGauge.Set(float64(len(p.Targets)))
	d.metrics.SetFeed(next.feed.Current().TagsInfo)
	detail := fmt.Sprintf("%d targets", len(p.Targets))
	for _, n := range notes {
		detail += "; " + n
	}
	d.lifecycle(&Lifecycle{Event: EventReload, OK: &yes, Config: cfg.File, Targets: len(p.Targets), Detail: detail})
	d.deps.Log.Info("config reloaded", "config", cfg.File, "targets", len(p.Targets))
	return nil
}

// startRefresh tries a feed update in the background (a download may take
// a while; probing goes on); the loop applies its result.
func (d *Daemon) startRefresh(ctx context.Context) {
	feed := d.cur.feed
	go func() {
		up, err := feed.Refresh(ctx)
		select {
		case d.feedRes <- feedResult{up, err}:
		case <-ctx.Done():
		}
	}()
}

func (d *Daemon) feedRefreshed(fr feedResult) {
	info := d.cur.feed.Current().TagsInfo
	d.metrics.SetFeed(info)
	yes, no := true, false
	switch {
	case fr.err != nil:
		d.lifecycle(&Lifecycle{Event: EventFeedRefresh, OK: &no, Error: proxy.Redact(fr.err.Error()), ChangeNumber: info.ChangeNumber, Detail: "the feed in use stays"})
		d.deps.Log.Warn("service-tag feed refresh failed; the feed in use stays", "err", proxy.Redact(fr.err.Error()))
	case fr.updated:
		d.lifecycle(&Lifecycle{Event: EventFeedRefreshed, OK: &yes, ChangeNumber: info.ChangeNumber})
	default:
		d.lifecycle(&Lifecycle{Event: EventFeedRefresh, OK: &yes, ChangeNumber: info.ChangeNumber, Detail: "no newer feed"})
	}
}

// serveMetrics listens on metrics.listen: /metrics, /healthz, POST /-/reload.
func (d *Daemon) serveMetrics() (*http.Server, error) {
	addr := d.cur.cfg.Metrics.Listen
	if addr == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen %s: %w (another egressprobe daemon or exporter on that port? set metrics.listen or --metrics-listen)", addr, err)
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	d.deps.Log.Info("serving metrics", "addr", ln.Addr().String())
	return srv, nil
}
