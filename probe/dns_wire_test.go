package probe

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/miekg/dns"

	"egressprobe/internal/testnet"
)

// acceptReply parses whatever the wire brings: it must never panic, and every
// query must end settled or still pending, never half-set.
func FuzzAcceptReply(f *testing.F) {
	q := new(dns.Msg).SetQuestion("a.test.", dns.TypeA)
	q.Id = 7
	wire, _ := q.Pack()
	reply := new(dns.Msg).SetReply(q)
	reply.Answer = append(reply.Answer, &dns.A{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: []byte{192, 0, 2, 1}})
	good, _ := reply.Pack()
	reply.Truncated = true
	trunc, _ := reply.Pack()
	f.Add(good)
	f.Add(trunc[:14])
	f.Add(wire)
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, udp := range []bool{true, false} {
			x := &exchangeQuery{qtype: dns.TypeA, id: 7, wire: wire}
			ok := acceptReply([]*exchangeQuery{x}, "a.test.", b, udp)
			set := 0
			for _, v := range []bool{x.resp != nil, x.err != nil, x.truncated} {
				if v {
					set++
				}
			}
			if set > 1 || !ok && x.err == nil {
				t.Fatalf("udp=%v ok=%v resp=%v err=%v truncated=%v", udp, ok, x.resp != nil, x.err, x.truncated)
			}
		}
	})
}

// FuzzResolveDNSAnswer runs the whole resolution against a resolver whose
// answer is the fuzzer's: a message that unpacks gets the query's ID and
// question (so it reaches the chain and address logic), anything else goes
// out as raw bytes. ResolveDNS must classify it within its deadline.
func FuzzResolveDNSAnswer(f *testing.F) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	for _, answer := range [][]dns.RR{
		{rr("a.test. 60 IN A 192.0.2.1"), rr("a.test. 60 IN AAAA 2001:db8::1")},
		{rr("a.test. 60 IN CNAME b.test."), rr("b.test. 60 IN CNAME c.privatelink.test."), rr("c.privatelink.test. 60 IN A 10.0.0.1")},
		{rr("a.test. 60 IN CNAME b.test."), rr("b.test. 60 IN CNAME a.test.")},
		{rr("a.test. 60 IN CNAME b.test.")},
		{},
	} {
		m := new(dns.Msg).SetQuestion("a.test.", dns.TypeA)
		m.Response, m.Answer = true, answer
		wire, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	f.Add([]byte("garbage"))

	pc := testnet.ListenUDP(f, "127.0.0.1:0")
	f.Cleanup(func() { _ = pc.Close() })
	answers := make(chan []byte, 1)
	answers <- nil
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var q dns.Msg
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			answer := <-answers
			answers <- answer
			var m dns.Msg
			out := append([]byte(nil), answer...)
			if m.Unpack(answer) == nil {
				m.Id, m.Question = q.Id, q.Question
				if packed, err := m.Pack(); err == nil {
					out = packed
				}
			} else if len(out) >= 2 {
				binary.BigEndian.PutUint16(out, q.Id)
			}
			_, _ = pc.WriteToUDPAddrPort(out, from)
		}
	}()
	valid := map[Outcome]bool{OK: true, DNSNXDomain: true, DNSNoData: true, DNSServfail: true, DNSRefused: true, DNSTimeout: true, DNSError: true}
	f.Fuzz(func(t *testing.T, answer []byte) {
		<-answers
		answers <- answer
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res := ResolveDNS(ctx, DNSQuery{Host: "a.test", Server: pc.LocalAddr().String()})
		switch {
		case !valid[res.Outcome]:
			t.Fatalf("outcome %q", res.Outcome)
		case res.Outcome == OK && (len(res.Addrs) == 0 || res.Error != ""):
			t.Fatalf("ok with %v, %q", res.Addrs, res.Error)
		case res.Outcome != OK && res.Error == "":
			t.Fatalf("%s without an error", res.Outcome)
		case len(res.CNAMEs) > MaxCNAMEChain:
			t.Fatalf("chain of %d", len(res.CNAMEs))
		case res.Duration > 5*time.Second:
			t.Fatalf("took %v with a 300ms deadline", res.Duration)
		}
	})
}
