package probe

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"

	"egressprobe/internal/testnet"
)

// BenchmarkResolveDNS resolves a name with A and AAAA against a loopback
// server; BenchmarkMiekgExchange is the baseline measured in the same run:
// the same two queries, one after the other, with miekg/dns's own client.
func BenchmarkResolveDNS(b *testing.B) {
	srv := testnet.NewDNSServer(b, testZone())
	ctx := context.Background()
	q := DNSQuery{Host: "a.test", Server: srv.Addr}
	b.ReportAllocs()
	for b.Loop() {
		if res := ResolveDNS(ctx, q); res.Outcome != OK {
			b.Fatalf("%s %s", res.Outcome, res.Error)
		}
	}
}

func BenchmarkMiekgExchange(b *testing.B) {
	srv := testnet.NewDNSServer(b, testZone())
	c := new(dns.Client)
	b.ReportAllocs()
	for b.Loop() {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			m := new(dns.Msg).SetQuestion("a.test.", qt)
			m.SetEdns0(1232, false)
			if _, _, err := c.Exchange(m, srv.Addr); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkResolveDNSClientOnly resolves against a bare UDP responder that
// answers without allocating, so allocs/op are ResolveDNS's own (the miekg
// server of BenchmarkResolveDNS runs in the same process and is counted there).
func BenchmarkResolveDNSClientOnly(b *testing.B) {
	pc := testnet.ListenUDP(b, "127.0.0.1:0")
	b.Cleanup(func() { _ = pc.Close() })
	go func() {
		in, out := make([]byte, 1500), make([]byte, 0, 1500)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(in)
			if err != nil {
				return
			}
			// Our queries end with the 11-byte OPT record; the answer is the
			// question plus one record pointing back at the name (offset 12).
			qend := n - len(ednsOPT)
			qtype := binary.BigEndian.Uint16(in[qend-4:])
			out = append(out[:0], in[:qend]...)
			out[2], out[3] = 0x81, 0x80             // QR, RD, RA
			binary.BigEndian.PutUint16(out[6:], 1)  // ANCOUNT
			binary.BigEndian.PutUint16(out[10:], 0) // ARCOUNT
			out = append(out, 0xc0, 12, byte(qtype>>8), byte(qtype), 0, 1, 0, 0, 1, 44)
			if qtype == dns.TypeA {
				out = append(out, 0, 4, 192, 0, 2, 1)
			} else {
				rdata := [18]byte{0, 16, 0x20, 0x01, 0x0d, 0xb8, 17: 1} // 2001:db8::1
				out = append(out, rdata[:]...)
			}
			_, _ = pc.WriteToUDPAddrPort(out, from)
		}
	}()
	ctx := context.Background()
	q := DNSQuery{Host: "a.test", Server: pc.LocalAddr().String()}
	b.ReportAllocs()
	for b.Loop() {
		if res := ResolveDNS(ctx, q); res.Outcome != OK || len(res.Addrs) != 2 {
			b.Fatalf("%s %s %v", res.Outcome, res.Error, res.Addrs)
		}
	}
}
