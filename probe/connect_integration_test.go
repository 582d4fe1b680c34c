//go:build linux

package probe

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/realnet"
	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// The integration tests run Debian's tinyproxy and squid as the test's own
// processes (internal/realnet).

const (
	realProxyUser = "alice"
	realProxyPass = "s3cret"
	// realProxyHash is realProxyPass for squid's basic_ncsa_auth, made with
	// `openssl passwd -apr1 -salt abcdefgh s3cret`.
	realProxyHash = "$apr1$abcdefgh$M2T3erDstkD7SsE2QQnfH0"
)

// realProxyLab is the targets the real proxies are tested against.
type realProxyLab struct {
	ca                *testnet.CA
	allowed, unserved int // TLS server port the ACL allows; an allowed port where nothing listens (on unservedIP)
	denied            int // TLS server port the ACL refuses
}

func newRealProxyLab(t *testing.T) realProxyLab {
	t.Helper()
	ca := testnet.NewCA(t, "egressprobe test root")
	cert := ca.Leaf(t, []string{"target.test"}, nil, testnet.LeafOptions{})
	allowed := testnet.ServeHTTP(t, "127.0.0.1", testnet.NCSI(testnet.NCSIBody), &cert)
	denied := testnet.ServeHTTP(t, "127.0.0.1", testnet.NCSI(testnet.NCSIBody), &cert)
	return realProxyLab{ca: ca, allowed: int(allowed.Port()), denied: int(denied.Port()), unserved: testnet.FreePort(t)}
}

// unservedIP is where the unserved port is dialled: a loopback address no
// test listens on, so the port stays closed however long the test runs.
const unservedIP = "127.255.254.253"

func startTinyproxy(t *testing.T, lab realProxyLab) *url.URL {
	return realnet.Tinyproxy(t, realnet.At{}, fmt.Sprintf("ConnectPort %d\nConnectPort %d\nBasicAuth %s %s\n",
		lab.allowed, lab.unserved, realProxyUser, realProxyPass)).URL()
}

func startSquid(t *testing.T, lab realProxyLab) *url.URL {
	auth := realnet.SquidAuth(t, realnet.WorldDir(t), realProxyUser, realProxyHash)
	return realnet.Squid(t, realnet.At{}, "", auth+fmt.Sprintf(`acl allowed_ports port %d %d
acl blocked_host dst 127.0.0.2
acl authed proxy_auth REQUIRED
http_access deny CONNECT !allowed_ports
http_access deny blocked_host
http_access allow authed
http_access deny all
`, lab.allowed, lab.unserved)).URL()
}

// TestConnectRealProxies runs CONNECT through Debian's tinyproxy and squid,
// with and without credentials, to targets their ACLs allow and deny and to
// one that refuses, then checks their own error pages for plain HTTP.
func TestConnectRealProxies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts tinyproxy and squid")
	}
	lab := newRealProxyLab(t)
	proxies := []struct {
		name  string
		start func(*testing.T, realProxyLab) *url.URL
		// denyHost: the proxy's ACL refuses 127.0.0.2 (squid's dst ACL).
		denyHost bool
	}{
		{"tinyproxy", startTinyproxy, false},
		{"squid", startSquid, true},
	}
	for _, px := range proxies {
		t.Run(px.name, func(t *testing.T) {
			t.Parallel()
			base := px.start(t, lab)
			type check struct {
				name       string
				user, pass string
				target     string
				want       Outcome
			}
			target := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
			checks := []check{
				{"no credentials", "", "", target(lab.allowed), ProxyAuthRequired},
				{"wrong password", realProxyUser, "wrong", target(lab.allowed), ProxyAuthRequired},
				{"allowed", realProxyUser, realProxyPass, target(lab.allowed), OK},
				{"port denied by ACL", realProxyUser, realProxyPass, target(lab.denied), ProxyDenied},
				{"target refuses", realProxyUser, realProxyPass, net.JoinHostPort(unservedIP, strconv.Itoa(lab.unserved)), ProxyError},
			}
			if px.denyHost {
				checks = append(checks, check{"host denied by ACL", realProxyUser, realProxyPass,
					net.JoinHostPort("127.0.0.2", strconv.Itoa(lab.allowed)), ProxyDenied})
			}
			for _, c := range checks {
				route := proxy.Route{Proxy: base, Source: proxy.SourceFlag}
				if c.user != "" {
					route.Proxy = withUser(base, c.user, c.pass)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				conn, res := Connect(ctx, route, c.target)
				cancel()
				t.Logf("%s: %s %d %s", c.name, res.Outcome, res.StatusCode, res.Error)
				if res.Outcome != c.want {
					t.Errorf("%s: CONNECT %s = %s (%d %q), want %s", c.name, c.target, res.Outcome, res.StatusCode, res.Error, c.want)
				}
				if strings.Contains(res.Error, realProxyPass) && c.pass == realProxyPass {
					t.Errorf("%s: the error leaks the password: %q", c.name, res.Error)
				}
				if res.ProxyAddr != base.Host {
					t.Errorf("%s: ProxyAddr %q, want %q", c.name, res.ProxyAddr, base.Host)
				}
				if conn != nil {
					tunnelGET(t, conn, lab.ca)
				}
			}
			checkProxyErrorPages(t, lab, base, px.name, px.denyHost)
		})
	}
}

// checkProxyErrorPages: a plain-HTTP GET the proxy at base answers with its
// own error page is the proxy's hop, as for CONNECT: tinyproxy's 500 "Unable
// to connect", squid's 503 ERR_CONNECT_FAIL and, where the proxy denies the
// host (denyHost), 403 ERR_ACCESS_DENIED.
func checkProxyErrorPages(t *testing.T, lab realProxyLab, base *url.URL, name string, denyHost bool) {
	t.Helper()
	gets := []struct {
		host string
		want Outcome
	}{{unservedIP, ProxyError}}
	if denyHost {
		gets = append(gets, struct {
			host string
			want Outcome
		}{"127.0.0.2", ProxyDenied})
	}
	for _, g := range gets {
		route := proxy.Route{Proxy: withUser(base, realProxyUser, realProxyPass), Source: proxy.SourceFlag}
		obs := Run(context.Background(), []Target{{Host: g.host, Port: uint16(lab.unserved), Scheme: "http", URLPath: "/",
			Route: route, Timeout: 15 * time.Second}}, RunOptions{})
		if o := obs[0]; o.Outcome != g.want || strings.Contains(o.Error, realProxyPass) {
			t.Errorf("GET http://%s:%d/ through %s: %s (%s), want %s naming the proxy, no password", g.host, lab.unserved, name, o.Outcome, o.Error, g.want)
		}
	}
}
