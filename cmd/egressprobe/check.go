package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/render"
	"egressprobe/report"
	"egressprobe/targets"
)

// checkOptions are the flags of `egressprobe check`.
type checkOptions struct {
	Targets         []string
	TargetsFile     string
	Cloud           string
	Region          string
	Members         []string
	StorageAccounts []string
	Vaults          []string
	Resolvers       []string
	Proxy           string
	Path            string
	CAFile          string
	ServiceTags     string
	Timeout         time.Duration
	Concurrency     int
	Output          string
	OutputFile      string
	Verbose         bool
	NoWildcardCheck bool
}

func newCheckCmd(s *streams) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [host[:port] | https://host/path | http://host/path]...",
		Short: "Probe the agent's endpoints: DNS, TCP, proxy, TLS, service tags",
		Long: `check probes every endpoint the MARS agent needs (the built-in catalog of --cloud, or the targets
given) and tells, per endpoint, resolver, path and IP, which hop fails: DNS, TCP (refused or dropped),
the proxy (CONNECT), or TLS (version, chain, hostname, inspection by a middlebox); which Azure service
tags each IP is in and whether that matches what a service-tag firewall rule admits; and, at the end,
what to open.

Deadlines: --timeout is the most one probe (one result) may take, all steps together. DNS gets at most
40% of it; the connection (TCP or proxy CONNECT), the TLS handshake and the HTTP request share what is
left. A step cut off gets its own *_timeout status. The whole run takes at most about
ceil(results / --concurrency) x --timeout. In a --targets YAML file, "timeout: 3s" on a target
overrides --timeout for that target.

Exit status: 0 every result ok, 1 at least one is not (the output is still printed in full),
2 bad usage or bad input.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			return runCheck(cmd.Context(), opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.TargetsFile, "targets", "", "read targets from `FILE` (YAML, or one target a line)")
	f.StringVar(&opts.Cloud, "cloud", targets.CloudPublic, "built-in catalog and service-tag feed: "+strings.Join(targets.CloudNames(), ", "))
	f.StringVar(&opts.Region, "region", "", "the vault's `REGION` (e.g. westeurope): probes its Backup pods and expects the regional tags")
	f.StringArrayVar(&opts.Members, "member", nil, "also probe `HOST` as a member of its catalog family (repeatable)")
	f.StringArrayVar(&opts.StorageAccounts, "storage-account", nil, "also probe the blob and queue endpoints of storage account `NAME` (repeatable)")
	f.StringArrayVar(&opts.Vaults, "vault", nil, "also probe the private-endpoint names of vault `ID` (needs --region; repeatable)")
	f.StringArrayVar(&opts.Resolvers, "resolver", nil, "resolve every host with `IP[:PORT]` (repeatable: results per resolver show split horizons); default: the system's")
	f.StringVar(&opts.Proxy, "proxy", "auto", "auto (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, then the Windows settings), none, or a proxy `URL`")
	f.StringVar(&opts.Path, "path", "", "direct, proxy or both (default: proxy for a host a proxy applies to, else direct)")
	f.StringVar(&opts.CAFile, "ca-file", "", "verify TLS against the CA certificates in `FILE` instead of the system roots")
	f.StringVar(&opts.ServiceTags, "service-tags", "", "attribute IPs with this service-tag `FILE` instead of the cached feed of --cloud")
	f.DurationVar(&opts.Timeout, "timeout", probe.DefaultTimeout, "the most one probe (all its steps) may take, e.g. 3s, 1500ms")
	f.IntVar(&opts.Concurrency, "concurrency", probe.DefaultConcurrency, "probes in flight at once")
	f.StringVarP(&opts.Output, "output", "o", "table", "output format: table, json, jsonl, csv, markdown, html")
	f.StringVar(&opts.OutputFile, "output-file", "", "write the output to `FILE` instead of stdout")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "show per-step timings (DNS, connect, proxy, TLS, HTTP)")
	f.BoolVar(&opts.NoWildcardCheck, "no-wildcard-check", false, "skip asking each wildcard zone for a random name")
	return cmd
}

// checkPlan is what a check run will probe: Endpoints[i] is the catalog view of
// Targets[i], the engine's view.
type checkPlan struct {
	Cloud     string // canonical --cloud
	Endpoints []targets.Endpoint
	Targets   []probe.Target
	Resolvers []string
	Proxy     *report.ProxyInfo
	NotProbed []report.NotProbed // catalog families without a member in this run
}

func runCheck(ctx context.Context, opts *checkOptions, s *streams) error {
	format, err := render.ParseFormat(opts.Output)
	if err != nil {
		return &usageError{fmt.Errorf("-o: %w", err)}
	}
	if opts.Timeout <= 0 {
		return usageErrorf("--timeout %s: must be a positive duration such as 10s or 1500ms", opts.Timeout)
	}
	if opts.Concurrency < 1 {
		return usageErrorf("--concurrency %d: must be at least 1", opts.Concurrency)
	}
	plan, err := planCheck(opts, s)
	if err != nil {
		return err
	}

	started := time.Now()
	progress := newRunProgress(s, started)
	obs := probe.Run(ctx, plan.Targets, probe.RunOptions{Concurrency: opts.Concurrency, Progress: progress.update})
	progress.done()
	finished := time.Now()

	tags, tagsInfo := loadTagsFor(opts, s)
	rep := report.Build(report.Input{
		Started: started, Finished: finished,
		Cloud: plan.Cloud, Region: opts.Region,
		Resolvers: plan.Resolvers, Proxy: plan.Proxy,
		Endpoints: plan.Endpoints, Observations: obs, NotProbed: plan.NotProbed,
		Tags: tags, TagsInfo: tagsInfo, Provider: providerLookup(),
	})

	out := s.Out
	if opts.OutputFile != "" {
		f, err := os.Create(opts.OutputFile)
		if err != nil {
			return usageErrorf("--output-file: %v", err)
		}
		defer f.Close()
		out = f
	}
	ropt := render.CheckOptions{Format: format, Verbose: opts.Verbose}
	if opts.OutputFile == "" && s.OutTTY {
		ropt.Color = s.Getenv("NO_COLOR") == ""
		ropt.Width = s.Width
	}
	if err := render.Check(out, rep, ropt); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if f, ok := out.(*os.File); ok && opts.OutputFile != "" {
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", opts.OutputFile, err)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: the report shows what finished")
	}
	if rep.Summary.Failed > 0 {
		return errFailed
	}
	return nil
}

// catalogRun: no targets were given, so the built-in catalog is probed.
func (o *checkOptions) catalogRun() bool { return len(o.Targets) == 0 && o.TargetsFile == "" }

// planCheck turns the flags into endpoints and engine targets: every endpoint
// × resolver × path. Every problem here is bad usage or bad input (exit 2).
func planCheck(opts *checkOptions, s *streams) (*checkPlan, error) {
	cloud, err := targets.CanonicalCloud(opts.Cloud)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--cloud: %w", err)}
	}
	eps, err := checkEndpoints(cloud, opts)
	if err != nil {
		return nil, err
	}
	resolvers, err := checkResolvers(opts.Resolvers)
	if err != nil {
		return nil, err
	}
	roots, err := checkRoots(opts.CAFile)
	if err != nil {
		return nil, err
	}
	sel, err := proxy.FromFlag(opts.Proxy, proxy.Lookup{Getenv: s.Getenv, System: proxy.ReadSystem})
	if err != nil {
		return nil, &usageError{err}
	}
	switch opts.Path {
	case "", "direct", "proxy", "both":
	default:
		return nil, usageErrorf("--path %q: use direct, proxy or both", opts.Path)
	}

	plan := &checkPlan{Cloud: cloud, Resolvers: resolvers}
	if opts.catalogRun() {
		fams, err := targets.Uncovered(cloud, eps)
		if err != nil {
			return nil, err
		}
		for _, f := range fams {
			plan.NotProbed = append(plan.NotProbed, report.NotProbed{Family: f.Pattern, ExpectedTags: slices.Clone(f.Tags)})
		}
	}
	// Each endpoint's own route first: the first proxy found is the run's, and
	// the fallback for a host NO_PROXY bypasses when --path asks for the proxy.
	own := make([]proxy.Route, len(eps))
	var fallback *proxy.Route
	for i, ep := range eps {
		if ep.Scheme == targets.SchemeDNS {
			continue // resolution only: no route
		}
		if own[i], err = sel.Resolve(&url.URL{Scheme: ep.Scheme, Host: ep.Address()}); err != nil {
			return nil, &usageError{err}
		}
		if !own[i].Direct() && fallback == nil {
			fallback = &own[i]
			plan.Proxy = &report.ProxyInfo{URL: own[i].Redacted(), Source: string(own[i].Source)}
		}
	}
	for i, ep := range eps {
		routes, err := pathRoutes(opts.Path, ep, own[i], fallback)
		if err != nil {
			return nil, err
		}
		for _, res := range resolvers {
			for _, route := range routes {
				t := probeTarget(ep, res, route, roots, opts)
				if err := t.Validate(); err != nil {
					return nil, &usageError{err}
				}
				plan.add(ep, t)
			}
		}
	}
	if !opts.NoWildcardCheck && opts.catalogRun() {
		if err := plan.addWildcardChecks(cloud, resolvers, opts.Timeout); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// pathRoutes are the routes --path asks for one endpoint whose own route is
// own: by default that one; direct; the proxy (own, else the run's fallback
// for a host NO_PROXY bypasses); or both.
func pathRoutes(path string, ep targets.Endpoint, own proxy.Route, fallback *proxy.Route) ([]proxy.Route, error) {
	if ep.Scheme == targets.SchemeDNS || path == "" {
		return []proxy.Route{own}, nil
	}
	direct := proxy.Route{Source: proxy.SourceNone, Detail: "--path " + path}
	if path == "direct" {
		return []proxy.Route{direct}, nil
	}
	viaProxy := own
	if viaProxy.Direct() && fallback != nil {
		viaProxy = *fallback
	}
	if viaProxy.Direct() {
		return nil, usageErrorf("--path %s: no proxy is configured (%s); give --proxy URL or set HTTPS_PROXY", path, viaProxy.Detail)
	}
	if path == "both" {
		return []proxy.Route{direct, viaProxy}, nil
	}
	return []proxy.Route{viaProxy}, nil
}

func (p *checkPlan) add(ep targets.Endpoint, t probe.Target) {
	p.Endpoints = append(p.Endpoints, ep)
	p.Targets = append(p.Targets, t)
}

func probeTarget(ep targets.Endpoint, resolver string, route proxy.Route, roots *x509.CertPool, opts *checkOptions) probe.Target {
	t := probe.Target{
		Host: ep.Host, Port: uint16(ep.Port), Path: ep.Path, ExpectBody: ep.ExpectBody,
		DNSOnly:  ep.Scheme == targets.SchemeDNS,
		Resolver: resolver, Route: route, Timeout: opts.Timeout,
		TLS: probe.TLSOptions{ServerName: ep.Host, Roots: roots},
		// A GET after the handshake reads the Date header for the clock check
		// on catalog endpoints, and fetches a target's own URL path.
		HTTP: ep.Scheme == targets.SchemeHTTPS && (ep.Source == targets.SourceCatalog || ep.Path != ""),
	}
	// Catalog endpoints are Microsoft's: with the system roots, a chain to any
	// other CA is an inspection root installed on this machine.
	if opts.CAFile == "" && ep.Source == targets.SourceCatalog {
		t.TLS.ExpectPublicIssuer = true
	}
	if !t.DNSOnly {
		t.Scheme = ep.Scheme
	}
	if ep.Timeout > 0 {
		t.Timeout = ep.Timeout
	}
	if _, err := netip.ParseAddr(ep.Host); err == nil {
		t.TLS.ServerName = "" // an IP literal: verify the address, send no SNI
	}
	return t
}

// addWildcardChecks asks every wildcard family's zone for a random name with
// each resolver: whether the zone answers anything decides whether a host rule
// list can ever be complete.
func (p *checkPlan) addWildcardChecks(cloud string, resolvers []string, timeout time.Duration) error {
	fams, err := targets.Families(cloud)
	if err != nil {
		return err
	}
	for _, f := range fams {
		if !f.Wildcard() {
			continue
		}
		name, err := targets.RandomLabel(f.Pattern, rand.Reader)
		if err != nil {
			return err
		}
		ep := targets.Endpoint{Host: name, Scheme: targets.SchemeDNS, Family: f.Pattern, Cloud: cloud, Role: report.RoleWildcardCheck, Source: targets.SourceCatalog}
		for _, res := range resolvers {
			p.add(ep, probe.Target{Host: name, DNSOnly: true, Resolver: res, Timeout: timeout})
		}
	}
	return nil
}

// checkEndpoints: the targets given, else the built-in catalog of the cloud.
func checkEndpoints(cloud string, opts *checkOptions) ([]targets.Endpoint, error) {
	if opts.catalogRun() {
		eps, err := targets.Catalog(cloud, targets.Options{Region: opts.Region, Members: opts.Members, StorageAccounts: opts.StorageAccounts, Vaults: opts.Vaults})
		if err != nil {
			return nil, &usageError{err}
		}
		return eps, nil
	}
	if len(opts.Members)+len(opts.StorageAccounts)+len(opts.Vaults) > 0 {
		return nil, usageErrorf("--member, --storage-account and --vault add to the built-in catalog; with explicit targets, list those hosts as targets")
	}
	var eps []targets.Endpoint
	for _, a := range opts.Targets {
		ep, err := targets.ParseTarget(a)
		if err != nil {
			return nil, &usageError{err}
		}
		eps = append(eps, ep)
	}
	if opts.TargetsFile != "" {
		fe, err := targets.ReadFile(opts.TargetsFile)
		if err != nil {
			return nil, &usageError{err}
		}
		eps = append(eps, fe...)
	}
	if len(eps) == 0 {
		return nil, usageErrorf("--targets %s: no targets in the file", opts.TargetsFile)
	}
	if err := targets.AssignFamilies(cloud, eps); err != nil {
		return nil, &usageError{err}
	}
	return eps, nil
}

// checkResolvers validates --resolver values ("IP" means port 53), or reads
// the system's resolvers.
func checkResolvers(given []string) ([]string, error) {
	if len(given) == 0 {
		rs, err := probe.SystemResolvers()
		if err != nil {
			return nil, fmt.Errorf("finding the system's DNS resolvers: %w; give --resolver IP[:PORT]", err)
		}
		return rs, nil
	}
	out := make([]string, 0, len(given))
	for _, g := range given {
		if a, err := netip.ParseAddr(strings.Trim(g, "[]")); err == nil {
			out = append(out, netip.AddrPortFrom(a, 53).String())
			continue
		}
		ap, err := netip.ParseAddrPort(g)
		if err != nil || ap.Port() == 0 {
			return nil, usageErrorf("--resolver %q: want IP or IP:PORT, e.g. 10.0.0.53 or [fd00::53]:53", g)
		}
		out = append(out, ap.String())
	}
	return out, nil
}

// checkRoots loads --ca-file; nil means the system roots, which Go loads
// once per process (x509.SystemCertPool would copy them).
func checkRoots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, usageErrorf("--ca-file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageErrorf("--ca-file %s: no PEM certificate found; give a file of -----BEGIN CERTIFICATE----- blocks", caFile)
	}
	return pool, nil
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
