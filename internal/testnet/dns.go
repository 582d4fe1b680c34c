package testnet

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DNSFault is how a DNSServer misbehaves for one name.
type DNSFault int

// The faults a zone entry can carry. The zero value answers normally.
const (
	DNSAnswer         DNSFault = iota // answer from the zone
	DNSNXDomain                       // NXDOMAIN
	DNSServfail                       // SERVFAIL
	DNSRefused                        // REFUSED
	DNSFormErr                        // FORMERR
	DNSSilent                         // never answer (the client times out)
	DNSGarbage                        // answer with bytes that are not a DNS message
	DNSWrongID                        // answer with an ID the client did not use
	DNSDropFirstUDP                   // ignore the first UDP query for each type, answer the retransmission
	DNSNoEDNS                         // FORMERR to a query with EDNS0, answer one without (a pre-EDNS resolver)
	DNSOneQueryPerTCP                 // close a TCP connection after its first answer (no pipelining)
	DNSIgnoreUDPSize                  // send the whole answer over UDP, however large, never truncated
)

// faultRcode is the rcode each answering fault sets (read-only).
var faultRcode = map[DNSFault]int{
	DNSNXDomain: dns.RcodeNameError,
	DNSServfail: dns.RcodeServerFailure,
	DNSRefused:  dns.RcodeRefused,
	DNSFormErr:  dns.RcodeFormatError,
}

// DNSName is one zone entry. A name holds a CNAME or addresses, not both.
type DNSName struct {
	A, AAAA []netip.Addr
	CNAME   string // target; the server follows it inside its own zone unless Partial
	// Partial answers only this CNAME record, not the chain behind it, so the
	// client must query on for the target (as an authoritative server for one
	// zone does when the target lives in another).
	Partial bool
	TTL     uint32   // 0 means 300
	Fault   DNSFault // for both A and AAAA
	// AAAAFault, when set, replaces Fault for AAAA queries (A and AAAA answered
	// differently, as broken middleboxes do).
	AAAAFault DNSFault
}

// DNSZone maps a name (any case, trailing dot optional) to its entry. Names
// not in the zone answer NXDOMAIN.
type DNSZone map[string]DNSName

// DNSServer is an in-process resolver on 127.0.0.1, UDP and TCP on one port,
// answering from a fixed zone. It truncates UDP answers to the client's EDNS0
// size (512 without EDNS0), so a big answer forces the client onto TCP.
type DNSServer struct {
	Addr string // "127.0.0.1:PORT", for UDP and TCP alike

	zone     map[string]DNSName
	udp, tcp atomic.Int64

	mu      sync.Mutex
	last    *dns.Msg
	dropped map[string]bool
}

// NewDNSServer starts a server for zone; it stops at the end of the test.
func NewDNSServer(t testing.TB, zone DNSZone) *DNSServer {
	t.Helper()
	s := &DNSServer{zone: make(map[string]DNSName, len(zone)), dropped: map[string]bool{}}
	for name, e := range zone {
		s.zone[canon(name)] = e
	}
	pc, ln := listenSamePort(t)
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)},
		{Listener: ln, Handler: dns.HandlerFunc(s.serve)},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

// listenSamePort binds UDP on an ephemeral loopback port and TCP on the same
// port, trying other ports when that TCP port is taken (by an outgoing
// connection, say). Failed UDP sockets stay open until the end so the kernel
// does not hand out the same port again.
func listenSamePort(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var tried []net.PacketConn
	defer func() {
		for _, pc := range tried {
			_ = pc.Close()
		}
	}()
	var lastErr error
	for range 50 {
		pc := ListenUDP(t, "127.0.0.1:0")
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		lastErr = err
		tried = append(tried, pc)
	}
	t.Fatalf("testnet: DNS TCP listen on the UDP port: %v", lastErr)
	return nil, nil
}

// FreePort returns a loopback port free for both UDP and TCP, for a server
// run as a separate process (unbound); the small race until it binds is
// acceptable in tests.
func FreePort(t testing.TB) int {
	t.Helper()
	pc, ln := listenSamePort(t)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	_ = ln.Close()
	_ = pc.Close()
	return port
}

// Queries reports how many queries arrived over network ("udp" or "tcp").
func (s *DNSServer) Queries(network string) int {
	if network == "tcp" {
		return int(s.tcp.Load())
	}
	return int(s.udp.Load())
}

// LastQuery returns a copy of the last query received (nil if none).
func (s *DNSServer) LastQuery() *dns.Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return nil
	}
	return s.last.Copy()
}

func canon(name string) string { return dns.CanonicalName(name) }

func (s *DNSServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	if isTCP {
		s.tcp.Add(1)
	} else {
		s.udp.Add(1)
	}
	s.mu.Lock()
	s.last = req.Copy()
	s.mu.Unlock()
	if len(req.Question) != 1 {
		_ = w.WriteMsg(new(dns.Msg).SetRcode(req, dns.RcodeFormatError))
		return
	}
	q := req.Question[0]
	resp := new(dns.Msg).SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true
	fault := s.answer(resp, canon(q.Name), q.Qtype)
	switch fault {
	case DNSSilent:
		return
	case DNSGarbage:
		_, _ = w.Write([]byte("this is not a DNS message"))
		return
	case DNSWrongID:
		resp.Id = req.Id + 1
	case DNSNoEDNS:
		if req.IsEdns0() != nil {
			formerr := new(dns.Msg).SetRcode(req, dns.RcodeFormatError)
			formerr.Question = nil // as old servers do: a bare header, no OPT
			_ = w.WriteMsg(formerr)
			return
		}
	case DNSDropFirstUDP:
		key := q.Name + dns.TypeToString[q.Qtype]
		s.mu.Lock()
		drop := !isTCP && !s.dropped[key]
		s.dropped[key] = true
		s.mu.Unlock()
		if drop {
			return
		}
	}
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(opt.UDPSize(), false)
	}
	if !isTCP && fault != DNSIgnoreUDPSize {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
	if fault == DNSOneQueryPerTCP && isTCP {
		_ = w.Close()
	}
}

// answer fills resp for (name, qtype) by walking the zone's CNAMEs, and
// returns the fault of the name that ended the walk.
func (s *DNSServer) answer(resp *dns.Msg, name string, qtype uint16) DNSFault {
	for range 32 { // the zone may hold a loop: the client must detect it, not the server
		e, ok := s.zone[name]
		if !ok {
			resp.Rcode = dns.RcodeNameError
			return DNSAnswer
		}
		fault := e.Fault
		if qtype == dns.TypeAAAA && e.AAAAFault != DNSAnswer {
			fault = e.AAAAFault
		}
		if rcode, ok := faultRcode[fault]; ok {
			resp.Rcode = rcode
			return fault
		}
		if fault == DNSSilent || fault == DNSGarbage || fault == DNSWrongID {
			return fault
		}
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: e.TTL}
		if hdr.Ttl == 0 {
			hdr.Ttl = 300
		}
		if e.CNAME != "" {
			hdr.Rrtype = dns.TypeCNAME
			resp.Answer = append(resp.Answer, &dns.CNAME{Hdr: hdr, Target: canon(e.CNAME)})
			if e.Partial {
				return fault
			}
			name = canon(e.CNAME)
			continue
		}
		addrs := e.A
		hdr.Rrtype = dns.TypeA
		if qtype == dns.TypeAAAA {
			addrs, hdr.Rrtype = e.AAAA, dns.TypeAAAA
		}
		for _, a := range addrs {
			if qtype == dns.TypeAAAA {
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			} else {
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			}
		}
		return fault
	}
	return DNSAnswer
}

// ClosedUDPPort returns "127.0.0.1:PORT" where nothing listens (UDP or TCP):
// a query there draws an ICMP port unreachable.
func ClosedUDPPort(t testing.TB) string {
	t.Helper()
	pc := ListenUDP(t, "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	if err := pc.Close(); err != nil {
		t.Fatalf("testnet: closed port: %v", err)
	}
	return addr
}

// ManyAddrs returns n consecutive IPv4 addresses from 192.0.2.1, for answers
// too big for one UDP datagram.
func ManyAddrs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	a := netip.MustParseAddr("192.0.2.1")
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out
}

// WaitDNS polls addr until it answers a query for name, for servers started
// as a separate process (unbound). It fails the test after timeout.
func WaitDNS(t testing.TB, addr, name string, timeout time.Duration) {
	t.Helper()
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		m := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
		if _, _, err = c.Exchange(m, addr); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testnet: DNS server %s did not answer within %v: %v", addr, timeout, err)
}
