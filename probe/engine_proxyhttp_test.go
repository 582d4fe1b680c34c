package probe

import (
	"context"
	"net/http"
	"net/url"
	"strings"
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
		answer     http.Handler // the proxy's own answer; nil: the origin's NCSI page
		want       Outcome
	}{
		{"ok", "", "", nil, nil, OK},
		{"credentials", "svc", "pw", url.UserPassword("svc", "pw"), nil, OK},
		{"407", "svc", "pw", nil, nil, ProxyAuthRequired},
		// A proxy's own error pages are the proxy's hop, as for CONNECT.
		{"squid denies", "", "", nil, proxyPage(http.StatusForbidden, "X-Squid-Error", "ERR_ACCESS_DENIED 0"), ProxyDenied},
		{"tinyproxy cannot connect", "", "", nil, proxyPage(http.StatusInternalServerError, "Server", "tinyproxy/1.11.1"), ProxyError},
		{"bad gateway", "", "", nil, proxyPage(http.StatusBadGateway, "", ""), ProxyError},
		{"RFC 9209 status", "", "", nil, proxyPage(http.StatusServiceUnavailable, "Proxy-Status", "corp-proxy; error=dns_timeout"), ProxyError},
		// An unmarked 403 may be the origin's or a portal's: NCSI's own verdict.
		{"unmarked 403", "", "", nil, proxyPage(http.StatusForbidden, "", ""), HTTPUnexpected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan string, 1)
			next := tc.answer
			if next == nil {
				next = testnet.NCSI(testnet.NCSIBody)
			}
			addr := testnet.ServeHTTP(t, "127.0.0.1", testnet.ForwardProxy(tc.user, tc.pass, next, got), nil)
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
			if tc.want.Step() == StepProxy && !strings.Contains(o.Error, "the proxy") {
				t.Errorf("error %q does not name the proxy", o.Error)
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

// proxyPage answers every request with code and, when name is set, the
// header a proxy marks its own pages with.
func proxyPage(code int, name, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if name != "" {
			w.Header().Set(name, value)
		}
		http.Error(w, http.StatusText(code), code)
	})
}
