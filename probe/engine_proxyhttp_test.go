package probe

import (
	"context"
	"net/url"
	"testing"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// TestRunPlainHTTPThroughProxy: an http:// target (NCSI) goes to the proxy as
// an absolute-form GET, as Windows sends it, not through a CONNECT tunnel —
// a proxy that allows CONNECT only to 443 must not fail NCSI.
func TestRunPlainHTTPThroughProxy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		user, pass string // demanded by the proxy
		given      *url.Userinfo
		want       Outcome
	}{
		{"ok", "", "", nil, OK},
		{"credentials", "svc", "pw", url.UserPassword("svc", "pw"), OK},
		{"407", "svc", "pw", nil, ProxyAuthRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan string, 1)
			addr := testnet.ServeHTTP(t, "127.0.0.1", testnet.ForwardProxy(tc.user, tc.pass, testnet.NCSI(testnet.NCSIBody), got), nil)
			u := &url.URL{Scheme: "http", Host: addr.String(), User: tc.given}
			obs := Run(context.Background(), []Target{{
				Host: "www.msftconnecttest.com", Scheme: "http", URLPath: "/connecttest.txt", ExpectBody: testnet.NCSIBody,
				Resolver: testnet.ClosedUDPPort(t), Route: proxy.Route{Proxy: u, Source: proxy.SourceFlag},
			}}, RunOptions{})
			if len(obs) != 1 {
				t.Fatalf("%d observations, want 1", len(obs))
			}
			o := obs[0]
			if o.Outcome != tc.want {
				t.Fatalf("outcome %s (%s), want %s", o.Outcome, o.Error, tc.want)
			}
			if o.Proxy == nil || o.Proxy.ProxyAddr != addr.String() || o.Proxy.StatusCode != 0 {
				t.Errorf("proxy step = %+v, want the proxy dialled without CONNECT", o.Proxy)
			}
			if tc.want == OK {
				if u := <-got; u != "http://www.msftconnecttest.com/connecttest.txt" {
					t.Errorf("proxy was asked for %q", u)
				}
				if o.HTTP == nil || !o.HTTP.BodyMatch {
					t.Errorf("HTTP step = %+v", o.HTTP)
				}
			}
		})
	}
}
