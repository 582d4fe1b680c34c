package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"egressprobe/daemon"
	"egressprobe/plan"
	"egressprobe/proxy"
	"egressprobe/render"
	"egressprobe/report"
	"egressprobe/targets"
)

// daemonOptions are the flags of `egressprobe daemon`.
type daemonOptions struct {
	config        string
	checkConfig   bool
	metricsListen string
	logFile       string
}

func newDaemonCmd(s *streams) *cobra.Command {
	opts := &daemonOptions{}
	cmd := &cobra.Command{
		Use:   "daemon --config FILE",
		Short: "Probe on a schedule for days or weeks: JSON-lines records, transitions, Prometheus metrics",
		Long: `daemon runs check's probes on the schedule of a YAML config (see the README, "Scheduled probes"),
writes every result, every transition (ok → failing naming the step and hop, failing → ok with the
outage length), summaries and its own lifecycle as JSON lines to log.file (rotated), and serves
Prometheus metrics, /healthz and POST /-/reload on metrics.listen (default 127.0.0.1:9469).

SIGHUP or POST /-/reload reloads the config: a bad one is rejected and the old one keeps running.
SIGTERM or Ctrl-C cancels the probes in flight, writes the stop record and exits 0.

--check-config validates the config, prints what it would probe (as 'targets list') and exits:
0 when it is good, 2 when not.`,
		Example: `  egressprobe daemon --config /etc/egressprobe/daemon.yaml --check-config
  egressprobe daemon --config /etc/egressprobe/daemon.yaml
  egressprobe daemon --config daemon.yaml --log-file - --metrics-listen 127.0.0.1:9470`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDaemon(c.Context(), s, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "the daemon's YAML config `FILE` (required)")
	f.BoolVar(&opts.checkConfig, "check-config", false, "validate the config, print the plan and exit (0 good, 2 bad)")
	f.StringVar(&opts.metricsListen, "metrics-listen", "", "serve metrics on `ADDR` (host:port, or off) instead of the config's metrics.listen")
	f.StringVar(&opts.logFile, "log-file", "", "write records to `FILE` instead of the config's log.file (- for stdout)")
	return cmd
}

func runDaemon(ctx context.Context, s *streams, opts *daemonOptions) error {
	deps, err := daemonDeps(s, opts)
	if err != nil {
		return err
	}
	if opts.checkConfig {
		return checkDaemonConfig(s, deps)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	deps.Reload = reload
	d, err := daemon.New(deps)
	if err != nil {
		return daemonError(err)
	}
	return d.Run(ctx)
}

// daemonError makes a bad config exit 2.
func daemonError(err error) error {
	if errors.Is(err, daemon.ErrConfig) {
		return &usageError{err}
	}
	return err
}

// daemonDeps wires the daemon to the process: check's planning, the
// service-tag feed, the streams.
func daemonDeps(s *streams, opts *daemonOptions) (daemon.Deps, error) {
	if opts.config == "" {
		return daemon.Deps{}, usageErrorf("daemon: --config FILE is required (see the README, \"Scheduled probes\")")
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	logFile := opts.logFile
	if logFile == "-" {
		logFile = ""
	}
	return daemon.Deps{
		ConfigFile: opts.config, Getenv: s.Getenv,
		PlanEnv:       plan.SystemEnv(s.Getenv),
		MetricsListen: opts.metricsListen, LogFile: logFile,
		LogFileStdout: opts.logFile == "-",
		Stdout:        s.Out,
		Log:           slog.New(slog.NewTextHandler(s.Err, nil)),
		Hostname:      host, Version: buildVersion(),
	}, nil
}

// checkDaemonConfig validates the config and prints its plan as `targets
// list` does, then what the daemon would do with it.
func checkDaemonConfig(s *streams, deps daemon.Deps) error {
	cfg, plan, err := daemon.Load(&deps)
	if err != nil {
		return daemonError(err)
	}
	l := render.TargetsListing{Cloud: plan.Cloud}
	if cfg.Region != "" {
		if r, err := targets.LookupRegion(plan.Cloud, cfg.Region); err == nil {
			l.Region, l.Geo = r.Display, r.Geo
		}
	}
	l.Endpoints = uniqueEndpoints(plan.Endpoints)
	if cfg.Targets == nil && cfg.TargetsFile == "" {
		if l.Uncovered, err = targets.Uncovered(plan.Cloud, l.Endpoints); err != nil {
			return err
		}
	}
	if err := render.Targets(s.Out, l, "table"); err != nil {
		return err
	}
	info := daemon.NewFeed(cfg).Current().TagsInfo
	feed := fmt.Sprintf("service tags: %s change %d", info.Source, info.ChangeNumber)
	if info.Source == "" {
		feed = "service tags: none loaded (" + info.Note + ")"
	}
	proxyLine := "proxy: none found (direct)"
	if plan.Proxy != nil {
		proxyLine = fmt.Sprintf("proxy: %s (from %s)", plan.Proxy.URL, plan.Proxy.Source)
	}
	fmt.Fprintf(s.Out, "\n%s: OK. %d probe targets (endpoints x resolvers x paths) every %v (jitter %.0f%%, %d windows); timeout %v, concurrency %d\n%s\n%s\nrecords (%s) to %s; metrics on %s\n",
		cfg.File, len(plan.Targets), cfg.Schedule.Interval.Duration, float64(cfg.Schedule.Jitter)*100, len(cfg.Schedule.Windows),
		cfg.Timeout.Duration, cfg.Concurrency, proxy.Redact(proxyLine), feed, cfg.Log.Records, logTarget(cfg.Log.File), cfg.Metrics.Listen)
	return nil
}

func logTarget(f string) string {
	if f == "" {
		return "stdout"
	}
	return f
}

// uniqueEndpoints drops the repeats a plan has for resolvers and paths.
func uniqueEndpoints(eps []targets.Endpoint) []targets.Endpoint {
	seen := map[string]bool{}
	var out []targets.Endpoint
	for _, e := range eps {
		if e.Role == report.RoleWildcardCheck {
			continue
		}
		k := e.Scheme + "|" + e.Address() + "|" + e.Path
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
