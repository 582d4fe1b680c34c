package probe

import (
	"context"
	"egressprobe/internal/quote"
	"egressprobe/proxy"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Run defaults.
const (
	DefaultTimeout     = 10 * time.Second // per probe, when Target.Timeout is 0 (check --timeout)
	DefaultConcurrency = 32               // probes in flight, when RunOptions.Concurrency is 0
)

// The budgets, carved from one per-probe timeout T (Target.Timeout). T bounds
// each Observation: its DNS step plus its own chain of TCP or proxy CONNECT,
// TLS and HTTP steps.
//   - DNS may take dnsShare of T: a resolver that stalls still leaves the
//     later steps most of T, so a slow resolver reads as dns_timeout, not as
//     a tls_timeout further down.
//   - TCP or CONNECT, TLS and HTTP share what DNS left, each step ending at the
//     latest when the chain does (a deadline on one context): a slow connect
//     leaves less for TLS, never more than T in all.
//
// Every step pushes its deadline down to its socket, so nothing holds a probe
// past T by more than the time a step takes to notice its deadline.
const dnsShare = 0.4

// DNSBudget is how long the DNS step may take for a probe with timeout t.
func DNSBudget(t time.Duration) time.Duration { return time.Duration(float64(t) * dnsShare) }

// ChainBudget is how long the steps after DNS may take together, given that
// DNS took dnsTook: what is left of t, and never less than t minus the DNS
// budget (a resolver that overran its budget by a scheduler tick does not
// shorten the rest).
func ChainBudget(t, dnsTook time.Duration) time.Duration {
	return max(t-dnsTook, t-DNSBudget(t))
}

// Target is one endpoint to probe along one route with one resolver.
type Target struct {
	Host   string // name or IP literal (an IP literal skips DNS)
	Port   uint16 // 0: 443 for https, 80 for http
	Scheme string // "https" (default) or "http" (NCSI)
	// URLPath is the path of the HTTP request, default "/" (not the route:
	// that is Route, and Observation.Path names it).
	URLPath string
	// ExpectBody is the body an HTTP GET must answer (NCSI); see HTTPRequest.
	ExpectBody string
	// Expect is what the content of an http target's answer must be (a
	// certificate authority's, Windows' root list); see Content.
	Expect Content
	// Resolver "IP:PORT" to ask for Host (the CLI fills in the system's), or
	// HostsResolver: HostsAddrs are the answer, no query is made.
	Resolver string
	// HostsAddrs are the hosts file's addresses for Host. With a DNS resolver
	// they are what this machine would use instead of its answer (the report
	// warns); with HostsResolver they are the answer.
	HostsAddrs []netip.Addr
	Route      proxy.Route
	// TLS options; ServerName defaults to Host.
	TLS TLSOptions
	// Timeout bounds each observation of this target; 0: DefaultTimeout.
	Timeout time.Duration
	// HTTP asks for a GET over TLS after the handshake too (https), to read the
	// server's Date; an http target always does its GET. Through a proxy an
	// http target's GET goes to the proxy in absolute form, as Windows sends
	// it, with no CONNECT tunnel.
	HTTP bool
	// DNSOnly resolves and stops: one observation with the DNS step and the
	// first address (NCSI's dns.msftncsi.com, judged by its answer).
	DNSOnly bool
}

// Validate reports a target Run cannot probe as meant, naming the field and
// the fix; the CLI turns it into a usage error. (Run itself never fails on a
// bad target: an empty host or a bad resolver is a dns_error observation.)
func (t Target) Validate() error {
	switch {
	case t.Host == "":
		return errors.New("target: empty host")
	case t.Scheme != "" && t.Scheme != "https" && t.Scheme != "http":
		return fmt.Errorf("target %s: scheme %s: want https or http", t.Host, quote.Q(t.Scheme))
	case t.Timeout < 0:
		return fmt.Errorf("target %s: timeout %v: want a positive duration (0 for the default %v)", t.Host, t.Timeout, DefaultTimeout)
	case t.Resolver == "" && !isLiteral(t.Host):
		return fmt.Errorf("target %s: no resolver: give one as IP:PORT (the system's from SystemResolvers)", t.Host)
	case t.Resolver == HostsResolver && len(t.HostsAddrs) == 0:
		return fmt.Errorf("target %s: resolver %q without the hosts file's addresses (HostsAddrs)", t.Host, HostsResolver)
	case t.URLPath != "" && !strings.HasPrefix(t.URLPath, "/"):
		return fmt.Errorf("target %s: path %s: want one that starts with /", t.Host, quote.Q(t.URLPath))
	}
	return nil
}

func isLiteral(host string) bool { _, ok := ipLiteral(host); return ok }

// ipLiteral parses host as an IP address, bracketed or not.
func ipLiteral(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return a.Unmap(), err == nil
}

// Observation is one probe of one target at one address: plain data, the
// steps in order, nil for those not run. A failed step is recorded and the
// later steps are skipped.
type Observation struct {
	Target Target
	Index  int // the target's index in Run's targets
	// IP is the address probed (direct) or the first address the local
	// resolver gave (proxy); invalid when there is none.
	IP netip.Addr
	// DNS is the local resolution, nil for an IP literal. Observations of one
	// (host, resolver) share it: read it, never write it.
	DNS *DNSResult
	TCP *TCPResult // direct route: the connect to IP
	// Proxy is the proxy route's hop: the CONNECT tunnel, or for an http
	// target the connection to the proxy its GET goes over (no CONNECT is
	// sent: StatusCode 0).
	Proxy *ConnectResult
	TLS   *TLSResult
	HTTP  *HTTPResult
	Trace *TraceResult // when RunOptions.Trace asked for one
	// TrustPath are the URLs the presented certificates named, each with its
	// fetch (shared across the run), when RunOptions.TrustPath asked.
	TrustPath []TrustUse
	// Outcome is the first failed step's outcome, else ok; through a proxy a
	// failed local DNS does not count (the proxy resolves the name).
	Outcome Outcome
	Error   string
	Start   time.Time // when the observation started (an address of a resolved name: after its DNS)
	// notTried is the outcome, and why, of an address Run chose not to probe
	// (skipped_no_ipv6, or none left of the family -4/-6 asked for).
	notTried    Outcome
	notTriedWhy string
	// Elapsed is the observation's DNS step (its own or the shared one it
	// waited for) plus its own steps: at most Target.Timeout, plus the time
	// a step takes to notice its deadline.
	Elapsed time.Duration
}

// Path names the route the observation took.
func (o *Observation) Path() Path {
	if o.Target.Route.Direct() {
		return PathDirect
	}
	return PathProxy
}

// finish sets the observation's outcome from its first failed step and marks
// it Cancelled when ctx was cancelled before it succeeded.
func finish(ctx context.Context, obs Observation) Observation {
	obs.Outcome, obs.Error = OK, ""
	for _, s := range obs.steps() {
		if s != nil && !s.OK() {
			obs.Outcome, obs.Error = s.Outcome, s.Error
			break
		}
	}
	if obs.Outcome == OK && obs.notTried != "" {
		obs.Outcome, obs.Error = obs.notTried, obs.notTriedWhy
	}
	if obs.Outcome == OK && obs.TCP == nil && obs.Proxy == nil && !obs.Target.DNSOnly {
		// Nothing was tried after DNS: the run was stopped in between, or the
		// resolution was ok without an address (a resolver bug; ResolveDNS
		// says dns_nodata for that).
		obs.Outcome, obs.Error = Cancelled, "cancelled before the connection"
		if !stopped(ctx, nil) {
			obs.Outcome = DNSNoData
			obs.Error = fmt.Sprintf("resolver %s gave no address for %s", obs.Target.Resolver, obs.Target.Host)
		}
	}
	if stopped(ctx, nil) && obs.Outcome != OK {
		if obs.Outcome != Cancelled {
			obs.Error = fmt.Sprintf("cancelled during the probe (%s: %s)", obs.Outcome, obs.Error)
		}
		obs.Outcome = Cancelled
	}
	obs.Elapsed = time.Since(obs.Start)
	if obs.DNS != nil && obs.DNS.Start.Before(obs.Start) {
		obs.Elapsed += obs.DNS.Duration // shared DNS ran before this address's start
	}
	return obs
}

// steps are the observation's steps in order, nil for those not run; through
// a proxy the local DNS is left out (its failure is not the route's).
func (o *Observation) steps() [5]*Step {
	var s [5]*Step
	if o.DNS != nil && o.Target.Route.Direct() {
		s[0] = &o.DNS.Step
	}
	if o.TCP != nil {
		s[1] = &o.TCP.Step
	}
	if o.Proxy != nil {
		s[2] = &o.Proxy.Step
	}
	if o.TLS != nil {
		s[3] = &o.TLS.Step
	}
	if o.HTTP != nil {
		s[4] = &o.HTTP.Step
	}
	return s
}
