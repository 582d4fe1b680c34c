package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// tunnelGET speaks TLS and HTTP through conn to the test server, end to end.
func tunnelGET(t *testing.T, conn net.Conn, ca *testnet.CA) {
	t.Helper()
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: "target.test", RootCAs: ca.Pool})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS through the tunnel: %v", err)
	}
	if _, err := io.WriteString(tc, "GET / HTTP/1.1\r\nHost: target.test\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatalf("HTTP through the tunnel: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != testnet.NCSIBody {
		t.Fatalf("body through the tunnel = %q, want %q", body, testnet.NCSIBody)
	}
}

func withUser(u *url.URL, user, password string) *url.URL {
	v := *u
	v.User = url.UserPassword(user, password)
	return &v
}

// TestConnectOutcomes is the CONNECT step's scenario table against real
// proxies on loopback, one row per proxy fault; it is long because the table
// is: one row per outcome the step can give.
func TestConnectOutcomes(t *testing.T) {
	t.Parallel()
	ca := testnet.NewCA(t, "egressprobe test root")
	cert := ca.Leaf(t, []string{"target.test"}, nil, testnet.LeafOptions{})
	target := testnet.ServeHTTP(t, "127.0.0.1", testnet.NCSI(testnet.NCSIBody), &cert).String()

	tests := []struct {
		name     string
		opt      testnet.ProxyOptions
		user, pw string // credentials put in the route's URL
		noRoots  bool   // verify an https:// proxy against the system roots
		tlsTo    bool   // speak TLS to a proxy that serves plain TCP
		byName   bool   // name the proxy "localhost": resolved, then dialled
		target   string // default: the TLS server
		timeout  time.Duration
		want     Outcome
		code     int
		errHas   string
	}{
		{name: "ok", opt: testnet.ProxyOptions{Mode: testnet.ProxyOK}, want: OK, code: 200},
		{name: "ok https proxy", opt: testnet.ProxyOptions{Mode: testnet.ProxyOK, TLS: ca}, want: OK, code: 200},
		{name: "407 without credentials", opt: testnet.ProxyOptions{Mode: testnet.ProxyAuth, User: "alice", Password: "right"},
			want: ProxyAuthRequired, code: 407, errHas: "give credentials in the proxy URL"},
		{name: "407 wrong credentials", opt: testnet.ProxyOptions{Mode: testnet.ProxyAuth, User: "alice", Password: "right"},
			user: "alice", pw: "wrong", want: ProxyAuthRequired, code: 407, errHas: "rejected the user and password"},
		{name: "407 right credentials tunnel", opt: testnet.ProxyOptions{Mode: testnet.ProxyAuth, User: "alice", Password: "p@ss:w/rd"},
			user: "alice", pw: "p@ss:w/rd", want: OK, code: 200},
		{name: "407 over https proxy", opt: testnet.ProxyOptions{Mode: testnet.ProxyAuth, User: "alice", Password: "right", TLS: ca},
			user: "alice", pw: "right", want: OK, code: 200},
		{name: "403", opt: testnet.ProxyOptions{Mode: testnet.ProxyForbidden}, want: ProxyDenied, code: 403, errHas: "policy refuses"},
		{name: "non-loopback target refused", opt: testnet.ProxyOptions{Mode: testnet.ProxyOK}, target: "192.0.2.1:443",
			want: ProxyDenied, code: 403},
		{name: "502", opt: testnet.ProxyOptions{Mode: testnet.ProxyBadGateway}, want: ProxyError, code: 502, errHas: "could not reach"},
		{name: "garbage", opt: testnet.ProxyOptions{Mode: testnet.ProxyGarbage}, want: ProxyError, errHas: "not HTTP"},
		{name: "close mid-tunnel", opt: testnet.ProxyOptions{Mode: testnet.ProxyCloseMidTunnel}, want: ProxyError, code: 200,
			errHas: "closed the tunnel"},
		{name: "silent", opt: testnet.ProxyOptions{Mode: testnet.ProxySilent}, timeout: time.Second, want: ProxyTimeout,
			errHas: "no reply to CONNECT before the deadline"},
		{name: "silent https proxy", opt: testnet.ProxyOptions{Mode: testnet.ProxySilent, TLS: ca}, timeout: time.Second,
			want: ProxyTimeout},
		{name: "https proxy untrusted", opt: testnet.ProxyOptions{Mode: testnet.ProxyOK, TLS: ca}, noRoots: true,
			want: ProxyError, errHas: "tls for CONNECT"},
		{name: "unreachable", want: ProxyUnreachable, errHas: "dial for CONNECT"},
		{name: "https proxy never answers TLS", opt: testnet.ProxyOptions{Mode: testnet.ProxySilent}, tlsTo: true,
			timeout: time.Second, want: ProxyTimeout, errHas: "tls for CONNECT"},
		{name: "proxy by name", opt: testnet.ProxyOptions{Mode: testnet.ProxyOK}, byName: true, want: OK, code: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			route := proxy.Route{Source: proxy.SourceFlag, ProxyRoots: ca.Pool}
			var p *testnet.Proxy
			if tt.opt.Mode != "" {
				p = testnet.StartProxy(t, tt.opt)
				route.Proxy = p.URL
			} else {
				// Picked just before use: a port closed earlier may be a
				// parallel subtest's proxy by now.
				route.Proxy = &url.URL{Scheme: "http", Host: testnet.TCPClosed(t, "127.0.0.1").String()}
			}
			if tt.user != "" {
				route.Proxy = withUser(route.Proxy, tt.user, tt.pw)
			}
			if tt.noRoots {
				route.ProxyRoots = nil
			}
			wantAddr := route.Proxy.Host
			if tt.tlsTo {
				route.Proxy = &url.URL{Scheme: "https", Host: route.Proxy.Host}
			}
			if tt.byName {
				route.Proxy = &url.URL{Scheme: "http", Host: net.JoinHostPort("localhost", route.Proxy.Port())}
			}
			tgt := target
			if tt.target != "" {
				tgt = tt.target
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			conn, res := Connect(ctx, route, tgt)
			t.Logf("%s %d in %v: %s", res.Outcome, res.StatusCode, res.Duration.Round(time.Millisecond), res.Error)
			if elapsed := time.Since(start); elapsed > timeout+time.Second {
				t.Errorf("Connect took %v past a %v deadline", elapsed, timeout)
			}
			if res.Outcome != tt.want || res.StatusCode != tt.code {
				t.Fatalf("Connect = %s (status %d, %q), want %s (status %d)", res.Outcome, res.StatusCode, res.Error, tt.want, tt.code)
			}
			if !strings.Contains(res.Error, tt.errHas) {
				t.Errorf("Error = %q, want it to contain %q", res.Error, tt.errHas)
			}
			if res.ProxyAddr != wantAddr {
				t.Errorf("ProxyAddr = %q, want %q", res.ProxyAddr, wantAddr)
			}
			if res.Proxy != route.Redacted() || res.Start.IsZero() || res.Duration <= 0 {
				t.Errorf("result fields: Proxy %q (want %q), Start %v, Duration %v", res.Proxy, route.Redacted(), res.Start, res.Duration)
			}
			if tt.want != OK {
				if conn != nil || res.Error == "" || !strings.Contains(res.Error, tgt) {
					t.Errorf("failed Connect: conn %v, Error %q (want nil conn and an error naming %s)", conn, res.Error, tgt)
				}
				return
			}
			if conn == nil || res.Error != "" {
				t.Fatalf("ok Connect: conn %v, Error %q", conn, res.Error)
			}
			tunnelGET(t, conn, ca)
			reqs := p.Requests()
			if len(reqs) != 1 || reqs[0].Target != tgt {
				t.Fatalf("proxy saw %+v, want one CONNECT %s", reqs, tgt)
			}
			wantAuth := ""
			if tt.user != "" {
				wantAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(tt.user+":"+tt.pw))
			}
			if reqs[0].Authorization != wantAuth {
				t.Errorf("Proxy-Authorization = %q, want %q", reqs[0].Authorization, wantAuth)
			}
		})
	}
}

// TestConnectCancel: cancelling the context interrupts a proxy that never
// answers, without a deadline.
func TestConnectCancel(t *testing.T) {
	t.Parallel()
	for _, opt := range []testnet.ProxyOptions{{Mode: testnet.ProxySilent}, {Mode: testnet.ProxySilent, TLS: testnet.NewCA(t, "root")}} {
		p := testnet.StartProxy(t, opt)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		route := proxy.Route{Proxy: p.URL}
		if opt.TLS != nil {
			route.ProxyRoots = opt.TLS.Pool
		}
		conn, res := Connect(ctx, route, "127.0.0.1:443")
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Fatalf("%s proxy: Connect returned %v after cancel", p.URL.Scheme, elapsed)
		}
		if conn != nil || res.Outcome != Cancelled || !strings.Contains(res.Error, "canceled") {
			t.Fatalf("%s proxy: Connect = %s %q, want cancelled naming the cancellation", p.URL.Scheme, res.Outcome, res.Error)
		}
	}
}

// TestConnectEarlyBytes: what the proxy sent right after its 200 header is
// the start of the tunnel, not lost in a buffer.
func TestConnectEarlyBytes(t *testing.T) {
	t.Parallel()
	echo := testnet.EchoServer(t, "127.0.0.1")
	p := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyOK, AfterHeader: []byte("EARLY;")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, res := Connect(ctx, proxy.Route{Proxy: p.URL}, echo.String())
	if res.Outcome != OK {
		t.Fatalf("Connect: %s %s", res.Outcome, res.Error)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("EARLY;ping"))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "EARLY;ping" {
		t.Fatalf("read %q, %v; want %q", got, err, "EARLY;ping")
	}
}

// TestConnectNoPasswordLeaks plants a password and looks for it in every
// string a result carries, for each way a CONNECT can fail.
func TestConnectNoPasswordLeaks(t *testing.T) {
	t.Parallel()
	const secret = "Pl4nted-S3cret"
	ca := testnet.NewCA(t, "root")
	modes := []testnet.ProxyOptions{
		{Mode: testnet.ProxyAuth, User: "alice", Password: "other"},
		{Mode: testnet.ProxyForbidden}, {Mode: testnet.ProxyBadGateway}, {Mode: testnet.ProxyGarbage},
		{Mode: testnet.ProxyCloseMidTunnel}, {Mode: testnet.ProxySilent}, {Mode: testnet.ProxyOK, TLS: ca},
	}
	for _, opt := range modes {
		p := testnet.StartProxy(t, opt)
		route := proxy.Route{Proxy: withUser(p.URL, "alice", secret), Source: proxy.SourceFlag}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, res := Connect(ctx, route, "127.0.0.1:1")
		cancel()
		if res.OK() {
			t.Fatalf("mode %s: unexpectedly ok", opt.Mode)
		}
		for _, s := range []string{res.Error, res.Proxy, fmt.Sprintf("%v", res), fmt.Sprintf("%+v", res), fmt.Sprintf("%#v", res)} {
			if strings.Contains(s, secret) {
				t.Errorf("mode %s: %q leaks the password", opt.Mode, s)
			}
		}
	}
}

func TestConnectDirectRoute(t *testing.T) {
	t.Parallel()
	conn, res := Connect(context.Background(), proxy.Route{Source: proxy.SourceNone}, "127.0.0.1:443")
	if conn != nil || res.Outcome != ProxyError || !strings.Contains(res.Error, "direct") {
		t.Fatalf("Connect(direct) = %v, %s %q", conn, res.Outcome, res.Error)
	}
}

func TestClassifyConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want Outcome
	}{
		{&proxy.StatusError{Code: 407}, ProxyAuthRequired},
		{&proxy.StatusError{Code: 401}, ProxyAuthRequired}, // tinyproxy, wrong password
		{&proxy.StatusError{Code: 403}, ProxyDenied},
		{&proxy.StatusError{Code: 404}, ProxyDenied},
		{&proxy.StatusError{Code: 500}, ProxyError},
		{&proxy.StatusError{Code: 301}, ProxyError},
		{fmt.Errorf("wrapped: %w", &proxy.OpError{Op: proxy.OpDial, Err: context.DeadlineExceeded}), ProxyUnreachable},
		{&proxy.OpError{Op: proxy.OpResolve, Err: &net.DNSError{IsNotFound: true}}, ProxyUnreachable},
		{&proxy.OpError{Op: proxy.OpConnect, Err: context.DeadlineExceeded}, ProxyTimeout},
		{&proxy.OpError{Op: proxy.OpTLS, Err: context.Canceled}, Cancelled},
		{&proxy.OpError{Op: proxy.OpDial, Err: context.Canceled}, Cancelled},
		{&proxy.OpError{Op: proxy.OpConnect, Err: proxy.ErrBadReply}, ProxyError},
		{&proxy.OpError{Op: proxy.OpTunnel, Err: proxy.ErrTunnelClosed}, ProxyError},
		{io.EOF, ProxyError},
	}
	for _, tt := range tests {
		if got := classifyConnect(context.Background(), tt.err); got != tt.want {
			t.Errorf("classifyConnect(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
