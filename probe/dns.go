package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNS limits, in one block so they are easy to find and to test against.
const (
	// MaxCNAMEChain caps the CNAME chain followed from the queried host: a
	// longer chain is reported as dns_error (real chains, Azure's included,
	// are 2-4 long).
	MaxCNAMEChain = 8
	// DefaultDNSTimeout bounds a resolution whose context has no deadline.
	DefaultDNSTimeout = 5 * time.Second
	// ednsUDPSize is the EDNS0 buffer size advertised (the DNS flag day 2020 value).
	ednsUDPSize = 1232
	// udpReadSize is the UDP read buffer: above ednsUDPSize (and the 4096 bytes
	// older resolvers assume), so that a resolver ignoring the size asked for
	// still fits; a datagram that fills it may have been cut and is asked
	// again over TCP.
	udpReadSize = 4096
	// udpRetransmit is how long to wait for a UDP answer before sending the
	// query again (a lost datagram is not a dead resolver).
	udpRetransmit = time.Second
)

// DNSQuery is one name to resolve against one resolver.
type DNSQuery struct {
	Host   string // name to resolve, as given (no trailing dot needed)
	Server string // resolver "IP:PORT" (a bare IP means port 53)
}

// CNAME is one link of a CNAME chain.
type CNAME struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	TTL    uint32 `json:"ttl"`
}

// DNSResult is what one resolver said about one host.
//
// Outcome is ok when at least one address came back, unless one of them is
// 0.0.0.0 or :: (dns_blocked: a DNS filter's answer). With no address, A and
// AAAA may have ended differently; the result then carries the more
// informative of the two, in this order: dns_nxdomain, dns_refused,
// dns_servfail, local_resources, dns_error, cancelled, dns_timeout, dns_nodata (an answer with an rcode
// says more than a malformed one, which says more than silence; NODATA only
// stands when both families answered without addresses). On a tie A's message
// is kept.
type DNSResult struct {
	Step
	Host        string       `json:"host"`
	Server      string       `json:"server"`
	CNAMEs      []CNAME      `json:"cnames,omitempty"` // the chain from Host to the name holding the addresses
	Addrs       []netip.Addr `json:"addrs,omitempty"`  // A answers then AAAA answers, de-duplicated, in answer order
	TTL         uint32       `json:"ttl"`              // smallest TTL over the chain and the address records
	PrivateLink bool         `json:"privatelink"`      // some CNAME target has a "privatelink" label
	Truncated   bool         `json:"truncated"`        // a UDP answer was truncated and TCP was used
	// Warning names a failure of one family while the other one answered (the
	// outcome stays ok), e.g. an AAAA query that timed out.
	Warning string `json:"warning,omitempty"`
}

// ResolveDNS asks q.Server for the A and AAAA records of q.Host, both queries
// in flight at once on one UDP socket (RD set, EDNS0 1232), moving to TCP
// for an answer that comes back truncated. It follows the CNAME chain, querying
// on for the target when the server answered only part of it. An IP literal
// is returned as the single address without a query. ctx's deadline (else
// DefaultDNSTimeout) bounds the whole resolution; failures are the result's
// Outcome and Error, never a panic or a hang.
func ResolveDNS(ctx context.Context, q DNSQuery) (res DNSResult) {
	res = DNSResult{Host: q.Host, Server: q.Server}
	res.Start = time.Now()
	defer func() { res.Duration = time.Since(res.Start) }()

	host := strings.TrimSuffix(q.Host, ".")
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		res.Outcome, res.Addrs = OK, []netip.Addr{a}
		return res
	}
	if err := CheckHostname(q.Host); err != nil {
		res.Outcome, res.Error = DNSError, err.Error()
		return res
	}
	server, err := ParseResolver(q.Server)
	if err != nil {
		res.Outcome, res.Error = DNSError, err.Error()
		return res
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = res.Start.Add(DefaultDNSTimeout)
	}
	r := resolution{ctx: ctx, server: server, deadline: deadline, host: host, res: &res}
	r.run()
	return res
}

// family is the state of the A or the AAAA side of a resolution.
type family struct {
	qtype   uint16
	outcome Outcome // "" while the family still needs an answer
	err     error
	ttl     uint32 // smallest TTL of its address records
	addrs   []netip.Addr
}

type resolution struct {
	ctx      context.Context
	server   netip.AddrPort
	deadline time.Time
	host     string
	res      *DNSResult
	fams     [2]family
}

func (r *resolution) run() {
	r.fams = [2]family{{qtype: dns.TypeA}, {qtype: dns.TypeAAAA}}
	name := dns.Fqdn(r.host)
	var xs [2]exchangeQuery
	// Each round either ends a family or lengthens the chain, and the chain is
	// capped, so this loop ends.
	for {
		qs := make([]*exchangeQuery, 0, 2)
		for i := range r.fams {
			if r.fams[i].outcome == "" {
				xs[i] = exchangeQuery{qtype: r.fams[i].qtype}
				qs = append(qs, &xs[i])
			}
		}
		if len(qs) == 0 {
			break
		}
		if exchange(r.ctx, r.server, r.deadline, name, qs) {
			r.res.Truncated = true
		}
		// A resolver that predates EDNS0 answers FORMERR to the OPT record:
		// ask it again without one, as the system's stub resolver would.
		var plain []*exchangeQuery
		for _, x := range qs {
			if x.resp != nil && x.resp.Rcode == dns.RcodeFormatError {
				*x = exchangeQuery{qtype: x.qtype, noEDNS: true}
				plain = append(plain, x)
			}
		}
		if len(plain) > 0 && exchange(r.ctx, r.server, r.deadline, name, plain) {
			r.res.Truncated = true
		}
		next, err := r.extendChain(name, qs)
		if err != nil {
			for _, x := range qs {
				f := &r.fams[familyIndex(x.qtype)]
				f.outcome, f.err = DNSError, err
			}
			break
		}
		for _, x := range qs {
			r.settle(&r.fams[familyIndex(x.qtype)], x, name, next)
		}
		name = next
	}
	r.finish()
}

func familyIndex(qtype uint16) int {
	if qtype == dns.TypeAAAA {
		return 1
	}
	return 0
}

// extendChain walks the CNAMEs in this round's answers from name, appending
// them to the result's chain, and returns the name the chain now ends at.
// Answers from both families count (A's first), so a chain split across them
// is still followed.
func (r *resolution) extendChain(name string, qs []*exchangeQuery) (string, error) {
	cur := name
	for {
		target, ttl, found := "", uint32(0), false
		for _, x := range qs {
			if x.resp == nil {
				continue
			}
			if target, ttl, found = findCNAME(x.resp.Answer, cur); found {
				break
			}
		}
		if !found {
			return cur, nil
		}
		if r.inChain(target) {
			return cur, fmt.Errorf("resolver %s: CNAME loop for %q: %s -> %s; the zone is misconfigured, report it to its owner",
				r.res.Server, r.host, r.chainString(), strings.TrimSuffix(target, "."))
		}
		if len(r.res.CNAMEs) == MaxCNAMEChain {
			return cur, fmt.Errorf("resolver %s: CNAME chain for %q longer than %d: %s -> %s",
				r.res.Server, r.host, MaxCNAMEChain, r.chainString(), strings.TrimSuffix(target, "."))
		}
		r.res.CNAMEs = append(r.res.CNAMEs, CNAME{Name: strings.TrimSuffix(cur, "."), Target: strings.TrimSuffix(target, "."), TTL: ttl})
		cur = target
	}
}

func findCNAME(answer []dns.RR, owner string) (string, uint32, bool) {
	for _, rr := range answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, owner) {
			return c.Target, c.Hdr.Ttl, true
		}
	}
	return "", 0, false
}

func (r *resolution) inChain(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if strings.EqualFold(name, r.host) {
		return true
	}
	for _, c := range r.res.CNAMEs {
		if strings.EqualFold(c.Target, name) {
			return true
		}
	}
	return false
}

func (r *resolution) chainString() string {
	var b strings.Builder
	b.WriteString(r.host)
	for _, c := range r.res.CNAMEs {
		b.WriteString(" -> ")
		b.WriteString(c.Target)
	}
	return b.String()
}

// settle decides family f from its answer in this round: addresses at the end
// of the chain (next), a follow-up query when the chain moved this round but
// stopped short of addresses, or a failure.
func (r *resolution) settle(f *family, x *exchangeQuery, name, next string) {
	qt := dns.TypeToString[f.qtype]
	m := x.resp
	if x.err != nil || m == nil {
		f.outcome, f.err = r.transportFailure(cmp.Or(x.err, errors.New("no answer")), qt)
		return
	}
	target := strings.TrimSuffix(next, ".")
	switch m.Rcode {
	case dns.RcodeSuccess:
		for _, rr := range m.Answer {
			h := rr.Header()
			if h.Rrtype != f.qtype || !strings.EqualFold(h.Name, next) {
				continue
			}
			var a netip.Addr
			switch v := rr.(type) {
			case *dns.A:
				a, _ = netip.AddrFromSlice(v.A)
				a = a.Unmap()
			case *dns.AAAA:
				a, _ = netip.AddrFromSlice(v.AAAA)
			}
			if !a.IsValid() {
				continue
			}
			if len(f.addrs) == 0 || h.Ttl < f.ttl {
				f.ttl = h.Ttl
			}
			f.addrs = append(f.addrs, a)
		}
		switch {
		case len(f.addrs) > 0:
			f.outcome = OK
		case next != name:
			// The chain moved but stopped short of addresses: ask for its end
			// (an authoritative server answers only its own zone's part).
		default:
			f.outcome = DNSNoData
			f.err = fmt.Errorf("resolver %s: %q exists but has no %s record (NODATA)", r.res.Server, target, qt)
		}
	case dns.RcodeNameError:
		f.outcome = DNSNXDomain
		if target != r.host {
			f.err = fmt.Errorf("resolver %s: %q (CNAME target of %q) does not exist (NXDOMAIN); the zone holding it is broken or this resolver sees another version of it",
				r.res.Server, target, r.host)
		} else {
			f.err = fmt.Errorf("resolver %s: %q does not exist (NXDOMAIN); check the spelling, or whether this resolver serves a different (split-horizon) view", r.res.Server, r.host)
		}
	case dns.RcodeServerFailure:
		f.outcome = DNSServfail
		f.err = fmt.Errorf("resolver %s failed to resolve %q %s (SERVFAIL): it or an upstream server is broken or cannot reach the authoritative servers; try another resolver with --resolver",
			r.res.Server, target, qt)
	case dns.RcodeRefused:
		f.outcome = DNSRefused
		f.err = fmt.Errorf("resolver %s refused to resolve %q (REFUSED): it does not serve this client or this zone; use the resolver this host is configured with",
			r.res.Server, target)
	default:
		f.outcome = DNSError
		f.err = fmt.Errorf("resolver %s answered %s for %q %s (with and without EDNS0 for FORMERR); the resolver is broken or does not speak DNS as expected",
			r.res.Server, dns.RcodeToString[m.Rcode], target, qt)
	}
}

// transportFailure classifies an exchange that brought no usable answer,
// with the classifier the dialling steps share (classify.go).
func (r *resolution) transportFailure(err error, qt string) (Outcome, error) {
	switch f := classifyDial(r.ctx, err); f {
	case faultCanceled:
		return Cancelled, fmt.Errorf("resolver %s: %s query for %q cancelled before an answer: %w", r.res.Server, qt, r.host, err)
	case faultTimeout:
		return DNSTimeout, fmt.Errorf("no answer from resolver %s for %q %s within %v: the resolver is down, or port %d to it is dropped by a firewall",
			r.res.Server, r.host, qt, r.deadline.Sub(r.res.Start).Round(time.Millisecond), r.server.Port())
	case faultOther:
		return DNSError, fmt.Errorf("resolver %s, %s query for %q: %w", r.res.Server, qt, r.host, err)
	case faultLocalResources:
		return LocalResources, fmt.Errorf("resolver %s, %s query for %q: %s: %w", r.res.Server, qt, r.host, f.explain(), err)
	default:
		why := f.explain()
		var oe *net.OpError
		if f == faultRefused && errors.As(err, &oe) && strings.HasPrefix(oe.Net, "udp") {
			// No RST on UDP: an ICMP port unreachable answered the query.
			why = fmt.Sprintf("port unreachable (ICMP): nothing answers DNS on UDP %d there, or a firewall rejects the query", r.server.Port())
		}
		return DNSError, fmt.Errorf("resolver %s unreachable: %s; check the resolver address or give another with --resolver: %w", r.res.Server, why, err)
	}
}

// failurePrecedence orders the outcomes of a family without addresses; see DNSResult.
var failurePrecedence = [...]Outcome{DNSNXDomain, DNSRefused, DNSServfail, LocalResources, DNSError, Cancelled, DNSTimeout, DNSNoData}

func rank(o Outcome) int {
	for i, p := range failurePrecedence {
		if p == o {
			return i
		}
	}
	return len(failurePrecedence)
}

func (r *resolution) finish() {
	res := r.res
	n := len(r.fams[0].addrs) + len(r.fams[1].addrs)
	if n > 0 {
		res.Addrs = make([]netip.Addr, 0, n)
	}
	ttlSet := false
	for _, c := range res.CNAMEs {
		if !ttlSet || c.TTL < res.TTL {
			res.TTL, ttlSet = c.TTL, true
		}
		res.PrivateLink = res.PrivateLink || IsPrivateLinkName(c.Target)
	}
	for i := range r.fams {
		f := &r.fams[i]
		for _, a := range f.addrs {
			if !containsAddr(res.Addrs, a) {
				res.Addrs = append(res.Addrs, a)
			}
		}
		if len(f.addrs) > 0 && (!ttlSet || f.ttl < res.TTL) {
			res.TTL, ttlSet = f.ttl, true
		}
	}
	if n > 0 {
		res.Outcome = OK
		for i := range r.fams {
			if f := &r.fams[i]; f.outcome != OK && f.outcome != DNSNoData && f.err != nil {
				res.Warning = dns.TypeToString[f.qtype] + ": " + f.err.Error()
				break
			}
		}
		judgeBlocked(res)
		return
	}
	pick := &r.fams[0]
	if rank(r.fams[1].outcome) < rank(pick.outcome) {
		pick = &r.fams[1]
	}
	res.Outcome = pick.outcome
	if pick.err != nil {
		res.Error = pick.err.Error()
	}
	if r.fams[0].outcome == DNSNoData && r.fams[1].outcome == DNSNoData {
		res.Error = fmt.Sprintf("resolver %s: %q exists but has no A or AAAA record (NODATA); the name is not meant to be reached, or the zone is incomplete",
			res.Server, r.finalName())
	}
}

// finalName is the name the chain ends at (the host when there is no CNAME).
func (r *resolution) finalName() string {
	if n := len(r.res.CNAMEs); n > 0 {
		return r.res.CNAMEs[n-1].Target
	}
	return r.host
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}
