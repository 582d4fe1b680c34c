// Package plan is the pure step between a run's options and the probe engine:
// endpoints (the built-in catalog, or the targets given) × resolvers × routes
// become probe targets. It decides the route of each endpoint (the NO_PROXY
// fallback of --path proxy), which chains expect a public issuer, and whether
// an HTTP step runs; and it joins the observations back into report.Build.
// `egressprobe check` and the daemon both plan through Build, so a run from a
// config file probes what the same flags would.
package plan

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"egressprobe/internal/quote"
	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/report"
	"egressprobe/targets"
)

// Options are one run's settings, as `check` takes them from flags. Error
// messages name the check flags (--resolver, --path, ...).
type Options struct {
	// Targets are command-line targets (host[:port] or a URL); with no Targets
	// and no TargetsFile the built-in catalog of Cloud is probed.
	Targets []string
	// TargetsFile is a targets file's path; TargetsData, when not nil, is its
	// contents (then the file is not read and TargetsFile only names it).
	TargetsFile string
	TargetsData []byte

	Cloud           string // a cloud name or alias (targets.CanonicalCloud)
	Region          string // the vault's region: its Backup pods and regional tags
	Members         []string
	StorageAccounts []string
	Vaults          []string
	// PrivateEndpoint states that the vaults use a private endpoint: their
	// names must resolve to private addresses (targets.PrivateLinkRequired).
	PrivateEndpoint bool
	// Resolvers are IP or IP:PORT (port 53 by default); none: the system's.
	Resolvers []string
	// HostsFile is the hosts file to read instead of this OS's (Env.Hosts).
	HostsFile string
	Proxy     string // auto, none, or a proxy URL (proxy.FromFlag)
	// Path is "" (each endpoint's own route), direct, proxy or both.
	Path string
	// CAFile verifies TLS against its PEM certificates instead of the system
	// roots (and then no chain is expected to end at a public CA).
	CAFile string
	// ServiceTags is a service-tag file attributing the IPs; "": the cached
	// feed of Cloud (see LoadAttribution).
	ServiceTags     string
	Timeout         time.Duration // per probe, all its steps
	Concurrency     int           // probes in flight
	NoWildcardCheck bool          // skip asking each wildcard zone for a random name
	// Family 4 or 6 probes only that IP version's addresses (-4/-6); 0 both.
	Family int
	// Trace says which results get a TCP SYN trace (--trace), each within
	// TraceTimeout (0: probe.DefaultTraceTimeout).
	Trace        probe.TraceWhen
	TraceTimeout time.Duration
	// TrustPath is off, check or required (report.TrustPath*); "": check.
	TrustPath string
}

// CatalogRun reports whether no targets were given, so the built-in catalog
// is probed.
func (o *Options) CatalogRun() bool {
	return len(o.Targets) == 0 && o.TargetsFile == "" && o.TargetsData == nil
}

// Env is what planning reads from the host.
type Env struct {
	Getenv          func(string) string          // the environment (proxy variables); nil reads nothing
	SystemProxy     func() (proxy.System, error) // the OS proxy settings; nil reads none
	SystemResolvers func() ([]string, error)     // used when Options.Resolvers is empty
	Random          io.Reader                    // the random labels of the wildcard checks
	// IPv6 decides whether this host can reach IPv6 (probe.DetectIPv6); nil:
	// not decided, every address is probed.
	IPv6 func() probe.IPv6Reach
	// Hosts reads the hosts file, which the system resolver answers from
	// first; nil reads none.
	Hosts func() (*probe.Hosts, error)
	// ChainEngine reads Windows' chain-engine budgets (probe.ReadChainEngine);
	// nil reads none.
	ChainEngine func() ([]probe.ChainEngineValue, error)
}

// SystemEnv is the host's own environment read through getenv.
func SystemEnv(getenv func(string) string) Env {
	return Env{Getenv: getenv, SystemProxy: proxy.ReadSystem, SystemResolvers: probe.SystemResolvers, Random: rand.Reader, IPv6: probe.DetectIPv6,
		Hosts: func() (*probe.Hosts, error) { return probe.ReadHosts(probe.HostsPath()) }, ChainEngine: probe.ReadChainEngine}
}

// Plan is what one run will probe: Endpoints[i] is the catalog view of
// Targets[i], the engine's view.
type Plan struct {
	Cloud       string // canonical
	Region      string
	Endpoints   []targets.Endpoint
	Targets     []probe.Target
	Resolvers   []string
	Proxy       *report.ProxyInfo  // the run's proxy; nil when every route is direct
	Proxies     []report.ProxyInfo // every proxy the routes use, Proxy first
	NotProbed   []report.NotProbed // catalog families without a member in this run
	Concurrency int
	Family      int              // Options.Family
	Trace       probe.TraceWhen  // Options.Trace
	TraceBudget time.Duration    // Options.TraceTimeout
	IPv6        *probe.IPv6Reach // this host's IPv6, decided once for the run; nil: not decided
	// TrustPath is how the chains' URLs are fetched and judged; nil: off.
	TrustPath   *report.TrustPathSettings
	TrustBudget time.Duration // each URL's fetch: Options.Timeout
	// WinHTTP is WinHTTP's proxy setting when the trust path is on and it
	// may route a URL otherwise than this run (Windows); nil otherwise.
	WinHTTP *proxy.Settings
}

// InputError is bad usage or bad input in the Options: the fix is the
// caller's (check exits 2). Other errors from Build are the host's.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, a ...any) error { return &InputError{fmt.Errorf(format, a...)} }

// flagErrorf is an InputError about one flag, in the CLI's one shape of flag
// errors: "--flag: what is wrong; the fix".
func flagErrorf(flag, format string, a ...any) error {
	return &InputError{fmt.Errorf("%s: %s", flag, fmt.Sprintf(format, a...))}
}

// Build plans a run: every endpoint × resolver × route. Every problem in the
// options is an *InputError.
func Build(opts Options, env Env) (*Plan, error) {
	if opts.Timeout <= 0 {
		return nil, flagErrorf("--timeout", "%s is not a positive duration; give e.g. 10s or 1500ms", opts.Timeout)
	}
	if opts.Concurrency < 1 {
		return nil, flagErrorf("--concurrency", "%d: give at least 1", opts.Concurrency)
	}
	cloud, err := targets.CanonicalCloud(opts.Cloud)
	if err != nil {
		return nil, flagErrorf("--cloud", "%v", err)
	}
	eps, err := endpoints(cloud, &opts)
	if err != nil {
		return nil, err
	}
	resolvers, err := Resolvers(opts.Resolvers, env.SystemResolvers)
	if err != nil {
		return nil, err
	}
	roots, err := loadRoots(opts.CAFile)
	if err != nil {
		return nil, err
	}
	hosts, err := readHosts(opts.HostsFile, env.Hosts)
	if err != nil {
		return nil, err
	}
	sel, err := proxy.FromFlag(opts.Proxy, proxy.Lookup{Getenv: env.Getenv, System: env.SystemProxy})
	if err != nil {
		return nil, &InputError{err}
	}
	if opts.Path != "" && !slices.Contains(PathChoices, opts.Path) {
		return nil, flagErrorf("--path", "unknown route %s%s", quote.Q(opts.Path), quote.OneOf(opts.Path, PathChoices))
	}
	if opts.TraceTimeout < 0 {
		return nil, inputErrorf("--trace-timeout %s: must be a positive duration such as 6s", opts.TraceTimeout)
	}
	if opts.Family != 0 && opts.Family != 4 && opts.Family != 6 {
		return nil, inputErrorf("IP family %d: want 4 (-4), 6 (-6) or 0 for both", opts.Family)
	}

	p := &Plan{Cloud: cloud, Region: opts.Region, Resolvers: resolvers, Concurrency: opts.Concurrency, Family: opts.Family, Trace: opts.Trace, TraceBudget: opts.TraceTimeout,
		TrustBudget: opts.Timeout}
	if p.TrustPath, err = trustPath(opts.TrustPath, env.ChainEngine); err != nil {
		return nil, err
	}
	if env.IPv6 != nil {
		reach := env.IPv6()
		p.IPv6 = &reach
	}
	if opts.CatalogRun() {
		fams, err := targets.Uncovered(cloud, eps)
		if err != nil {
			return nil, err
		}
		for _, f := range fams {
			p.NotProbed = append(p.NotProbed, report.NotProbed{Family: f.Pattern, ExpectedTags: slices.Clone(f.Tags), NameOne: nameOne(cloud, opts.Region, f)})
		}
	}
	if err := p.addEndpoints(eps, sel, roots, hosts, &opts); err != nil {
		return nil, err
	}
	p.noteWinHTTP(env.SystemProxy)
	if !opts.NoWildcardCheck && opts.CatalogRun() {
		if err := p.addWildcardChecks(cloud, resolvers, opts.Timeout, env.Random); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// trustPath is the trust path's settings for mode (--trust-path), with
// Windows' budgets as this machine's registry sets them; nil when off.
func trustPath(mode string, chainEngine func() ([]probe.ChainEngineValue, error)) (*report.TrustPathSettings, error) {
	switch mode {
	case "":
		mode = report.TrustPathCheck
	case report.TrustPathOff:
		return nil, nil
	case report.TrustPathCheck, report.TrustPathRequired:
	default:
		modes := []string{report.TrustPathOff, report.TrustPathCheck, report.TrustPathRequired}
		return nil, flagErrorf("--trust-path", "unknown mode %s%s", quote.Q(mode), quote.OneOf(mode, modes))
	}
	s := &report.TrustPathSettings{Mode: mode, Registry: []probe.ChainEngineValue{}}
	if chainEngine != nil {
		vals, err := chainEngine()
		if err != nil {
			s.Note = fmt.Sprintf("Windows' chain-engine budgets could not be read (%v): its defaults are assumed", err)
		}
		s.Registry = append(s.Registry, vals...)
	}
	perURL, revocation := probe.ChainBudgets(s.Registry)
	s.URLTimeoutMS, s.RevocationTimeoutMS = perURL.Milliseconds(), revocation.Milliseconds()
	return s, nil
}

// noteWinHTTP says which proxy CryptoAPI fetches a chain's URLs through:
// WinHTTP's (netsh winhttp), whatever the agent or this run use; keeps the
// setting so that the URLs are fetched over its route too where it is not
// this run's, and says so (Windows only: elsewhere there is none).
func (p *Plan) noteWinHTTP(system func() (proxy.System, error)) {
	if p.TrustPath == nil || system == nil {
		return
	}
	sys, err := system()
	if err != nil || sys.WinHTTP == nil {
		return
	}
	w, note := sys.WinHTTP, ""
	if w.Manual || p.Proxy != nil {
		p.WinHTTP = w // else WinHTTP and every route here go direct
	}
	switch {
	case w.Manual && w.Server != "":
		p.TrustPath.WinHTTPProxy = proxy.Redact(w.Server)
		if _, err := proxy.ParseServers(w.Server); err != nil {
			p.WinHTTP = nil
			note = fmt.Sprintf("WinHTTP's proxy setting cannot be used (%v): the URLs were not fetched over CryptoAPI's route", err)
		} else if p.Proxy == nil {
			note = fmt.Sprintf("CryptoAPI fetches these URLs through WinHTTP's proxy %s (netsh winhttp show proxy), and this run went direct: they were fetched through it too, unless its bypass list names their host (route \"proxy (WinHTTP)\")", p.TrustPath.WinHTTPProxy)
		}
	case p.Proxy != nil:
		note = fmt.Sprintf("WinHTTP has no proxy (netsh winhttp show proxy): CryptoAPI fetches these URLs directly, not through %s as this run did: they were fetched directly too (route \"direct (WinHTTP)\"); to have CryptoAPI use the proxy, set WinHTTP's (netsh winhttp import proxy source=ie)", p.Proxy.URL)
	}
	if note != "" {
		p.TrustPath.Note = strings.TrimPrefix(p.TrustPath.Note+"; "+note, "; ")
	}
}

// nameOne says how the user names a member of a family the catalog run has
// none of: the Backup family by --region, unless the region given has no
// published pods (then "add --region" would be no help); Storage families by
// --storage-account; any family by --member.
func nameOne(cloud, region string, f targets.Family) string {
	switch {
	case slices.Contains(f.Tags, targets.TagAzureBackup) && region == "":
		return "add --region REGION or --member HOST"
	case slices.Contains(f.Tags, targets.TagAzureBackup):
		r, err := targets.LookupRegion(cloud, region)
		if err == nil && !r.Pods {
			return fmt.Sprintf("%s has no published Azure Backup pods: name the vault's with --member HOST (from the agent's log or the vault's private endpoint records)", r.Display)
		}
		return "add --member HOST"
	case slices.Contains(f.Tags, targets.TagStorage):
		return "add --storage-account NAME or --member HOST"
	}
	return "add --member HOST"
}

// addEndpoints adds every endpoint × resolver × route --path asks for. A host
// the hosts file names is resolved by it alone when the system's resolvers
// are used, as the agent's would be; with --resolver it is asked as given,
// and the report warns that this machine would use the file's addresses.
func (p *Plan) addEndpoints(eps []targets.Endpoint, sel *proxy.Selector, roots *x509.CertPool, hosts *probe.Hosts, opts *Options) error {
	// Each endpoint's own route first: the first proxy found is the run's, and
	// the fallback for a host NO_PROXY bypasses when --path asks for the proxy.
	own := make([]proxy.Route, len(eps))
	var fallback *proxy.Route
	for i, ep := range eps {
		if ep.Scheme == targets.SchemeDNS {
			continue // resolution only: no route
		}
		var err error
		if own[i], err = sel.Resolve(&url.URL{Scheme: ep.Scheme, Host: ep.Address()}); err != nil {
			return &InputError{err}
		}
		if !own[i].Direct() && fallback == nil {
			fallback = &own[i]
		}
		if !own[i].Direct() {
			p.addProxy(own[i], ep.Scheme)
		}
	}
	if len(p.Proxies) > 0 {
		p.Proxy = &p.Proxies[0]
	}
	// Sized for one route per resolver (exact in the common case): the plan is
	// held for the whole run, and append's doubling left up to 60% of it
	// empty (3 MB at 10,000 targets).
	p.Endpoints = slices.Grow(p.Endpoints, len(eps)*len(p.Resolvers))
	p.Targets = slices.Grow(p.Targets, len(eps)*len(p.Resolvers))
	for i, ep := range eps {
		routes, err := Routes(opts.Path, ep, own[i], fallback)
		if err != nil {
			return err
		}
		pinned := hosts.Lookup(ep.Host)
		resolvers := p.Resolvers
		if _, err := netip.ParseAddr(ep.Host); err == nil {
			resolvers = []string{""} // an IP literal: nothing to resolve, reported as resolver "none"
		} else if len(pinned) > 0 && len(opts.Resolvers) == 0 {
			resolvers = []string{probe.HostsResolver}
		}
		for _, res := range resolvers {
			for _, route := range routes {
				t := Target(ep, res, route, roots, opts)
				t.HostsAddrs = pinned
				if err := t.Validate(); err != nil {
					return &InputError{err}
				}
				if err := literalFamily(t.Host, opts.Family); err != nil {
					return err
				}
				p.add(ep, t)
			}
		}
	}
	return nil
}

// literalFamily refuses an IP literal of the other family than -4 / -6 ask
// for, as curl does.
func literalFamily(host string, family int) error {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || family == 0 || a.Unmap().Is4() == (family == 4) {
		return nil
	}
	other := 10 - family // 4 ↔ 6
	return inputErrorf("target %s: an IPv%d address, but -%d restricts the run to IPv%d; drop -%d or give an IPv%d address", host, other, family, family, family, family)
}

// PathBoth is the --path choice that probes each endpoint along both routes.
const PathBoth = "both"

// PathChoices are what --path (and a daemon config's path) may say: one of
// probe's routes, or both.
var PathChoices = []string{string(probe.PathDirect), string(probe.PathProxy), PathBoth}

// Routes are the routes path (--path) asks for one endpoint whose own route
// is own: by default that one; direct; the proxy (own, else the run's
// fallback for a host NO_PROXY bypasses); or both.
func Routes(path string, ep targets.Endpoint, own proxy.Route, fallback *proxy.Route) ([]proxy.Route, error) {
	if ep.Scheme == targets.SchemeDNS || path == "" {
		return []proxy.Route{own}, nil
	}
	direct := proxy.Route{Source: proxy.SourceNone, Detail: "--path " + path}
	if path == string(probe.PathDirect) {
		return []proxy.Route{direct}, nil
	}
	viaProxy := own
	if viaProxy.Direct() && fallback != nil {
		viaProxy = *fallback
	}
	if viaProxy.Direct() {
		return nil, flagErrorf("--path", "%s asks for a proxy, and none is configured (%s); give --proxy URL or set HTTPS_PROXY", quote.Q(path), viaProxy.Detail)
	}
	if path == PathBoth {
		return []proxy.Route{direct, viaProxy}, nil
	}
	return []proxy.Route{viaProxy}, nil
}

// addProxy notes a route's proxy, once per URL, with the schemes it carries.
func (p *Plan) addProxy(r proxy.Route, scheme string) {
	u := r.Redacted()
	for i := range p.Proxies {
		if p.Proxies[i].URL == u {
			if p.Proxies[i].For != scheme {
				p.Proxies[i].For = ""
			}
			return
		}
	}
	p.Proxies = append(p.Proxies, report.ProxyInfo{URL: u, Source: string(r.Source), For: scheme})
}

func (p *Plan) add(ep targets.Endpoint, t probe.Target) {
	p.Endpoints = append(p.Endpoints, ep)
	p.Targets = append(p.Targets, t)
}

// addWildcardChecks asks every wildcard family's zone for a random name with
// each resolver: whether the zone answers anything decides whether a host rule
// list can ever be complete.
func (p *Plan) addWildcardChecks(cloud string, resolvers []string, timeout time.Duration, rnd io.Reader) error {
	fams, err := targets.Families(cloud)
	if err != nil {
		return err
	}
	for _, f := range fams {
		if !f.Wildcard() {
			continue
		}
		name, err := targets.RandomLabel(f.Pattern, rnd)
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

// endpoints are the targets given, else the built-in catalog of the cloud.
func endpoints(cloud string, opts *Options) ([]targets.Endpoint, error) {
	if opts.CatalogRun() {
		eps, err := targets.Catalog(cloud, targets.Options{Region: opts.Region, Members: opts.Members, StorageAccounts: opts.StorageAccounts,
			Vaults: opts.Vaults, PrivateEndpoint: opts.PrivateEndpoint})
		if err != nil {
			return nil, &InputError{err}
		}
		return eps, nil
	}
	if len(opts.Members)+len(opts.StorageAccounts)+len(opts.Vaults) > 0 || opts.PrivateEndpoint {
		return nil, inputErrorf("--member, --storage-account, --vault and --private-endpoint add to the built-in catalog; with explicit targets, list those hosts as targets")
	}
	var eps []targets.Endpoint
	for _, a := range opts.Targets {
		ep, err := targets.ParseTarget(a)
		if err != nil {
			return nil, &InputError{err}
		}
		eps = append(eps, ep)
	}
	fe, err := targetsFile(opts)
	if err != nil {
		return nil, &InputError{err}
	}
	eps = append(eps, fe...)
	if len(eps) == 0 {
		return nil, flagErrorf("--targets", "no targets in %s", opts.TargetsFile)
	}
	if err := targets.AsCatalog(cloud, opts.Region, eps); err != nil {
		return nil, &InputError{err}
	}
	if err := targets.AssignFamilies(cloud, eps); err != nil {
		return nil, &InputError{err}
	}
	return eps, nil
}

// targetsFile parses the targets file, from TargetsData when given.
func targetsFile(opts *Options) ([]targets.Endpoint, error) {
	switch {
	case opts.TargetsData != nil:
		return targets.ParseFile(opts.TargetsFile, opts.TargetsData)
	case opts.TargetsFile != "":
		return targets.ReadFile(opts.TargetsFile)
	}
	return nil, nil
}
