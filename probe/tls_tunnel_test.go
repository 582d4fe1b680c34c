package probe

import (
	"context"
	"io"
	"net"
	"net/http"
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
		time.Sleep(150 * time.Millisecond)
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
