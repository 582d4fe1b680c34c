package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

func dialT(t *testing.T, ap netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatalf("dial %s: %v", ap, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestHTTPGet(t *testing.T) {
	t.Parallel()
	const lo = "127.0.0.1"
	status := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
	}
	big := "HTTP/1.1 200 OK\r\nX-Pad: " + strings.Repeat("a", MaxHTTPRead) + "\r\n\r\n"
	tests := []struct {
		name      string
		srv       netip.AddrPort
		expect    string
		want      Outcome
		code      int
		errHas    string
		bodyMatch bool
	}{
		{"ncsi ok", testnet.ServeHTTP(t, lo, testnet.NCSI(testnet.NCSIBody), nil), testnet.NCSIBody, OK, 200, "", true},
		{"captive portal", testnet.ServeHTTP(t, lo, testnet.CaptivePortal("http://portal.example/login?x=1"), nil), testnet.NCSIBody, HTTPUnexpected, 302,
			"captive portal or intercepting proxy: 302 to http://portal.example/login?x=1", false},
		{"wrong body", testnet.ServeHTTP(t, lo, testnet.NCSI("<html>Sign in to Guest WiFi</html>"), nil), testnet.NCSIBody, HTTPUnexpected, 200,
			`200 with another body (34 bytes, "<html>Sign in to Guest WiFi</html>")`, false},
		{"503", testnet.ServeHTTP(t, lo, status(503), nil), testnet.NCSIBody, HTTPUnexpected, 503, "503 Service Unavailable instead of 200", false},
		{"no expectation, any status", testnet.ServeHTTP(t, lo, status(404), nil), "", OK, 404, "", false},
		{"garbage", testnet.HTTPRaw(t, lo, "SSH-2.0-OpenSSH_9.6\r\n\r\n"), testnet.NCSIBody, HTTPError, 0, "not an HTTP answer", false},
		{"closed before header", testnet.HTTPRaw(t, lo, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"), testnet.NCSIBody, HTTPError, 0, "connection closed before a complete HTTP header", false},
		{"header over the cap", testnet.HTTPRaw(t, lo, big), testnet.NCSIBody, HTTPError, 0, "the cap is 65536", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := HTTPGet(ctx, dialT(t, tc.srv), HTTPRequest{Host: "www.msftconnecttest.com", Path: "/connecttest.txt", ExpectBody: tc.expect})
			if r.Outcome != tc.want || r.StatusCode != tc.code || r.BodyMatch != tc.bodyMatch {
				t.Fatalf("got outcome %q code %d match %v (%s); want %q %d %v", r.Outcome, r.StatusCode, r.BodyMatch, r.Error, tc.want, tc.code, tc.bodyMatch)
			}
			if !strings.Contains(r.Error, tc.errHas) || (tc.want == OK) != (r.Error == "") {
				t.Errorf("error %q, want it to contain %q", r.Error, tc.errHas)
			}
			if tc.code != 0 && time.Since(r.Date).Abs() > time.Minute {
				t.Errorf("Date %v: not the server's clock", r.Date)
			}
			if r.BytesRead <= 0 || r.BytesRead > MaxHTTPRead || r.Duration <= 0 {
				t.Errorf("BytesRead %d, Duration %v", r.BytesRead, r.Duration)
			}
			if r.URL != "http://www.msftconnecttest.com/connecttest.txt" {
				t.Errorf("URL %q", r.URL)
			}
		})
	}
}

// An HTTPS GET over the conn from a TLS handshake reads the server's Date.
func TestHTTPGetOverTLS(t *testing.T) {
	t.Parallel()
	ca := testnet.NewCA(t, "egressprobe test root")
	cert := ca.Leaf(t, []string{"login.example.test"}, nil, testnet.LeafOptions{})
	srv := testnet.ServeHTTP(t, "127.0.0.1", testnet.CaptivePortal("https://login.example.test/common"), &cert)
	tc := tls.Client(dialT(t, srv), &tls.Config{ServerName: "login.example.test", RootCAs: ca.Pool})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	r := HTTPGet(ctx, tc, HTTPRequest{Scheme: "https", Host: "login.example.test"})
	if r.Outcome != OK || r.StatusCode != 302 || r.Location != "https://login.example.test/common" || r.Date.IsZero() {
		t.Fatalf("%+v", r)
	}
}

// Through a plain-HTTP proxy the GET goes in absolute form with the proxy's
// credentials; a 407 is the proxy's, and the password appears nowhere.
func TestHTTPGetViaProxy(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	srv := testnet.ServeHTTP(t, "127.0.0.1", testnet.ForwardProxy("alice", "s3cret!", testnet.NCSI(testnet.NCSIBody), got), nil)
	for _, tc := range []struct {
		user *url.Userinfo
		want Outcome
	}{
		{url.UserPassword("alice", "s3cret!"), OK},
		{url.UserPassword("alice", "wrong-s3cret!"), ProxyAuthRequired},
		{nil, ProxyAuthRequired},
	} {
		px := &url.URL{Scheme: "http", Host: srv.String(), User: tc.user}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r := HTTPGet(ctx, dialT(t, srv), HTTPRequest{Host: "www.msftconnecttest.com", Path: "/connecttest.txt", ExpectBody: testnet.NCSIBody, Proxy: px})
		cancel()
		if r.Outcome != tc.want {
			t.Fatalf("user %v: %q %s", tc.user, r.Outcome, r.Error)
		}
		if strings.Contains(r.Error, "s3cret") {
			t.Errorf("password leaked: %s", r.Error)
		}
	}
	if u := <-got; u != "http://www.msftconnecttest.com/connecttest.txt" {
		t.Errorf("proxy was asked for %q", u)
	}
}

// A server that stalls or dribbles cannot hold the GET past ctx's deadline,
// and cancelling ctx interrupts it at once.
func TestHTTPGetDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		srv  netip.AddrPort
	}{
		{"stall", testnet.HTTPStall(t, "127.0.0.1")},
		{"dribble", testnet.HTTPDribble(t, "127.0.0.1", 300*time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := dialT(t, tc.srv)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			r := HTTPGet(ctx, conn, HTTPRequest{Host: "h.test", ExpectBody: testnet.NCSIBody})
			// The deadline, not something else, ended it: it ran most of its second.
			if el := time.Since(start); r.Outcome != HTTPTimeout || el > 3*time.Second || r.Duration < 500*time.Millisecond {
				t.Fatalf("%q after %v (Duration %v): %s", r.Outcome, el, r.Duration, r.Error)
			}
			if !strings.Contains(r.Error, "GET http://h.test/ via 127.0.0.1:") {
				t.Errorf("error does not name the URL and the peer: %s", r.Error)
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		r := HTTPGet(ctx, dialT(t, testnet.HTTPStall(t, "127.0.0.1")), HTTPRequest{Host: "h.test"})
		if el := time.Since(start); r.Outcome != Cancelled || el > 2*time.Second {
			t.Fatalf("%q (%s) after %v, want cancelled at once", r.Outcome, r.Error, el)
		}
	})
}

func FuzzHTTPRead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 22\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\nMicrosoft Connect Test",
		"HTTP/1.1 302 Found\r\nLocation: http://portal/\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nMicro\r\n0\r\n\r\n",
		"HTTP/1.0 407 x\r\n\r\n",
		"garbage",
		"",
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, viaProxy bool) {
		req := HTTPRequest{Host: "h", ExpectBody: testnet.NCSIBody}
		if viaProxy {
			req.Proxy = &url.URL{Scheme: "http", Host: "p:3128", User: url.UserPassword("u", "pw")}
		}
		var r HTTPResult
		err := r.read(bytes.NewReader(data), req)
		if r.BytesRead > len(data) {
			t.Fatalf("read %d of %d bytes", r.BytesRead, len(data))
		}
		if err == nil && r.Outcome != OK && r.Outcome != HTTPUnexpected && r.Outcome != ProxyAuthRequired {
			t.Fatalf("outcome %q", r.Outcome)
		}
		if r.BodyMatch != (err == nil && r.Outcome == OK && req.ExpectBody != "") {
			t.Fatalf("BodyMatch %v with outcome %q", r.BodyMatch, r.Outcome)
		}
	})
}
