package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"egressprobe/plan"
	"egressprobe/probe"
	"egressprobe/render"
	"egressprobe/targets"
)

// checkOptions are the flags of `egressprobe check`: the run's plan.Options
// and how to show the report.
type checkOptions struct {
	plan.Options
	Output     string
	OutputFile string
	Verbose    bool
	IPv4Only   bool
	IPv6Only   bool
	TraceMode  string
}

// newCheckCmd binds check's flags; runF runs it (runCheck, or a test's).
func newCheckCmd(s *streams, runF func(context.Context, *checkOptions, *streams) error) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:     "check [host[:port] | https://host/path | http://host/path]...",
		Short:   "Probe the agent's endpoints: DNS, TCP, proxy, TLS, service tags",
		Long:    checkLong,
		Example: checkExamples,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			return runF(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.TargetsFile, "targets", "", "read targets from `FILE` (YAML, or one target a line)")
	f.StringVar(&opts.Cloud, "cloud", targets.CloudPublic, "built-in catalog and service-tag feed of `CLOUD`: "+strings.Join(targets.CloudNames(), ", ")+" (or another name: AzureChinaCloud, mooncake, AzureUSGovernment, fairfax, ...)")
	f.StringVar(&opts.Region, "region", "", "the vault's `REGION` (e.g. westeurope): probes its Backup pods and expects the regional tags")
	f.StringArrayVar(&opts.Members, "member", nil, "also probe `HOST` as a member of its catalog family (repeatable)")
	f.StringArrayVar(&opts.StorageAccounts, "storage-account", nil, "also probe the blob and queue endpoints of storage account `NAME` (repeatable)")
	f.StringArrayVar(&opts.Vaults, "vault", nil, "also resolve the private-endpoint names of vault `ID` (needs --region; repeatable); no answer is expected unless --private-endpoint")
	f.BoolVar(&opts.PrivateEndpoint, "private-endpoint", false, "the --vault uses a private endpoint: its names must resolve to private addresses, else a DNS failure")
	f.StringArrayVar(&opts.Resolvers, "resolver", nil, "resolve every host with `IP[:PORT]` (repeatable: results per resolver show split horizons); default: the system's")
	f.StringVar(&opts.HostsFile, "hosts-file", "", "read the hosts file the system resolver answers from first from `FILE` (default: "+probe.HostsPath()+")")
	f.StringVar(&opts.Proxy, "proxy", "auto", "auto (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, then the Windows settings), none, or a proxy `URL`")
	f.StringVar(&opts.Path, "path", "", "`ROUTE`: direct, proxy or both (default: proxy for a host a proxy applies to, else direct)")
	f.StringVar(&opts.CAFile, "ca-file", "", "verify TLS against the CA certificates in `FILE` instead of the system roots")
	f.StringVar(&opts.ServiceTags, "service-tags", "", "attribute IPs with this service-tag `FILE` instead of the cached feed of --cloud")
	f.DurationVar(&opts.Timeout, "timeout", probe.DefaultTimeout, "the most one probe (all its steps) may take: a `DURATION` such as 3s or 1500ms")
	f.IntVar(&opts.Concurrency, "concurrency", probe.DefaultConcurrency, "`N` probes in flight at once")
	f.StringVarP(&opts.Output, "output", "o", "table", "output `FORMAT`: table, json, jsonl, csv, markdown, html")
	f.StringVar(&opts.OutputFile, "output-file", "", "write the output to `FILE` instead of stdout")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "show per-step timings (DNS, connect, proxy, TLS, HTTP)")
	f.BoolVar(&opts.NoWildcardCheck, "no-wildcard-check", false, "skip asking each wildcard zone for a random name")
	completeWith(cmd, "cloud", targets.CloudNames()...)
	completeRegion(cmd)
	completeWith(cmd, "output", render.FormatNames()...)
	completeWith(cmd, "path", plan.PathChoices...)
	completeWith(cmd, "proxy", "auto", "none")
	f.BoolVarP(&opts.IPv4Only, "ipv4", "4", false, "probe IPv4 addresses only (as curl -4)")
	f.BoolVarP(&opts.IPv6Only, "ipv6", "6", false, "probe IPv6 addresses only (as curl -6)")
	f.StringVar(&opts.TraceMode, "trace", "off", "trace the path of failed results hop by hop (TCP SYNs with rising TTL): --trace for every failure, --trace=auto only where a connection was silently dropped")
	f.Lookup("trace").NoOptDefVal = "on"
	f.StringVar(&opts.TrustPath, "trust-path", "check", "`MODE`: check (fetch the certificates' OCSP, CRL and CA-issuers URLs; revocation failures warn), required (every failure counts), or off")
	completeWith(cmd, "trust-path", "off", "check", "required")
	f.DurationVar(&opts.TraceTimeout, "trace-timeout", probe.DefaultTraceTimeout, "the most one trace may take: a `DURATION` (30 hops, 5 at a time, 1s each)")
	return cmd
}

// checkLong is check's help text.
const checkLong = `check probes every endpoint the MARS agent needs (the built-in catalog of --cloud, or the targets
given) and tells, per endpoint, resolver, path and IP, which hop fails: DNS, TCP (refused or dropped),
the proxy (CONNECT), or TLS (version, chain, hostname, inspection by a middlebox); which Azure service
tags each IP is in and whether that matches what a service-tag firewall rule admits; and, at the end,
what to open.

Deadlines: --timeout is the most one probe (one result) may take, all steps together. DNS gets at most
40% of it; the connection (TCP or proxy CONNECT), the TLS handshake and the HTTP request share what is
left. A step cut off gets its own *_timeout status. The whole run takes at most about
ceil(results / --concurrency) x --timeout. In a --targets YAML file, "timeout: 3s" on a target
overrides --timeout for that target.

A --targets FILE is a plain list (one target a line) or YAML: 'egressprobe help targets-file'
lists its keys.

IPv6: whether this host can reach IPv6 at all (a global address on an up interface and a route) is
decided once, without sending a packet; without it, IPv6 addresses are skipped_no_ipv6 (neither ok nor
failed). -4 / -6 probe one family only.

Trace: --trace adds to every failed result a TCP SYN trace toward its port (the proxy's, through a
proxy) with rising TTL, naming the last hop that answered ("dies after hop 2 (10.1.2.3)"); --trace=auto
only for silently dropped connections. At most 30 hops, 5 at a time, 1s per hop, --trace-timeout per
trace; it runs without root.

Trust path: after each handshake, the URLs the certificates name (CA issuers, OCSP, CRL: plain HTTP,
port 80) are fetched once per run along the endpoint's route, as Windows does, and judged; they show
as "Certificate authorities (HTTP 80)". --trust-path check (the default) reports revocation failures as
warnings; required makes every trust-path failure fail the run; off fetches nothing.

A vault's private-endpoint names (--vault ID) are only resolved: NXDOMAIN there is expected
(privatelink_absent, informational) unless --private-endpoint says the vault has one; then no
answer, or a public one, is a DNS failure whose fix names the private DNS zone.

The catalog also fetches, on plain HTTP port 80 as Windows does to build and check certificate
chains, from the certificate authorities' hosts (CA issuers, CRL, OCSP) and Windows' root list
(ctldl.windowsupdate.com), judging what comes back (a web filter's page is http_blockpage). An OCSP
or CRL host that fails only warns (revocation_unreachable): Windows waits for it, then goes on
(with --trust-path required it fails).

Exit status: 0 every result ok (or skipped, informational, or an unreachable revocation server), 1
at least one is not, or a trust-path URL failed (the output is still printed in full), 2 bad usage
or bad input.`

// checkExamples are the README's examples of check, as printed there (a
// test keeps the two the same).
const checkExamples = `  egressprobe check
  egressprobe check --cloud china --region chinanorth2 --storage-account myacct
  egressprobe check --region westeurope --vault 1234567890123456789 --private-endpoint --proxy http://user:pass@proxy:3128 --path both
  egressprobe check login.microsoftonline.com:443 https://myacct.blob.core.windows.net/ --resolver 10.0.0.4 --resolver 168.63.129.16
  egressprobe check --targets hosts.yaml -o json --output-file result.json`

// checkRun is a check whose flags are valid, its plan made, its service-tag
// feed loaded and its output opened: what is left is to probe and write.
type checkRun struct {
	format      render.Format
	plan        *plan.Plan
	attribution plan.Attribution
	out         io.Writer
	file        *os.File // --output-file, opened before probing; nil for stdout
}

// prepareCheck does everything that needs no probe: the flags, the plan, the
// feed and --output-file (created now, so that a path that cannot be written
// is said before a long run, not after it).
func prepareCheck(opts *checkOptions, s *streams) (*checkRun, error) {
	format, err := render.ParseFormat(opts.Output)
	if err != nil {
		return nil, flagErrorf("-o", "%v", err)
	}
	if _, err := cloudRegion(opts.Cloud, opts.Region); err != nil {
		return nil, err
	}
	if err := oneOf("--trace", "mode", opts.TraceMode, []string{"off", "on", "auto"}); err != nil {
		return nil, err
	}
	opts.Trace = map[string]probe.TraceWhen{"off": probe.TraceOff, "on": probe.TraceFailures, "auto": probe.TraceTimeouts}[strings.ToLower(strings.TrimSpace(opts.TraceMode))]
	if opts.TraceMode == "on" && slices.ContainsFunc(opts.Targets, func(a string) bool { return a == "auto" || a == "off" }) {
		// pflag reads "--trace auto" as --trace and a target named auto.
		return nil, usageErrorf("--trace auto: write --trace=auto (a word after a bare --trace is read as a target)")
	}
	switch {
	case opts.IPv4Only && opts.IPv6Only:
		return nil, usageErrorf("-4 and -6 exclude each other: give one, or neither to probe both families")
	case opts.IPv4Only:
		opts.Family = 4
	case opts.IPv6Only:
		opts.Family = 6
	}
	p, err := plan.Build(opts.Options, plan.SystemEnv(s.Getenv))
	if err != nil {
		return nil, err
	}
	// A bad feed is bad input: refuse it before minutes of probing.
	attribution, err := plan.LoadAttribution(opts.Options)
	if err != nil {
		return nil, err
	}
	r := &checkRun{format: format, plan: p, attribution: attribution, out: s.Out}
	if opts.OutputFile != "" {
		f, err := os.Create(opts.OutputFile)
		if err != nil {
			return nil, flagErrorf("--output-file", "%v", err)
		}
		r.file, r.out = f, f
	}
	return r, nil
}

func runCheck(ctx context.Context, opts *checkOptions, s *streams) error {
	run, err := prepareCheck(opts, s)
	if err != nil {
		return err
	}
	if run.file != nil {
		defer run.file.Close()
	}

	started := time.Now()
	progress := newRunProgress(s, started)
	obs := probe.Run(ctx, run.plan.Targets, run.plan.RunOptions(progress.update))
	progress.done()
	finished := time.Now()
	rep := run.plan.Report(started, finished, obs, run.attribution)

	ropt := render.CheckOptions{Format: run.format, Verbose: opts.Verbose}
	if run.file == nil && s.OutTTY {
		ropt.Color = s.Getenv("NO_COLOR") == ""
		ropt.Width = s.Width
	}
	if err := render.Check(run.out, rep, ropt); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if run.file != nil {
		if err := run.file.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", opts.OutputFile, err)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: the report shows what finished")
	}
	if rep.Summary.Failed > 0 || rep.Summary.TrustPath.Failed > 0 {
		return errFailed
	}
	return nil
}

// runProgress draws a progress bar on a terminal's stderr once a run has
// taken longer than a moment; never in pipes or files.
type runProgress struct {
	bar   *render.Progress
	start time.Time
}

const progressAfter = 500 * time.Millisecond

func newRunProgress(s *streams, start time.Time) *runProgress {
	if !s.ErrTTY {
		return &runProgress{}
	}
	return &runProgress{bar: render.NewProgress(s.Err, 0), start: start}
}

func (p *runProgress) update(done, total int) {
	if p.bar != nil && time.Since(p.start) > progressAfter {
		p.bar.Update(done, total)
	}
}

func (p *runProgress) done() {
	if p.bar != nil {
		p.bar.Done()
	}
}

// cloudRegion checks --cloud and --region together (a region belongs to a
// cloud) and returns the canonical cloud.
func cloudRegion(cloud, region string) (string, error) {
	c, err := targets.CanonicalCloud(cloud)
	if err != nil {
		return "", flagErrorf("--cloud", "%v", err)
	}
	if region != "" {
		if _, err := targets.LookupRegion(c, region); err != nil {
			return "", flagErrorf("--region", "%v", err)
		}
	}
	return c, nil
}
