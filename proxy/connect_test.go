package proxy_test

import (
	"context"
	"crypto/tls"
	"errors"
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

func TestDialerResolveFailure(t *testing.T) {
	t.Parallel()
	// A resolver whose DNS server is unreachable: the lookup fails locally.
	r := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test")
	}}
	u, _ := url.Parse("http://alice:s3cret@proxy.contoso.test:3128")
	_, tun, err := proxy.Dialer{Resolver: r}.Connect(context.Background(), u, "login.microsoftonline.com:443")
	var oe *proxy.OpError
	if !errors.As(err, &oe) || oe.Op != proxy.OpResolve || tun.Addr != "" {
		t.Fatalf("err = %v, tunnel %+v; want a resolve OpError and no address", err, tun)
	}
	if !strings.Contains(err.Error(), "proxy.contoso.test") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q should name the proxy host, redacted", err)
	}
}

func TestDialerBadTarget(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("http://127.0.0.1:1")
	for target, want := range map[string]string{
		"no-port":                     "host:port",
		"a\r\nX-Injected: 1\r\nb:443": "control characters",
		"a b:443":                     "spaces",
	} {
		_, _, err := proxy.Dialer{}.Connect(context.Background(), u, target)
		if err == nil || !strings.Contains(err.Error(), want) || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("Connect(%q): err = %v, want a one-line error containing %q", target, err, want)
		}
	}
}

// TestDialerTunnelClosedLater: a tunnel that stands past the settle window
// and then closes before the target spoke reads as ErrTunnelClosed and EOF;
// after a byte came through, EOF is plain EOF.
func TestDialerTunnelClosedLater(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"", "hello"} {
		connected := make(chan struct{}) // closed once Connect returned: its settle window is over
		u := testnet.ProxyFunc(t, func(c net.Conn, _ *http.Request) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
			<-connected
			io.WriteString(c, first)
		})
		conn, tun, err := proxy.Dialer{}.Connect(context.Background(), u, "127.0.0.1:443")
		close(connected)
		if err != nil || tun.StatusCode != 200 {
			t.Fatalf("Connect: %v (status %d)", err, tun.StatusCode)
		}
		b, err := io.ReadAll(conn)
		conn.Close()
		switch first {
		case "":
			if !errors.Is(err, proxy.ErrTunnelClosed) || !errors.Is(err, io.EOF) {
				t.Fatalf("silent close: ReadAll = %q, %v; want ErrTunnelClosed and io.EOF", b, err)
			}
		default:
			if err != nil || string(b) != first {
				t.Fatalf("ReadAll = %q, %v; want %q and a clean EOF", b, err, first)
			}
		}
	}
}

// TestDialerReplies covers replies no well-behaved proxy sends.
func TestDialerReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reply  func(c net.Conn)
		code   int
		errHas string
	}{
		{"endless header", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX: ")
			io.Copy(c, strings.NewReader(strings.Repeat("a", 200<<10)))
		}, 0, "not HTTP"},
		{"closed before a reply", func(net.Conn) {}, 0, "closed the connection before a complete reply"},
		{"half a status line", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 20") }, 0, "not HTTP"},
		{"407 NTLM only", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 407 Auth\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n")
		}, 407, "does not offer Basic"},
		{"407 no challenge", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n") }, 407, "no challenge"},
		{"control characters in status", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 403 Go\x1b[31maway\r\n\r\n") }, 403, "Go?[31maway"},
		{"2xx other than 200 is a tunnel", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.0 204 Fine\r\n\r\n")
			io.Copy(io.Discard, c) // stand until the client closes: past the settle window
		}, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := testnet.ProxyFunc(t, func(c net.Conn, _ *http.Request) { tt.reply(c) })
			u.User = url.UserPassword("alice", "s3cret")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, tun, err := proxy.Dialer{}.Connect(ctx, u, "127.0.0.1:443")
			if tun.StatusCode != tt.code {
				t.Errorf("status %d, want %d", tun.StatusCode, tt.code)
			}
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				conn.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("err = %v, want a redacted error containing %q", err, tt.errHas)
			}
		})
	}
}

// TestDialerHTTPSProxyEarlyBytes: through a TLS connection to the proxy,
// bytes coalesced with the 200 still reach the caller.
func TestDialerHTTPSProxyEarlyBytes(t *testing.T) {
	t.Parallel()
	ca := testnet.NewCA(t, "root")
	echo := testnet.EchoServer(t, "127.0.0.1")
	p := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyOK, TLS: ca, AfterHeader: []byte("hi;")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := proxy.Dialer{Roots: ca.Pool}.Connect(ctx, p.URL, echo.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "yo")
	got := make([]byte, 5)
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "hi;yo" {
		t.Fatalf("read %q, %v", got, err)
	}
}

// TestTunnelClosedSurvivesTLS: a TLS handshake over a tunnel the proxy ends
// (EOF, or a reset when it closes with the ClientHello unread) fails with an
// error that still says ErrTunnelClosed, so the TLS step can tell the proxy's
// failure from the target's.
func TestTunnelClosedSurvivesTLS(t *testing.T) {
	t.Parallel()
	for name, end := range map[string]func(net.Conn){
		"eof":   func(c net.Conn) { c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); io.Copy(io.Discard, c) },
		"reset": func(net.Conn) {},
	} {
		u := testnet.ProxyFunc(t, func(c net.Conn, _ *http.Request) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
			// The ClientHello's first bytes: Connect returned, its settle
			// window is over. Closing with the rest unread resets.
			io.ReadAtLeast(c, make([]byte, 1), 1)
			end(c)
		})
		conn, _, err := proxy.Dialer{}.Connect(context.Background(), u, "127.0.0.1:443")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = tls.Client(conn, &tls.Config{ServerName: "target.test"}).Handshake()
		conn.Close()
		if !errors.Is(err, proxy.ErrTunnelClosed) {
			t.Fatalf("%s: handshake error = %v, want one wrapping ErrTunnelClosed", name, err)
		}
	}
}
