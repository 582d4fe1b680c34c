package probe

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// chainZone returns prefix0 -> prefix1 -> ... -> prefixN (N CNAMEs), the last
// holding 192.0.2.99.
func chainZone(zone testnet.DNSZone, prefix string, n int) {
	for i := range n {
		zone[fmt.Sprintf("%s%d.test", prefix, i)] = testnet.DNSName{CNAME: fmt.Sprintf("%s%d.test", prefix, i+1)}
	}
	zone[fmt.Sprintf("%s%d.test", prefix, n)] = testnet.DNSName{A: addrs("192.0.2.99")}
}

func testZone() testnet.DNSZone {
	z := testnet.DNSZone{
		"a.test":                  {A: addrs("192.0.2.10"), AAAA: addrs("2001:db8::10"), TTL: 120},
		"v4only.test":             {A: addrs("192.0.2.11")},
		"dup.test":                {A: addrs("192.0.2.12", "192.0.2.13", "192.0.2.12"), TTL: 60},
		"cname.test":              {CNAME: "mid.test", TTL: 30},
		"mid.test":                {CNAME: "a.test", TTL: 100},
		"partial.test":            {CNAME: "other.test", Partial: true, TTL: 40},
		"other.test":              {A: addrs("192.0.2.20")},
		"partial2.test":           {CNAME: "partial3.test", Partial: true},
		"partial3.test":           {CNAME: "a.test", Partial: true},
		"loop1.test":              {CNAME: "loop2.test"},
		"loop2.test":              {CNAME: "loop1.test"},
		"ploop1.test":             {CNAME: "ploop2.test", Partial: true},
		"ploop2.test":             {CNAME: "ploop1.test", Partial: true},
		"dangling.test":           {CNAME: "missing.test"},
		"servfail.test":           {Fault: testnet.DNSServfail},
		"refused.test":            {Fault: testnet.DNSRefused},
		"formerr.test":            {Fault: testnet.DNSFormErr},
		"silent.test":             {Fault: testnet.DNSSilent},
		"garbage.test":            {Fault: testnet.DNSGarbage},
		"wrongid.test":            {Fault: testnet.DNSWrongID},
		"nodata.test":             {},
		"big.test":                {A: testnet.ManyAddrs(200), AAAA: addrs("2001:db8::1")},
		"private.test":            {A: addrs("10.1.2.3"), AAAA: addrs("fd00::1")},
		"x.blob.test":             {CNAME: "x.privatelink.blob.test"},
		"x.privatelink.blob.test": {A: addrs("10.0.0.5")},
		"pl-public.test":          {CNAME: "y.privatelink.blob.test", Partial: true},
		"y.privatelink.blob.test": {A: addrs("203.0.113.5")},
		"aaaafail.test":           {A: addrs("192.0.2.30"), AAAAFault: testnet.DNSServfail},
		"mixnx.test":              {Fault: testnet.DNSServfail, AAAAFault: testnet.DNSNXDomain},
		"v4servfail6.test":        {AAAAFault: testnet.DNSServfail},
		"Mixed.Case.test":         {A: addrs("192.0.2.50")},
		"old.test":                {A: addrs("192.0.2.60"), Fault: testnet.DNSNoEDNS},
	}
	chainZone(z, "eight", MaxCNAMEChain)
	chainZone(z, "nine", MaxCNAMEChain+1)
	return z
}

// TestResolveDNSOutcomes is the DNS step's scenario table against a real
// resolver on loopback; it is long because the table is: a row per answer
// the step tells apart.
func TestResolveDNSOutcomes(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testZone())
	tests := []struct {
		host        string
		want        Outcome
		addrs       []netip.Addr
		chain       []string // targets, in order
		ttl         uint32
		errHas      string
		warnHas     string
		truncated   bool
		privatelink bool
	}{
		{host: "a.test", want: OK, addrs: addrs("192.0.2.10", "2001:db8::10"), ttl: 120},
		{host: "a.test.", want: OK, addrs: addrs("192.0.2.10", "2001:db8::10"), ttl: 120},
		{host: "A.TEST", want: OK, addrs: addrs("192.0.2.10", "2001:db8::10"), ttl: 120},
		{host: "mixed.case.TEST", want: OK, addrs: addrs("192.0.2.50"), ttl: 300},
		{host: "v4only.test", want: OK, addrs: addrs("192.0.2.11"), ttl: 300},
		{host: "dup.test", want: OK, addrs: addrs("192.0.2.12", "192.0.2.13"), ttl: 60},
		{host: "cname.test", want: OK, addrs: addrs("192.0.2.10", "2001:db8::10"), chain: []string{"mid.test", "a.test"}, ttl: 30},
		{host: "partial.test", want: OK, addrs: addrs("192.0.2.20"), chain: []string{"other.test"}, ttl: 40},
		{host: "partial2.test", want: OK, addrs: addrs("192.0.2.10", "2001:db8::10"), chain: []string{"partial3.test", "a.test"}, ttl: 120},
		{host: "eight0.test", want: OK, addrs: addrs("192.0.2.99"), chain: []string{"eight1.test", "eight2.test", "eight3.test", "eight4.test", "eight5.test", "eight6.test", "eight7.test", "eight8.test"}, ttl: 300},
		{host: "nine0.test", want: DNSError, chain: []string{"nine1.test", "nine2.test", "nine3.test", "nine4.test", "nine5.test", "nine6.test", "nine7.test", "nine8.test"}, ttl: 300, errHas: "longer than 8"},
		{host: "loop1.test", want: DNSError, chain: []string{"loop2.test"}, ttl: 300, errHas: "CNAME loop for \"loop1.test\": loop1.test -> loop2.test -> loop1.test"},
		{host: "ploop1.test", want: DNSError, chain: []string{"ploop2.test"}, ttl: 300, errHas: "CNAME loop"},
		{host: "nx.test", want: DNSNXDomain, errHas: `"nx.test" does not exist (NXDOMAIN)`},
		{host: "dangling.test", want: DNSNXDomain, chain: []string{"missing.test"}, ttl: 300, errHas: `"missing.test" (CNAME target of "dangling.test") does not exist`},
		{host: "nodata.test", want: DNSNoData, errHas: "no A or AAAA record (NODATA)"},
		{host: "servfail.test", want: DNSServfail, errHas: "(SERVFAIL)"},
		{host: "refused.test", want: DNSRefused, errHas: "(REFUSED)"},
		{host: "formerr.test", want: DNSError, errHas: "answered FORMERR"},
		{host: "old.test", want: OK, addrs: addrs("192.0.2.60"), ttl: 300}, // FORMERR to EDNS0, answers without
		{host: "silent.test", want: DNSTimeout, errHas: "no answer from resolver " + srv.Addr},
		{host: "garbage.test", want: DNSError, errHas: "malformed answer"},
		{host: "wrongid.test", want: DNSError, errHas: "query ID that was not asked"},
		{host: "big.test", want: OK, truncated: true, ttl: 300},
		{host: "private.test", want: OK, addrs: addrs("10.1.2.3", "fd00::1"), ttl: 300},
		{host: "x.blob.test", want: OK, addrs: addrs("10.0.0.5"), chain: []string{"x.privatelink.blob.test"}, ttl: 300, privatelink: true},
		{host: "pl-public.test", want: OK, addrs: addrs("203.0.113.5"), chain: []string{"y.privatelink.blob.test"}, ttl: 300, privatelink: true},
		{host: "aaaafail.test", want: OK, addrs: addrs("192.0.2.30"), ttl: 300, warnHas: "AAAA: resolver " + srv.Addr + " failed"},
		{host: "mixnx.test", want: DNSNXDomain},       // A SERVFAIL, AAAA NXDOMAIN: NXDOMAIN ranks first
		{host: "v4servfail6.test", want: DNSServfail}, // A NODATA, AAAA SERVFAIL: the failure, not NODATA
		{host: "bad..name", want: DNSError, errHas: "empty label"},
		{host: "*.blob.core.windows.net", want: DNSError, errHas: "wildcard"},
		{host: "192.0.2.7", want: OK, addrs: addrs("192.0.2.7")},
		{host: "[2001:db8::7]", want: OK, addrs: addrs("2001:db8::7")},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			res := ResolveDNS(ctx, DNSQuery{Host: tc.host, Server: srv.Addr})
			if res.Outcome != tc.want {
				t.Fatalf("outcome %q (error %q), want %q", res.Outcome, res.Error, tc.want)
			}
			if tc.want == OK && res.Error != "" || tc.want != OK && res.Error == "" {
				t.Errorf("error %q with outcome %q", res.Error, res.Outcome)
			}
			if !strings.Contains(res.Error, tc.errHas) {
				t.Errorf("error %q, want it to contain %q", res.Error, tc.errHas)
			}
			if !strings.Contains(res.Warning, tc.warnHas) || tc.warnHas == "" && res.Warning != "" {
				t.Errorf("warning %q, want %q", res.Warning, tc.warnHas)
			}
			if tc.addrs != nil && !slices.Equal(res.Addrs, tc.addrs) {
				t.Errorf("addrs %v, want %v", res.Addrs, tc.addrs)
			}
			var chain []string
			for _, c := range res.CNAMEs {
				chain = append(chain, c.Target)
			}
			if !slices.Equal(chain, tc.chain) {
				t.Errorf("chain %v, want %v", chain, tc.chain)
			}
			if res.TTL != tc.ttl {
				t.Errorf("TTL %d, want %d", res.TTL, tc.ttl)
			}
			if res.Truncated != tc.truncated || res.PrivateLink != tc.privatelink {
				t.Errorf("truncated %v privatelink %v, want %v %v", res.Truncated, res.PrivateLink, tc.truncated, tc.privatelink)
			}
			if res.Host != tc.host || res.Server != srv.Addr || res.Duration <= 0 || res.Start.IsZero() {
				t.Errorf("host %q server %q duration %v start %v", res.Host, res.Server, res.Duration, res.Start)
			}
		})
	}
}

func TestResolveDNSBigAnswerOverTCP(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testZone())
	res := ResolveDNS(context.Background(), DNSQuery{Host: "big.test", Server: srv.Addr})
	if res.Outcome != OK || !res.Truncated || len(res.Addrs) != 201 {
		t.Fatalf("got %s %q truncated=%v %d addrs, want ok over TCP with 201", res.Outcome, res.Error, res.Truncated, len(res.Addrs))
	}
	// A (3 KiB) is truncated and retried over TCP; AAAA fits in UDP.
	if udp, tcp := srv.Queries("udp"), srv.Queries("tcp"); udp != 2 || tcp != 1 {
		t.Errorf("server saw %d UDP and %d TCP queries, want 2 and 1", udp, tcp)
	}
	want := append(testnet.ManyAddrs(200), netip.MustParseAddr("2001:db8::1"))
	if !slices.Equal(res.Addrs, want) {
		t.Errorf("addresses out of answer order: %v", res.Addrs[:4])
	}
}

// Both families truncated, from a server that closes a TCP connection after
// one answer: the second query goes out again on a new connection.
func TestResolveDNSTCPWithoutPipelining(t *testing.T) {
	t.Parallel()
	many6 := make([]netip.Addr, 100)
	for i := range many6 {
		many6[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
	}
	srv := testnet.NewDNSServer(t, testnet.DNSZone{"both.test": {A: testnet.ManyAddrs(100), AAAA: many6, Fault: testnet.DNSOneQueryPerTCP}})
	res := ResolveDNS(context.Background(), DNSQuery{Host: "both.test", Server: srv.Addr})
	if res.Outcome != OK || !res.Truncated || len(res.Addrs) != 200 {
		t.Fatalf("%s %q truncated=%v %d addrs, want ok with 200 over TCP", res.Outcome, res.Error, res.Truncated, len(res.Addrs))
	}
	if tcp := srv.Queries("tcp"); tcp < 2 || tcp > 3 {
		t.Errorf("%d TCP queries, want 2 or 3 (one per connection, the pipelined second one lost once)", tcp)
	}
}

func TestResolveDNSQueryShape(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testZone())
	// One follow-up query per family for a partial chain: 4 in all, all UDP.
	res := ResolveDNS(context.Background(), DNSQuery{Host: "partial.test", Server: srv.Addr})
	if res.Outcome != OK {
		t.Fatalf("%s %s", res.Outcome, res.Error)
	}
	if n := srv.Queries("udp"); n != 4 {
		t.Errorf("%d UDP queries for a one-link partial chain, want 4", n)
	}
	q := srv.LastQuery()
	opt := q.IsEdns0()
	if !q.RecursionDesired || opt == nil || opt.UDPSize() != 1232 {
		t.Errorf("query RD=%v EDNS0=%v, want RD and EDNS0 size 1232", q.RecursionDesired, opt)
	}
	if got := q.Question[0].Name; got != "other.test." {
		t.Errorf("follow-up query for %q, want other.test.", got)
	}
}

func TestResolveDNSNoQueryForLiteralsAndBadInput(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testZone())
	for _, q := range []DNSQuery{
		{Host: "192.0.2.1", Server: srv.Addr},
		{Host: "fe80::1%eth0", Server: srv.Addr},
		{Host: "bad_name-.test", Server: srv.Addr},
		{Host: strings.Repeat("a", 64) + ".test", Server: srv.Addr},
		{Host: "a.test", Server: "not-an-ip:53"},
		{Host: "a.test", Server: "127.0.0.1:0"},
	} {
		res := ResolveDNS(context.Background(), q)
		literal := strings.Contains(q.Host, ":") || q.Host[0] == '1'
		if literal && (res.Outcome != OK || len(res.Addrs) != 1) || !literal && res.Outcome != DNSError {
			t.Errorf("%+v: %s %q %v", q, res.Outcome, res.Error, res.Addrs)
		}
	}
	if n := srv.Queries("udp") + srv.Queries("tcp"); n != 0 {
		t.Errorf("%d queries sent, want none", n)
	}
}

func TestResolveDNSWithoutEDNS(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testnet.DNSZone{"old.test": {A: addrs("192.0.2.60"), Fault: testnet.DNSNoEDNS}})
	res := ResolveDNS(context.Background(), DNSQuery{Host: "old.test", Server: srv.Addr})
	if res.Outcome != OK || !slices.Equal(res.Addrs, addrs("192.0.2.60")) {
		t.Fatalf("%s %q %v", res.Outcome, res.Error, res.Addrs)
	}
	if q := srv.LastQuery(); q.IsEdns0() != nil || !q.RecursionDesired {
		t.Errorf("the retry still carries EDNS0 (or lost RD): %v", q)
	}
	if n := srv.Queries("udp"); n != 4 {
		t.Errorf("%d UDP queries, want 4 (A and AAAA, with then without EDNS0)", n)
	}
}

func TestResolveDNSRetransmitsLostUDP(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testnet.DNSZone{"drop.test": {A: addrs("192.0.2.40"), Fault: testnet.DNSDropFirstUDP}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res := ResolveDNS(ctx, DNSQuery{Host: "drop.test", Server: srv.Addr})
	if res.Outcome != OK || !slices.Equal(res.Addrs, addrs("192.0.2.40")) {
		t.Fatalf("%s %q %v, want 192.0.2.40 after a retransmission", res.Outcome, res.Error, res.Addrs)
	}
	if n := srv.Queries("udp"); n != 4 {
		t.Errorf("%d UDP queries, want 4 (2 dropped, 2 retransmitted)", n)
	}
}

func TestResolveDNSUnreachable(t *testing.T) {
	t.Parallel()
	addr := testnet.ClosedUDPPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res := ResolveDNS(ctx, DNSQuery{Host: "a.test", Server: addr})
	if res.Outcome != DNSError || !strings.Contains(res.Error, "resolver "+addr+" unreachable") {
		t.Fatalf("%s %q, want dns_error naming the unreachable resolver", res.Outcome, res.Error)
	}
	// UDP has no reset: an ICMP port unreachable answered the query.
	if !strings.Contains(res.Error, "port unreachable (ICMP): nothing answers DNS on UDP") || strings.Contains(res.Error, "TCP reset") {
		t.Errorf("error %q: want the ICMP port unreachable of UDP, not a TCP reset", res.Error)
	}
	if res.Duration > time.Second {
		t.Errorf("took %v: an ICMP port unreachable should end the query at once", res.Duration)
	}
}

func TestResolveDNSDeadlineAndCancel(t *testing.T) {
	t.Parallel()
	srv := testnet.NewDNSServer(t, testZone())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res := ResolveDNS(ctx, DNSQuery{Host: "silent.test", Server: srv.Addr})
	if res.Outcome != DNSTimeout || res.Duration > time.Second {
		t.Errorf("silent server: %s after %v, want dns_timeout at the 200ms deadline", res.Outcome, res.Duration)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel2)
	res = ResolveDNS(ctx2, DNSQuery{Host: "silent.test", Server: srv.Addr})
	if res.Outcome != Cancelled || !strings.Contains(res.Error, "cancelled") || res.Duration > time.Second {
		t.Errorf("cancelled: %s %q after %v, want cancelled at once, not dns_timeout", res.Outcome, res.Error, res.Duration)
	}
}

func TestResolveDNSLeavesNoGoroutines(t *testing.T) {
	srv := testnet.NewDNSServer(t, testZone())
	before := runtime.NumGoroutine()
	for _, host := range []string{"a.test", "silent.test", "big.test", "garbage.test", "partial.test"} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		ResolveDNS(ctx, DNSQuery{Host: host, Server: srv.Addr})
		cancel()
	}
	// The server's own per-connection goroutines wind down asynchronously.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after, %d before", n, before)
	}
}

func TestIsPrivateLinkName(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"x.privatelink.blob.core.windows.net":  true,
		"x.PrivateLink.blob.core.windows.net.": true,
		"privatelink.vaultcore.azure.net":      true,
		"x.privatelinks.blob.core.windows.net": false,
		"notprivatelink.example":               false,
		"":                                     false,
	} {
		if got := IsPrivateLinkName(s); got != want {
			t.Errorf("IsPrivateLinkName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckHostname(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	for name, errHas := range map[string]string{
		"login.microsoftonline.com": "",
		"a.test.":                   "",
		"_dmarc.x-y.test":           "",
		long + ".test":              "",
		strings.Repeat(long+".", 3) + strings.Repeat("a", 61): "",
		strings.Repeat(long+".", 3) + strings.Repeat("a", 62): "at most 253",
		"":              "empty",
		".":             "empty",
		"a..b":          "empty label",
		".a":            "empty label",
		long + "a.test": "longer than 63",
		"-a.test":       "starts or ends with '-'",
		"a-.test":       "starts or ends with '-'",
		"a b.test":      "not allowed",
		"a/b":           "not allowed",
		"bücher.test":   "xn--",
		"*.test":        "wildcard",
	} {
		err := CheckHostname(name)
		switch {
		case errHas == "" && err != nil:
			t.Errorf("CheckHostname(%q) = %v, want nil", name, err)
		case errHas != "" && (err == nil || !strings.Contains(err.Error(), errHas)):
			t.Errorf("CheckHostname(%q) = %v, want an error containing %q", name, err, errHas)
		}
	}
}

func TestParseResolver(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"10.0.0.53:53":      "10.0.0.53:53",
		"10.0.0.53":         "10.0.0.53:53",
		"[fd00::53]:5353":   "[fd00::53]:5353",
		"fd00::53":          "[fd00::53]:53",
		"[fe80::1%eth0]:53": "[fe80::1%eth0]:53",
		"[fd00::53]":        "[fd00::53]:53",
		"10.0.0.53:0":       "",
		"dns.example:53":    "",
		"10.0.0.53:99999":   "",
		"":                  "",
	} {
		ap, err := ParseResolver(in)
		if want == "" {
			if err == nil || !strings.Contains(err.Error(), "IP:PORT") {
				t.Errorf("ParseResolver(%q) = %v, %v; want an error asking for IP:PORT", in, ap, err)
			}
			continue
		}
		if err != nil || ap.String() != want {
			t.Errorf("ParseResolver(%q) = %v, %v; want %s", in, ap, err, want)
		}
	}
}

// TestFailurePrecedence pins the documented order used when neither family
// has an address.
func TestFailurePrecedence(t *testing.T) {
	t.Parallel()
	order := []Outcome{DNSNXDomain, DNSRefused, DNSServfail, DNSError, DNSTimeout, DNSNoData}
	for i := 1; i < len(order); i++ {
		if rank(order[i-1]) >= rank(order[i]) {
			t.Errorf("%s should rank before %s", order[i-1], order[i])
		}
	}
}

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

// ResolveDNS's input checks: no panic, IP literals come back unqueried, and
// a name CheckHostname accepts is one miekg/dns accepts too.
func FuzzResolveDNSHost(f *testing.F) {
	for _, s := range []string{"a.test", "192.0.2.1", "[::1]", "fe80::1%eth0", "a..b", "*.x", "xn--bcher-kva.test", "-", "a.", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		// An invalid server keeps any name that passes the checks off the network.
		res := ResolveDNS(context.Background(), DNSQuery{Host: host, Server: "invalid"})
		if res.Outcome == OK {
			if len(res.Addrs) != 1 {
				t.Fatalf("%q: ok with %v", host, res.Addrs)
			}
			return
		}
		if res.Outcome != DNSError || res.Error == "" {
			t.Fatalf("%q: %s %q", host, res.Outcome, res.Error)
		}
		if CheckHostname(host) == nil {
			if _, ok := dns.IsDomainName(host); !ok || len(dns.Fqdn(host)) > 254 {
				t.Fatalf("%q passes CheckHostname but is no domain name", host)
			}
		}
	})
}

func FuzzParseResolver(f *testing.F) {
	for _, s := range []string{"10.0.0.1:53", "[fe80::1%eth0]:53", "fd00::1", "x:1", "[::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ap, err := ParseResolver(s)
		if err == nil && (!ap.IsValid() || ap.Port() == 0) {
			t.Fatalf("%q: %v accepted", s, ap)
		}
	})
}

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

// TestParseHosts reads hosts files as the OS resolvers do: comments, several
// names a line, IPv6 with zones, any case, a trailing dot, and junk skipped.
func TestParseHosts(t *testing.T) {
	t.Parallel()
	const file = "# a comment line\n" +
		"127.0.0.1\tlocalhost localhost.localdomain\n" +
		"10.0.0.5 Login.MicrosoftOnline.com. login.example.test # pinned\n" +
		"::1 ip6-localhost\n" +
		"fe80::1%eth0 router.local\n" +
		"not-an-ip bogus.test\n" +
		"10.0.0.6\n" +
		"0.0.0.0 ads.example.test\n" +
		"10.0.0.7 login.microsoftonline.com\n" +
		"10.0.0.5 login.microsoftonline.com\n" +
		"::ffff:10.0.0.8 mapped.test\r\n" +
		"   # indented comment 10.0.0.9 commented.test\n"
	h := ParseHosts("/etc/hosts", []byte(file))
	tests := []struct {
		name string
		want []string
	}{
		{"localhost", []string{"127.0.0.1"}},
		{"LOGIN.microsoftonline.com", []string{"10.0.0.5", "10.0.0.7"}},
		{"login.example.test.", []string{"10.0.0.5"}},
		{"ip6-localhost", []string{"::1"}},
		{"router.local", []string{"fe80::1%eth0"}},
		{"ads.example.test", []string{"0.0.0.0"}},
		{"mapped.test", []string{"10.0.0.8"}},
		{"bogus.test", nil},
		{"commented.test", nil},
		{"pinned", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, a := range h.Lookup(tc.name) {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Lookup(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (*Hosts)(nil).Lookup("x") != nil {
		t.Error("a nil Hosts answers")
	}
	missing, err := ReadHosts(filepath.Join(testenv.TempDir(t), "no-such-hosts"))
	if err != nil || missing.Lookup("localhost") != nil {
		t.Errorf("a missing hosts file: %v, %v; want an empty one", missing, err)
	}
}

// FuzzParseHosts: any bytes parse without a panic, and every name the parser
// keeps answers valid addresses whatever its case.
func FuzzParseHosts(f *testing.F) {
	for _, s := range []string{"127.0.0.1 localhost\n", "fe80::1%eth0 a b c # x\n", "::ffff:1.2.3.4\tA.\n", "#\n\n \t", "1.2.3.4 \x00\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := ParseHosts("fuzz", data)
		for name, addrs := range h.names {
			if name == "" || name != strings.ToLower(name) || len(addrs) == 0 {
				t.Fatalf("kept name %q with %v", name, addrs)
			}
			for _, a := range addrs {
				if !a.IsValid() || a.Is4In6() {
					t.Fatalf("name %q: address %v", name, a)
				}
			}
			if !slices.Equal(h.Lookup(strings.ToUpper(name)+"."), addrs) && strings.ToLower(strings.ToUpper(name)) == name {
				t.Fatalf("Lookup(%q) differs by case", name)
			}
		}
	})
}
