package probe

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"egressprobe/proxy"
)

// TestTunnelClosedDuringHandshake: a proxy that answers 200 and drops the
// tunnel a moment later (after Connect's settle window) is the proxy's
// failure, not a TLS one.
func TestTunnelClosedDuringHandshake(t *testing.T) {
	u := testnet.ProxyFunc(t, func(c net.Conn, _ *http.Request) {
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		// Wait for the ClientHello (Connect returned: its settle window is
		// over), take it in, then end the tunnel.
		io.ReadAtLeast(c, make([]byte, 1), 1)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		io.Copy(io.Discard, c)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, cr := Connect(ctx, proxy.Route{Proxy: u, Source: proxy.SourceFlag}, "web.lab.test:443")
	if !cr.OK() {
		t.Fatalf("CONNECT: %s %s", cr.Outcome, cr.Error)
	}
	defer conn.Close()
	_, res := HandshakeTLS(ctx, conn, TLSOptions{ServerName: "web.lab.test"})
	if res.Outcome != ProxyError {
		t.Errorf("outcome %s (%s), want %s", res.Outcome, res.Error, ProxyError)
	}
}

// TestTLSThroughTunnelNamesTheTarget: through a CONNECT tunnel the TLS hop is
// the target, not the proxy, and an IP-literal target is verified against
// its own address.
func TestTLSThroughTunnelNamesTheTarget(t *testing.T) {
	lab := testnet.NewTLSLab(t)
	wrong := lab.Serve(t, "127.0.0.1", testnet.TLSWrongHost)
	p := testnet.StartProxy(t, testnet.ProxyOptions{Mode: testnet.ProxyOK})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, cr := Connect(ctx, proxy.Route{Proxy: p.URL, Source: proxy.SourceFlag}, wrong.String())
	if !cr.OK() {
		t.Fatalf("CONNECT: %s %s", cr.Outcome, cr.Error)
	}
	defer conn.Close()
	_, res := HandshakeTLS(ctx, conn, TLSOptions{ServerName: "web.lab.test", Roots: lab.CA.Pool})
	if res.Outcome != TLSHostnameMismatch {
		t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Error, TLSHostnameMismatch)
	}
	if !strings.Contains(res.Error, "tls "+wrong.String()) || strings.Contains(res.Error, p.Addr.String()) {
		t.Errorf("error %q should name the target %s, not the proxy %s", res.Error, wrong, p.Addr)
	}
}
