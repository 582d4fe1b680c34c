package testnet

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"
)

// ProxyMode is how a test CONNECT proxy answers.
type ProxyMode string

// The CONNECT proxy faults.
const (
	ProxyOK             ProxyMode = "ok"               // tunnels to the requested loopback target
	ProxyAuth           ProxyMode = "407"              // 407 unless the configured Basic credentials come; with them, tunnels
	ProxyForbidden      ProxyMode = "403"              // policy refusal
	ProxyBadGateway     ProxyMode = "502"              // the proxy could not reach the target
	ProxySilent         ProxyMode = "silent"           // accepts, reads, never answers
	ProxyGarbage        ProxyMode = "garbage"          // answers with bytes that are not HTTP, then stalls
	ProxyCloseMidTunnel ProxyMode = "close-mid-tunnel" // 200, then closes at once
)

// ProxyOptions shape a test CONNECT proxy.
type ProxyOptions struct {
	Mode ProxyMode
	// User and Password, when User is set, are the Basic credentials demanded
	// in every mode that would tunnel (407 without them).
	User, Password string
	// TLS makes an https:// proxy with a certificate from this CA for
	// 127.0.0.1 and localhost.
	TLS *CA
	// AfterHeader is written in the same write as the 200 header, as a proxy
	// does that forwards the target's first bytes along with its reply.
	AfterHeader []byte
}

// ProxyRequest is one CONNECT the proxy received.
type ProxyRequest struct {
	Target        string // "host:port"
	Authorization string // the Proxy-Authorization header, "" when absent
}

// Proxy is a running test CONNECT proxy on 127.0.0.1.
type Proxy struct {
	URL  *url.URL // http://127.0.0.1:PORT or https://127.0.0.1:PORT, no credentials
	Addr netip.AddrPort

	opt  ProxyOptions
	mu   sync.Mutex
	reqs []ProxyRequest
}

// StartProxy runs a CONNECT proxy with opt until the test ends. It only ever
// dials loopback targets: any other is refused with 403.
func StartProxy(t testing.TB, opt ProxyOptions) *Proxy {
	t.Helper()
	p := &Proxy{opt: opt}
	var cfg *tls.Config
	scheme := "http"
	if opt.TLS != nil {
		scheme = "https"
		cert := opt.TLS.Leaf(t, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, LeafOptions{})
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	p.Addr = serveConns(t, "127.0.0.1", func(c net.Conn) {
		if cfg != nil {
			tc := tls.Server(c, cfg)
			if tc.Handshake() != nil {
				return
			}
			c = tc
		}
		p.handle(c)
	})
	p.URL = &url.URL{Scheme: scheme, Host: p.Addr.String()}
	return p
}

// Requests returns the CONNECT requests received so far.
func (p *Proxy) Requests() []ProxyRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxyRequest(nil), p.reqs...)
}

func (p *Proxy) handle(c net.Conn) {
	if p.opt.Mode == ProxySilent {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, ProxyRequest{Target: req.Host, Authorization: req.Header.Get("Proxy-Authorization")})
	p.mu.Unlock()
	reply := func(status string, hdr string) {
		_, _ = io.WriteString(c, "HTTP/1.1 "+status+"\r\n"+hdr+"Content-Length: 0\r\n\r\n")
	}
	if req.Method != http.MethodConnect {
		reply("405 Method Not Allowed", "")
		return
	}
	switch p.opt.Mode {
	case ProxyForbidden:
		reply("403 Forbidden", "")
		return
	case ProxyBadGateway:
		reply("502 Bad Gateway", "")
		return
	case ProxyGarbage:
		_, _ = c.Write([]byte("\x16\x03\x01\x00\x02garbage, not HTTP\r\n\r\n"))
		_, _ = io.Copy(io.Discard, c)
		return
	}
	if p.opt.Mode == ProxyAuth || p.opt.User != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.opt.User+":"+p.opt.Password))
		if p.opt.User == "" || req.Header.Get("Proxy-Authorization") != want {
			reply("407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"testnet\"\r\n")
			return
		}
	}
	if p.opt.Mode == ProxyCloseMidTunnel {
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		return
	}
	host, port, err := net.SplitHostPort(req.Host)
	ip, perr := netip.ParseAddr(host)
	if host == "localhost" {
		ip, perr = netip.MustParseAddr("127.0.0.1"), nil
	}
	if err != nil || perr != nil || !ip.IsLoopback() {
		reply("403 Forbidden", "X-Testnet: non-loopback target refused\r\n")
		return
	}
	up, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), port), 5*time.Second)
	if err != nil {
		reply("502 Bad Gateway", "")
		return
	}
	defer up.Close()
	hdr := append([]byte("HTTP/1.1 200 Connection established\r\n\r\n"), p.opt.AfterHeader...)
	if _, err := c.Write(hdr); err != nil {
		return
	}
	// Splice: whatever the client sent past its request first, then both ways
	// until either side closes.
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, br); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// EchoServer echoes every byte back until the peer closes: the far end of a
// tunnel in end-to-end tests.
func EchoServer(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) { _, _ = io.Copy(c, c) })
}

// ProxyFunc runs a scripted proxy on 127.0.0.1: handle gets each connection
// after its request was read, for replies the modes do not cover (a header
// that never ends, an odd status, a tunnel that closes late).
func ProxyFunc(t testing.TB, handle func(c net.Conn, req *http.Request)) *url.URL {
	t.Helper()
	addr := serveConns(t, "127.0.0.1", func(c net.Conn) {
		if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			handle(c, req)
		}
	})
	return &url.URL{Scheme: "http", Host: addr.String()}
}
