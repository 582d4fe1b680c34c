package probe

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
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
// Outcome is ok when at least one address came back. With no address, A and
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
		return DNSError, fmt.Errorf("resolver %s unreachable: %s; check the resolver address or give another with --resolver: %w", r.res.Server, f.explain(), err)
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

// exchangeQuery is one question of an exchange and how it ended: resp set,
// err set, or truncated (answered over TCP next).
type exchangeQuery struct {
	qtype     uint16
	noEDNS    bool // ask without EDNS0 (the resolver answered FORMERR to it)
	id        uint16
	wire      []byte
	resp      *dns.Msg
	err       error
	truncated bool
}

func (x *exchangeQuery) done() bool { return x.resp != nil || x.err != nil || x.truncated }

// wireBufs recycles the buffers an exchange packs into and reads into; a
// 64 KiB read buffer per resolution would otherwise dominate the cost at
// thousands of resolutions a second.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 2*512+dns.MaxMsgSize); return &b }}

// exchange sends the queries for name over UDP at once, waits for all
// answers (retransmitting every udpRetransmit), then asks over TCP for those
// that came back truncated. It reports whether TCP was used. Every query ends
// with resp or err set.
func exchange(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, qs []*exchangeQuery) bool {
	bp := wireBufs.Get().(*[]byte)
	defer func() {
		for _, x := range qs {
			x.wire = nil // it points into the buffer going back to the pool
		}
		wireBufs.Put(bp)
	}()
	buf := *bp
	for i, x := range qs {
		x.id = uint16(rand.Uint32()) // runtime ChaCha8: unpredictable, and no syscall or allocation as dns.Id has
		if i > 0 && x.id == qs[0].id {
			x.id++ // the IDs tell the answers apart on the shared socket
		}
		wire, err := packQuery(buf[i*512:(i+1)*512], x.id, name, x.qtype, !x.noEDNS)
		if err != nil {
			x.err = fmt.Errorf("query for %q: %w", name, err)
			continue
		}
		x.wire = wire
	}
	rbuf := buf[2*512:]
	exchangeUDP(ctx, server, deadline, name, qs, rbuf)
	truncated := false
	for _, x := range qs {
		truncated = truncated || x.truncated
	}
	if truncated {
		exchangeTCP(ctx, server, deadline, name, qs, rbuf)
	}
	return truncated
}

// ednsOPT is the OPT pseudo-record every query carries: root owner, type
// OPT (41), UDP size 1232, no extended rcode, version 0, no DO bit, no options.
var ednsOPT = [11]byte{0, 0, 41, ednsUDPSize >> 8, ednsUDPSize & 0xff, 0, 0, 0, 0, 0, 0}

// packQuery writes a recursive query for (name, qtype), with EDNS0 when edns,
// into buf (512 bytes is enough for any name). Packing by hand rather than through a
// dns.Msg saves a third of a resolution's allocations.
func packQuery(buf []byte, id uint16, name string, qtype uint16, edns bool) ([]byte, error) {
	buf = buf[:512]
	binary.BigEndian.PutUint16(buf[0:], id)
	binary.BigEndian.PutUint16(buf[2:], 1<<8) // RD
	binary.BigEndian.PutUint16(buf[4:], 1)    // QDCOUNT
	binary.BigEndian.PutUint32(buf[6:], 0)    // ANCOUNT, NSCOUNT
	binary.BigEndian.PutUint16(buf[10:], 0)   // ARCOUNT
	off, err := dns.PackDomainName(name, buf, 12, nil, false)
	if err != nil {
		return nil, err
	}
	if off+4+len(ednsOPT) > len(buf) {
		return nil, errors.New("name too long for a query")
	}
	binary.BigEndian.PutUint16(buf[off:], qtype)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	if edns {
		binary.BigEndian.PutUint16(buf[10:], 1) // ARCOUNT: the OPT record
		off += copy(buf[off:], ednsOPT[:])
	}
	return buf[:off], nil
}

// watch makes conn's I/O fail at once when ctx is cancelled before its deadline.
func watch(ctx context.Context, conn net.Conn, deadline time.Time) (stop func() bool) {
	_ = conn.SetDeadline(deadline)
	if ctx.Done() == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func failPending(qs []*exchangeQuery, err error) {
	for _, x := range qs {
		if !x.done() {
			x.err = err
		}
	}
}

func pending(qs []*exchangeQuery) int {
	n := 0
	for _, x := range qs {
		if !x.done() {
			n++
		}
	}
	return n
}

func exchangeUDP(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, qs []*exchangeQuery, rbuf []byte) {
	if pending(qs) == 0 {
		return
	}
	// A connected socket: only the resolver's datagrams reach it, and an ICMP
	// port unreachable surfaces as ECONNREFUSED on read (Linux).
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		failPending(qs, err)
		return
	}
	defer conn.Close()
	defer watch(ctx, conn, deadline)()
	send := func() error {
		for _, x := range qs {
			if !x.done() {
				if _, err := conn.Write(x.wire); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := send(); err != nil {
		failPending(qs, err)
		return
	}
	resend := time.Now().Add(udpRetransmit)
	for pending(qs) > 0 {
		_ = conn.SetReadDeadline(earliest(deadline, resend))
		n, err := conn.Read(rbuf)
		if err != nil {
			if timedOut(err) && ctx.Err() == nil && time.Now().Before(deadline) {
				if err := send(); err != nil {
					failPending(qs, err)
					return
				}
				resend = time.Now().Add(udpRetransmit)
				continue
			}
			failPending(qs, err)
			return
		}
		if !acceptReply(qs, name, rbuf[:n], true) {
			return
		}
	}
}

func exchangeTCP(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, qs []*exchangeQuery, rbuf []byte) {
	var todo []*exchangeQuery
	for _, x := range qs {
		if x.truncated {
			x.truncated = false
			todo = append(todo, x)
		}
	}
	for pending(todo) > 0 {
		answered, err := exchangeTCPConn(ctx, server, deadline, name, todo, rbuf)
		// A server that answers one query per connection closes (or resets)
		// it after that answer: ask again on a new connection for the rest.
		// Each round answers at least one query, so this loop ends.
		if err != nil && answered == 0 {
			failPending(todo, err)
			return
		}
	}
}

// exchangeTCPConn asks the pending queries on one TCP connection, pipelined
// (RFC 7766: all questions in one write, answers in any order). It returns
// how many answers it read before a read error.
func exchangeTCPConn(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, todo []*exchangeQuery, rbuf []byte) (int, error) {
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	defer watch(ctx, conn, deadline)()
	out := make([]byte, 0, 2*(2+512))
	for _, x := range todo {
		if !x.done() {
			out = binary.BigEndian.AppendUint16(out, uint16(len(x.wire)))
			out = append(out, x.wire...)
		}
	}
	if _, err := conn.Write(out); err != nil {
		return 0, err
	}
	answered := 0
	for pending(todo) > 0 {
		if _, err := io.ReadFull(conn, rbuf[:2]); err != nil {
			return answered, fmt.Errorf("reading the TCP answer: %w", err)
		}
		n := int(binary.BigEndian.Uint16(rbuf[:2]))
		if _, err := io.ReadFull(conn, rbuf[:n]); err != nil {
			return answered, fmt.Errorf("reading the TCP answer: %w", err)
		}
		answered++
		if !acceptReply(todo, name, rbuf[:n], false) {
			break // every query has its error
		}
	}
	return answered, nil
}

// errWrongID is an answer to a question we did not ask on this socket.
var errWrongID = errors.New("the resolver answered with a query ID that was not asked (a broken resolver or a middlebox rewriting DNS)")

// acceptReply matches one wire reply to its query. It returns false when the
// reply ends the exchange for every pending query (garbage, unknown ID).
func acceptReply(qs []*exchangeQuery, name string, wire []byte, udp bool) bool {
	m := new(dns.Msg)
	uerr := m.Unpack(wire)
	var x *exchangeQuery
	for _, q := range qs {
		if q.wire != nil && q.id == m.Id {
			x = q
		}
	}
	switch {
	case uerr != nil && len(wire) >= 12 && x != nil && !x.done() && m.Truncated && udp:
		// A truncated datagram may not even unpack; its header is enough.
		x.truncated = true
		return true
	case uerr != nil:
		failPending(qs, fmt.Errorf("the resolver sent a malformed answer (%d bytes): %w", len(wire), uerr))
		return false
	case x == nil:
		failPending(qs, fmt.Errorf("%w (ID %d)", errWrongID, m.Id))
		return false
	case x.done():
		return true // a duplicate answer to a retransmitted query
	}
	switch {
	case !m.Response:
		x.err = errors.New("the resolver sent a query instead of an answer")
	case len(m.Question) == 0 && m.Rcode != dns.RcodeSuccess:
		x.resp = m // an error answer may omit the question
	case len(m.Question) != 1 || m.Question[0].Qtype != x.qtype || !strings.EqualFold(m.Question[0].Name, name):
		x.err = fmt.Errorf("the resolver answered another question than the %s query asked", dns.TypeToString[x.qtype])
	case m.Truncated && udp:
		x.truncated = true
	default:
		x.resp = m
	}
	return true
}

// CheckHostname reports why name cannot be queried: empty, too long, an
// empty or over-long label, a wildcard, or a character outside letters,
// digits, '-' and '_'. A single trailing dot is allowed.
func CheckHostname(name string) error {
	n := strings.TrimSuffix(name, ".")
	fix := "give a DNS name such as login.microsoftonline.com"
	switch {
	case n == "":
		return fmt.Errorf("invalid host name %q: empty; %s", name, fix)
	case len(n) > 253:
		return fmt.Errorf("invalid host name %q: %d characters, at most 253 allowed; %s", truncate(name, 64), len(n), fix)
	}
	for label := range strings.SplitSeq(n, ".") {
		switch {
		case label == "":
			return fmt.Errorf("invalid host name %q: empty label; %s", name, fix)
		case len(label) > 63:
			return fmt.Errorf("invalid host name %q: label %q longer than 63 characters; %s", truncate(name, 64), truncate(label, 16), fix)
		case label == "*":
			return fmt.Errorf("invalid host name %q: a wildcard cannot be resolved; give a concrete name under it", name)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("invalid host name %q: label %q starts or ends with '-'; %s", name, label, fix)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c >= 0x80 {
				return fmt.Errorf("invalid host name %q: not ASCII; give the IDNA (xn--) form", name)
			}
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("invalid host name %q: character %q not allowed; %s", name, c, fix)
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ParseResolver parses a resolver address: "IP:PORT", "[IPv6]:PORT", or a
// bare IP meaning port 53. IPv6 zones are kept ("[fe80::1%eth0]:53").
func ParseResolver(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return ap, fmt.Errorf("resolver %q: port 0; give IP:PORT, e.g. 10.0.0.53:53", s)
		}
		return ap, nil
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return netip.AddrPortFrom(a, 53), nil
	}
	return netip.AddrPort{}, fmt.Errorf("resolver %q is not IP:PORT; give e.g. 10.0.0.53:53 or [fd00::53]:53", s)
}

// IsPrivate reports whether a is in private space: RFC 1918, 100.64.0.0/10
// (carrier-grade NAT, also used by some private endpoints) or fc00::/7.
func IsPrivate(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64
	}
	return false
}

// IsPrivateLinkName reports whether name has a "privatelink" label, as the
// CNAMEs of Azure private endpoints do (x.privatelink.blob.core.windows.net).
func IsPrivateLinkName(name string) bool {
	for label := range strings.SplitSeq(strings.TrimSuffix(name, "."), ".") {
		if strings.EqualFold(label, "privatelink") {
			return true
		}
	}
	return false
}

// Disagree reports split-horizon DNS: two results for the same host (any
// case) from different servers whose answers differ. Only answers count
// (ok, dns_nxdomain, dns_nodata; addresses compared as sets): a resolver that
// failed to answer says nothing about the zone it sees.
func Disagree(results []DNSResult) bool {
	for i, a := range results {
		if !answered(a) {
			continue
		}
		for _, b := range results[i+1:] {
			if answered(b) && a.Server != b.Server && strings.EqualFold(strings.TrimSuffix(a.Host, "."), strings.TrimSuffix(b.Host, ".")) &&
				!sameAnswer(a, b) {
				return true
			}
		}
	}
	return false
}

func answered(r DNSResult) bool {
	return r.Outcome == OK || r.Outcome == DNSNXDomain || r.Outcome == DNSNoData
}

func sameAnswer(a, b DNSResult) bool {
	if a.Outcome != b.Outcome {
		return false
	}
	for _, x := range a.Addrs {
		if !containsAddr(b.Addrs, x) {
			return false
		}
	}
	for _, x := range b.Addrs {
		if !containsAddr(a.Addrs, x) {
			return false
		}
	}
	return true
}
