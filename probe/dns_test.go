package probe

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

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
