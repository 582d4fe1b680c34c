package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"egressprobe/proxy"
)

// RunOptions tune Run.
type RunOptions struct {
	Concurrency int // probes in flight at once; 0: DefaultConcurrency
	// Progress, when set, is called once per finished target with the number
	// of targets done and the total; calls are serialised.
	Progress func(done, total int)
	// IPv6 is whether this host can reach IPv6 (DetectIPv6, once per run):
	// when it cannot, IPv6 addresses are skipped_no_ipv6, not probed. nil:
	// not decided, every address is probed.
	IPv6 *IPv6Reach
	// Trace says which results get a TCP SYN trace toward the port they
	// used (toward the proxy through one), each bounded by TraceTimeout
	// (0: DefaultTraceTimeout) and not counted in the probe's Elapsed.
	Trace        TraceWhen
	TraceTimeout time.Duration
	// Family 4 or 6 probes only the addresses of that IP version, as curl's
	// -4/-6; 0 probes both.
	Family int
	// TrustPath, when set, fetches and judges the URLs every presented chain
	// names (Observation.TrustPath); nil: none is fetched.
	TrustPath *TrustPathOptions
}

// Run probes targets with at most opt.Concurrency probes in flight and
// returns the observations in target order, then address order.
//
// A direct target is resolved once per (host, resolver) in the run, then
// probed at each address, each address a job of its own. A proxy target is one
// observation, the local resolution beside the tunnel.
//
// Cancelling ctx (Ctrl-C) stops the run early: Run returns at once what
// finished; probes in flight end with outcome Cancelled and the steps they
// completed, and targets not started are one Cancelled observation each,
// without steps.
func Run(ctx context.Context, targets []Target, opt RunOptions) []Observation {
	r := &runner{ctx: ctx, targets: targets, opt: opt, first: make([]Observation, len(targets)), more: make([][]Observation, len(targets))}
	if opt.TrustPath != nil {
		r.trust = &trustCache{}
	}
	r.pending.L = &r.mu
	// Not capped by len(targets): a target's addresses are jobs of their own.
	workers := opt.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(r.work)
	}
	wg.Wait()
	return r.collect()
}

// runner is one Run: a pool of workers taking jobs, each writing into its own
// pre-sized slot, so no result is shared while the pool runs.
type runner struct {
	ctx     context.Context
	targets []Target
	opt     RunOptions
	// first is each target's first observation (most targets have only one:
	// first is then Run's answer as it is, no copy), more the others of a
	// target with several addresses, sized once they are known. A target
	// never started has neither: its first has no Outcome.
	first []Observation
	more  [][]Observation

	mu      sync.Mutex
	pending sync.Cond // signalled when jobs are queued or the last active one ends
	next    int       // the next target to start
	queue   []addrJob // addresses waiting, run before new targets
	active  int       // jobs running (each may queue more)

	progMu   sync.Mutex
	finished int

	dns   dnsCache
	trust *trustCache // nil: no trust path
}

// addrJob is one address of a resolved direct target.
type addrJob struct {
	target, slot int
	dns          *DNSResult
	addr         netip.Addr
	left         *int // the target's addresses not yet finished (guarded by runner.mu)
}

// work runs jobs until none are left: queued addresses first, so that the
// targets started finish before new ones start.
func (r *runner) work() {
	for {
		r.mu.Lock()
		var (
			job    addrJob
			target = -1
		)
		for {
			if n := len(r.queue); n > 0 {
				job, r.queue = r.queue[n-1], r.queue[:n-1]
				break
			}
			if r.next < len(r.targets) && r.ctx.Err() == nil {
				target = r.next
				r.next++
				break
			}
			if r.active == 0 {
				r.mu.Unlock()
				r.pending.Broadcast()
				return
			}
			r.pending.Wait()
		}
		r.active++
		r.mu.Unlock()

		if target >= 0 {
			r.startTarget(target)
		} else {
			r.runAddr(job)
		}

		r.mu.Lock()
		r.active--
		if r.active == 0 {
			r.pending.Broadcast()
		}
		r.mu.Unlock()
	}
}

// startTarget resolves target i and probes its first address, queueing the
// others for any worker.
func (r *runner) startTarget(i int) {
	t := r.targets[i]
	if !t.Route.Direct() {
		r.first[i] = r.probeProxy(i)
		r.targetDone()
		return
	}
	obs := r.newObservation(i, time.Now())
	addrs, ok := r.resolve(&obs)
	if t.DNSOnly && ok {
		obs.IP = addrs[0]
	}
	if ok && !t.DNSOnly {
		addrs = r.ofFamily(&obs, addrs)
	}
	if !ok || t.DNSOnly || len(addrs) == 0 {
		r.first[i] = finish(r.ctx, obs)
		r.targetDone()
		return
	}
	left := len(addrs)
	if len(addrs) > 1 {
		r.more[i] = make([]Observation, len(addrs)-1)
		r.mu.Lock()
		// Queued last-in first-out: push in reverse so address order is also
		// start order.
		for j := len(addrs) - 1; j >= 1; j-- {
			r.queue = append(r.queue, addrJob{target: i, slot: j, dns: obs.DNS, addr: addrs[j], left: &left})
		}
		r.mu.Unlock()
		r.pending.Broadcast()
	}
	r.runAddr(addrJob{target: i, slot: 0, dns: obs.DNS, addr: addrs[0], left: &left})
}

// runAddr probes one address of a resolved direct target.
func (r *runner) runAddr(j addrJob) {
	obs := r.newObservation(j.target, time.Now())
	obs.DNS, obs.IP = j.dns, j.addr
	if skipsIPv6(r.opt.IPv6, j.addr) {
		obs.notTried = SkippedNoIPv6
		obs.notTriedWhy = fmt.Sprintf("%s: not tried: IPv6: none on this host (%s); the agent cannot use this address either", j.addr, r.opt.IPv6.Detail)
	} else if r.ctx.Err() == nil {
		var dnsTook time.Duration
		if obs.DNS != nil {
			dnsTook = obs.DNS.Duration
		}
		ctx, cancel := context.WithTimeout(r.ctx, ChainBudget(obs.Target.Timeout, dnsTook))
		conn := r.dialDirect(ctx, &obs)
		r.afterConnect(ctx, &obs, conn)
		cancel()
	}
	obs = r.trace(r.trustPath(finish(r.ctx, obs)))
	if j.slot == 0 {
		r.first[j.target] = obs
	} else {
		r.more[j.target][j.slot-1] = obs
	}
	r.mu.Lock()
	*j.left--
	last := *j.left == 0
	r.mu.Unlock()
	if last {
		r.targetDone()
	}
}

// probeProxy is the one observation of a target through its proxy: the local
// resolution runs beside the tunnel, since the proxy resolves the name itself.
func (r *runner) probeProxy(i int) Observation {
	obs := r.newObservation(i, time.Now())
	t := &obs.Target
	resolved := make(chan struct{})
	local := obs // the resolution's own copy, joined below
	go func() {
		defer close(resolved)
		r.resolve(&local)
	}()
	ctx, cancel := context.WithTimeout(r.ctx, t.Timeout)
	defer cancel()
	var (
		conn net.Conn
		cr   ConnectResult
	)
	if t.Scheme == "http" {
		// Plain HTTP goes to the proxy in absolute form, no tunnel.
		conn, cr = DialProxy(ctx, t.Route)
	} else {
		conn, cr = Connect(ctx, t.Route, net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port))))
	}
	obs.Proxy = &cr
	if cr.OK() {
		r.afterConnect(ctx, &obs, conn)
	}
	<-resolved
	obs.DNS = local.DNS
	if obs.DNS != nil && obs.DNS.OK() && len(obs.DNS.Addrs) > 0 {
		obs.IP = obs.DNS.Addrs[0]
	}
	return r.trace(r.trustPath(finish(r.ctx, obs)))
}

// trace adds the trace RunOptions.Trace asks for to a finished observation:
// toward the address and port probed, or through a proxy toward the proxy —
// the probes never leave the route the probe used.
func (r *runner) trace(obs Observation) Observation {
	direct := obs.Target.Route.Direct()
	if !r.opt.Trace.traces(obs.Outcome, direct) || r.ctx.Err() != nil {
		return obs
	}
	dst := netip.AddrPortFrom(obs.IP, obs.Target.Port)
	if !direct {
		dst, _ = netip.ParseAddrPort(obsProxyAddr(&obs))
	}
	if !dst.Addr().IsValid() {
		return obs // nothing was connected to (no address, or the proxy's name did not resolve)
	}
	budget := r.opt.TraceTimeout
	if budget <= 0 {
		budget = DefaultTraceTimeout
	}
	ctx, cancel := context.WithTimeout(r.ctx, budget)
	defer cancel()
	tr := TraceTCP(ctx, dst)
	if !direct {
		tr.ViaProxy = true
		tr.Note = joinNote(fmt.Sprintf("the path to the proxy %s: the proxy reaches %s itself", dst, obs.Target.Host), tr.Note)
	}
	obs.Trace = &tr
	return obs
}

func obsProxyAddr(obs *Observation) string {
	if obs.Proxy == nil {
		return ""
	}
	return obs.Proxy.ProxyAddr
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// ofFamily keeps the addresses of the IP version RunOptions.Family asks for;
// when none is left, obs says so (the resolver answered, but not with that
// family: dns_nodata, as curl -4 says it could not resolve the host).
func (r *runner) ofFamily(obs *Observation, addrs []netip.Addr) []netip.Addr {
	if r.opt.Family != 4 && r.opt.Family != 6 {
		return addrs
	}
	kept := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a.Unmap().Is4() == (r.opt.Family == 4) {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		obs.notTried = DNSNoData
		obs.notTriedWhy = fmt.Sprintf("%s has no IPv%d address (only %v), and -%d restricts the run to IPv%d",
			obs.Target.Host, r.opt.Family, addrs, r.opt.Family, r.opt.Family)
	}
	return kept
}

// newObservation starts an observation of target i with its defaults filled.
func (r *runner) newObservation(i int, start time.Time) Observation {
	t := r.targets[i]
	if t.Scheme == "" {
		t.Scheme = "https"
	}
	if t.Port == 0 {
		t.Port = proxy.DefaultPort(t.Scheme)
	}
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	if t.TLS.ServerName == "" {
		t.TLS.ServerName = t.Host
	}
	return Observation{Target: t, Index: i, Start: start}
}

// resolve fills obs.DNS (nil for an IP literal) and returns the addresses to
// probe; ok is false when the resolution failed.
func (r *runner) resolve(obs *Observation) (addrs []netip.Addr, ok bool) {
	t := &obs.Target
	if a, ok := ipLiteral(t.Host); ok {
		return []netip.Addr{a}, true
	}
	if t.Resolver == HostsResolver {
		d := ResolveHosts(t.Host, t.HostsAddrs)
		obs.DNS = &d
	} else {
		obs.DNS = r.dns.resolve(r.ctx, DNSQuery{Host: t.Host, Server: t.Resolver}, DNSBudget(t.Timeout))
	}
	return obs.DNS.Addrs, obs.DNS.OK() && len(obs.DNS.Addrs) > 0
}

// dialDirect connects to obs.IP, recording the step; nil unless ok.
func (r *runner) dialDirect(ctx context.Context, obs *Observation) net.Conn {
	conn, tr := DialTCP(ctx, netip.AddrPortFrom(obs.IP, obs.Target.Port))
	obs.TCP = &tr
	return conn
}

// afterConnect runs the steps after the connection: TLS for https, then the
// GET when asked (always for http, plain). It closes conn; a nil conn is a
// failed step.
func (r *runner) afterConnect(ctx context.Context, obs *Observation, raw net.Conn) {
	if raw == nil {
		return
	}
	conn := raw
	// Closing the socket, not the *tls.Conn: a close_notify alert costs a write
	// and tells the probe nothing.
	defer func() { _ = raw.Close() }()
	t := &obs.Target
	if t.Scheme == "https" {
		var tr TLSResult
		if t.Route.Direct() {
			conn, tr = handshakeDirect(ctx, conn, netip.AddrPortFrom(obs.IP, t.Port), t.TLS)
		} else {
			// Through a proxy a stall is between the proxy and the server,
			// or in the tunnel: a clamped connection to the proxy tells
			// nothing about the server's path.
			var tc *tls.Conn
			if tc, tr = HandshakeTLS(ctx, conn, t.TLS); tc != nil {
				conn = tc
			}
		}
		obs.TLS = &tr
		if !tr.OK() {
			return
		}
		if !t.HTTP {
			return
		}
	}
	name := t.Host
	if t.Scheme == "https" {
		name = t.TLS.ServerName // the name the server was asked for in SNI
	}
	req := HTTPRequest{Scheme: t.Scheme, Host: hostHeader(name, t.Port, t.Scheme), Path: t.URLPath, ExpectBody: t.ExpectBody, Expect: t.Expect}
	if t.Scheme == "http" && !t.Route.Direct() {
		req.Proxy = t.Route.Proxy
	}
	if t.Expect != "" {
		// The certificate authorities' hosts: asked as CryptoAPI asks them,
		// so a filter that treats its fetches apart is seen.
		req.UserAgent = CryptoAPIUserAgent
	}
	hr := HTTPGet(ctx, conn, req)
	obs.HTTP = &hr
}

// hostHeader is host[:port] for a Host header, leaving out the scheme's
// default port as Windows NCSI and browsers do.
func hostHeader(host string, port uint16, scheme string) string {
	if port == proxy.DefaultPort(scheme) {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// targetDone counts a finished target and reports progress.
func (r *runner) targetDone() {
	if r.opt.Progress == nil {
		return
	}
	r.progMu.Lock()
	defer r.progMu.Unlock()
	r.finished++
	r.opt.Progress(r.finished, len(r.targets))
}

// collect flattens the slots in target then address order; a target never
// started becomes one Cancelled observation.
func (r *runner) collect() []Observation {
	more := 0
	for i := range r.first {
		if r.first[i].Outcome == "" {
			r.first[i] = r.newObservation(i, time.Now())
			r.first[i].Outcome, r.first[i].Error = Cancelled, "cancelled before it started"
		}
		more += len(r.more[i])
	}
	if more == 0 {
		return r.first
	}
	out := make([]Observation, 0, len(r.first)+more)
	for i := range r.first {
		out = append(out, r.first[i])
		out = append(out, r.more[i]...)
	}
	return out
}
