package probe

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"egressprobe/proxy"
)

// The budgets fit inside the timeout for any timeout and any DNS duration up
// to its budget (plus the overrun of a slow step), and DNS never takes the
// lion's share.
func TestBudgetsFitTimeout(t *testing.T) {
	t.Parallel()
	for _, T := range []time.Duration{time.Millisecond, 300 * time.Millisecond, time.Second, 3 * time.Second, DefaultTimeout, time.Minute} {
		dns := DNSBudget(T)
		if dns <= 0 || dns > T/2 {
			t.Errorf("T=%v: DNS budget %v is not a minority share of T", T, dns)
		}
		for _, took := range []time.Duration{0, dns / 3, dns, dns + testSlack/2} {
			chain := ChainBudget(T, took)
			if min(took, dns)+chain > T {
				t.Errorf("T=%v, DNS took %v: chain budget %v overruns T", T, took, chain)
			}
			if chain < T-dns {
				t.Errorf("T=%v, DNS took %v: chain budget %v is below what DNS must leave (%v)", T, took, chain, T-dns)
			}
		}
	}
}

func TestTargetValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t      Target
		errHas string
	}{
		{Target{Host: "login.microsoftonline.com", Resolver: "10.0.0.53:53"}, ""},
		{Target{Host: "127.0.0.1"}, ""},
		{Target{Host: "[::1]", Scheme: "http", URLPath: "/ncsi.txt"}, ""},
		{Target{}, "empty host"},
		{Target{Host: "h.test", Resolver: "10.0.0.53:53", Scheme: "ftp"}, `scheme "ftp"`},
		{Target{Host: "h.test", Resolver: "10.0.0.53:53", Timeout: -time.Second}, "timeout -1s"},
		{Target{Host: "h.test"}, "no resolver"},
		{Target{Host: "h.test", Resolver: "10.0.0.53:53", URLPath: "ncsi.txt"}, `path "ncsi.txt"`},
	} {
		err := tc.t.Validate()
		if (err == nil) != (tc.errHas == "") || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%+v: error %v, want one containing %q", tc.t, err, tc.errHas)
		}
	}
}

// finish takes the first failed step's outcome, leaves a proxy route's local
// DNS out of it, and tells a stopped run from a resolution without addresses.
func TestFinish(t *testing.T) {
	t.Parallel()
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	ok := Step{Outcome: OK}
	fail := func(o Outcome) Step { return Step{Outcome: o, Error: string(o) + " happened"} }
	viaProxy := Target{Host: "h.test", Resolver: "10.0.0.53:53", Route: proxy.Route{Proxy: &url.URL{Scheme: "http", Host: "p:3128"}}}
	direct := Target{Host: "h.test", Resolver: "10.0.0.53:53"}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		obs  Observation
		want Outcome
	}{
		{"all ok", live, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: ok}}, OK},
		{"first failure wins", live, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: fail(TLSIntercepted)}, HTTP: &HTTPResult{Step: fail(HTTPTimeout)}}, TLSIntercepted},
		{"proxy: local DNS failure is not the route's", live, Observation{Target: viaProxy, DNS: &DNSResult{Step: fail(DNSNXDomain)}, Proxy: &ConnectResult{Step: ok}, TLS: &TLSResult{Step: ok}}, OK},
		{"proxy: CONNECT failure", live, Observation{Target: viaProxy, DNS: &DNSResult{Step: ok}, Proxy: &ConnectResult{Step: fail(ProxyDenied)}}, ProxyDenied},
		{"ok DNS without addresses", live, Observation{Target: direct, DNS: &DNSResult{Step: ok}}, DNSNoData},
		{"stopped before the connection", stopped, Observation{Target: direct, DNS: &DNSResult{Step: ok}}, Cancelled},
		{"stopped during TLS", stopped, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: fail(TLSTimeout)}}, Cancelled},
		{"finished before the stop", stopped, Observation{Target: direct, DNS: &DNSResult{Step: ok}, TCP: &TCPResult{Step: ok}, TLS: &TLSResult{Step: ok}}, OK},
		{"DNS only", live, Observation{Target: Target{Host: "h.test", DNSOnly: true}, DNS: &DNSResult{Step: ok}}, OK},
	} {
		got := finish(tc.ctx, tc.obs)
		if got.Outcome != tc.want || (got.Outcome == OK) != (got.Error == "") {
			t.Errorf("%s: %q (%s), want %q", tc.name, got.Outcome, got.Error, tc.want)
		}
	}
}
