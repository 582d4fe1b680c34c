package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

const (
	// maxReplyBytes caps the CONNECT reply header: a proxy that streams
	// garbage cannot grow memory, only spend the deadline.
	maxReplyBytes = 64 << 10
	// tunnelSettle is how long Connect waits, after a 2xx, for a proxy that
	// closes the tunnel at once (it accepted, then failed upstream). Bytes that
	// arrive in that window are kept for the caller.
	tunnelSettle = 25 * time.Millisecond
)

// The operations an OpError names.
const (
	OpResolve = "resolve" // looking up the proxy's own name
	OpDial    = "dial"    // TCP to the proxy
	OpTLS     = "tls"     // TLS to an https:// proxy
	OpConnect = "connect" // writing CONNECT and reading the reply
	OpTunnel  = "tunnel"  // the tunnel after a 2xx
)

var (
	// ErrBadReply marks a reply to CONNECT that is not HTTP.
	ErrBadReply = errors.New("the proxy's reply to CONNECT is not HTTP")
	// ErrTunnelClosed marks a tunnel the proxy closed before the target sent a
	// byte: it said 2xx, then could not (or would not) reach the target.
	ErrTunnelClosed = errors.New("the proxy closed the tunnel before the target sent anything")
)

// OpError is a failure on the way to a tunnel that is not an HTTP status.
type OpError struct {
	Op     string // OpResolve, OpDial, OpTLS, OpConnect or OpTunnel
	Proxy  string // redacted proxy URL
	Addr   string // the proxy's address "IP:PORT", "" before it was resolved
	Target string // "host:port" asked for
	Err    error
}

func (e *OpError) Error() string {
	at := e.Proxy
	if e.Addr != "" {
		at += " (" + e.Addr + ")"
	}
	return Redact(fmt.Sprintf("proxy %s: %s for CONNECT %s: %v", at, e.Op, e.Target, e.Err))
}

func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the operation ran out of time.
func (e *OpError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, os.ErrDeadlineExceeded) ||
		errors.As(e.Err, &ne) && ne.Timeout()
}

// StatusError is a CONNECT refused with a non-2xx HTTP status.
type StatusError struct {
	Proxy, Addr, Target string
	Code                int
	Status              string   // the status line's text as sent, sanitised
	Authenticate        []string // challenge schemes offered (Basic, NTLM, Negotiate)
	SentCredentials     bool     // a Proxy-Authorization header was sent
}

// AuthRequired reports whether the proxy wants (other) credentials: 407, or
// 401, which tinyproxy sends for a wrong password. Before the tunnel exists
// the target cannot have answered, so a 401 is the proxy's too.
func (e *StatusError) AuthRequired() bool {
	return e.Code == http.StatusProxyAuthRequired || e.Code == http.StatusUnauthorized
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("proxy %s (%s) answered CONNECT %s with %d %s", e.Proxy, e.Addr, e.Target, e.Code, e.Status)
	switch {
	case e.AuthRequired() && e.SentCredentials:
		msg += fmt.Sprintf(" (wants %s): the proxy rejected the user and password in the proxy URL", strings.Join(e.Authenticate, ", "))
		if !e.offers("Basic") {
			msg += "; it does not offer Basic, which is all egressprobe can send"
		}
	case e.AuthRequired():
		msg += fmt.Sprintf(" (wants %s): give credentials in the proxy URL, user:password and an @ before the host", strings.Join(e.Authenticate, ", "))
	case e.Code >= 400 && e.Code < 500:
		msg += ": the proxy's policy refuses this host or port; ask for CONNECT to " + e.Target + " to be allowed"
	case e.Code >= 500:
		msg += ": the proxy failed or could not reach " + e.Target + " itself (its upstream firewall or DNS)"
	}
	return Redact(msg)
}

func (e *StatusError) offers(scheme string) bool {
	for _, a := range e.Authenticate {
		if strings.EqualFold(a, scheme) {
			return true
		}
	}
	return false
}

// Tunnel describes a CONNECT attempt, successful or not.
type Tunnel struct {
	Addr       string // the proxy's address that was dialled "IP:PORT"; "" if never dialled
	StatusCode int    // the CONNECT reply's status, 0 when none was read
}

// Dialer opens CONNECT tunnels through HTTP and HTTPS proxies.
type Dialer struct {
	// Roots verify an https:// proxy's certificate; nil: the system roots.
	Roots *x509.CertPool
	// Resolver looks up the proxy's name; nil: net.DefaultResolver.
	Resolver *net.Resolver
}

// Connect dials proxyURL (http:// or https://) and asks it for a tunnel to
// target "host:port". Credentials in the URL are sent as Basic. The context's
// deadline bounds every step, including a proxy that never answers, and
// cancelling it interrupts them. On success the conn is the tunnel, its
// deadline cleared, with any bytes the proxy sent after the reply header
// still readable; a read that meets EOF before the target sent a byte returns
// an error wrapping ErrTunnelClosed (and io.EOF). Errors are *OpError or
// *StatusError, their strings redacted.
func (d Dialer) Connect(ctx context.Context, proxyURL *url.URL, target string) (net.Conn, Tunnel, error) {
	var tun Tunnel
	if strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// It goes into the request line: no header injection.
		return nil, tun, opError(ctx, OpConnect, proxyURL, tun, sanitize(target), errors.New("target contains spaces or control characters"))
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, tun, opError(ctx, OpConnect, proxyURL, tun, target, fmt.Errorf("target must be host:port: %w", err))
	}
	conn, err := d.dial(ctx, proxyURL, &tun)
	if err != nil {
		var oe *OpError
		if errors.As(err, &oe) {
			return nil, tun, err
		}
		return nil, tun, opError(ctx, OpDial, proxyURL, tun, target, err)
	}
	return d.handshake(ctx, conn, proxyURL, target, tun)
}

// Dial connects to the proxy itself — TLS first for an https:// proxy — and
// opens no tunnel: the caller sends plain-HTTP requests in absolute form
// (GET http://host/path), as clients and Windows NCSI do for http:// URLs
// through a proxy. Deadlines, cancellation and errors are as for Connect.
func (d Dialer) Dial(ctx context.Context, proxyURL *url.URL) (net.Conn, Tunnel, error) {
	var tun Tunnel
	conn, err := d.dial(ctx, proxyURL, &tun)
	if err != nil {
		var oe *OpError
		if errors.As(err, &oe) {
			return nil, tun, err
		}
		return nil, tun, opError(ctx, OpDial, proxyURL, tun, "", err)
	}
	if proxyURL.Scheme != "https" {
		return conn, tun, nil
	}
	tc, err := d.secure(ctx, conn, proxyURL)
	if err != nil {
		conn.Close()
		return nil, tun, opError(ctx, OpTLS, proxyURL, tun, "", err)
	}
	return tc, tun, nil
}

// secure does TLS to an https:// proxy on conn, within ctx.
func (d Dialer) secure(ctx context.Context, conn net.Conn, proxyURL *url.URL) (*tls.Conn, error) {
	tc := tls.Client(conn, &tls.Config{ServerName: proxyURL.Hostname(), RootCAs: d.Roots, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// opError builds the error of a step, naming the context's end when it came
// first (a cancelled probe, not a failing proxy).
func opError(ctx context.Context, op string, proxyURL *url.URL, tun Tunnel, target string, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return &OpError{Op: op, Proxy: proxyURL.Redacted(), Addr: tun.Addr, Target: target, Err: err}
}

// handshake does, on a connection to the proxy, TLS for an https:// proxy,
// then CONNECT and its reply; conn is closed unless a tunnel is returned.
func (d Dialer) handshake(ctx context.Context, conn net.Conn, proxyURL *url.URL, target string, tun Tunnel) (net.Conn, Tunnel, error) {
	// The socket deadline follows the context: its deadline, and at once when
	// it is cancelled.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	raw := conn // conn becomes the TLS layer for an https:// proxy
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(op string, err error) (net.Conn, Tunnel, error) {
		conn.Close()
		return nil, tun, opError(ctx, op, proxyURL, tun, target, err)
	}

	if proxyURL.Scheme == "https" {
		tc, err := d.secure(ctx, conn, proxyURL)
		if err != nil {
			return fail(OpTLS, err)
		}
		conn = tc
	}

	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nUser-Agent: egressprobe\r\n"
	auth := AuthorizationLine(proxyURL)
	sentCreds := auth != ""
	req += auth
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return fail(OpConnect, fmt.Errorf("write CONNECT: %w", err))
	}

	br := bufio.NewReader(&io.LimitedReader{R: conn, N: maxReplyBytes})
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fail(OpConnect, replyError(err))
	}
	tun.StatusCode = resp.StatusCode
	if resp.StatusCode/100 != 2 {
		conn.Close()
		return nil, tun, &StatusError{
			Proxy: proxyURL.Redacted(), Addr: tun.Addr, Target: target, Code: resp.StatusCode,
			Status:       sanitize(strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode)))),
			Authenticate: challengeSchemes(append(resp.Header.Values("Proxy-Authenticate"), resp.Header.Values("WWW-Authenticate")...)), SentCredentials: sentCreds,
		}
	}
	// Bytes after the header are the target's: keep them.
	early, _ := br.Peek(br.Buffered())
	early = append([]byte(nil), early...)
	if len(early) == 0 {
		if early, err = settle(ctx, conn); err != nil {
			return fail(OpTunnel, err)
		}
	}
	conn.SetDeadline(time.Time{})
	return &tunnelConn{Conn: conn, early: early, proxy: proxyURL.Redacted(), target: target}, tun, nil
}

// dial resolves the proxy's host and connects to its addresses in turn,
// recording the one dialled.
func (d Dialer) dial(ctx context.Context, u *url.URL, tun *Tunnel) (net.Conn, error) {
	host, port := u.Hostname(), PortOf(u)
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, &OpError{Op: OpResolve, Proxy: u.Redacted(), Err: err}
		}
	}
	var nd net.Dialer
	var err error
	for _, a := range addrs {
		tun.Addr = net.JoinHostPort(a.Unmap().String(), port)
		var c net.Conn
		if c, err = nd.DialContext(ctx, "tcp", tun.Addr); err == nil {
			return c, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("%s has no addresses", host)
	}
	return nil, err
}

// settle waits briefly for a proxy that closes right after its 2xx; bytes
// that arrive instead are returned for the caller.
func settle(ctx context.Context, conn net.Conn) ([]byte, error) {
	until := time.Now().Add(tunnelSettle)
	if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
		until = dl
	}
	conn.SetReadDeadline(until)
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	switch {
	case n > 0 || err == nil:
		return buf[:n], nil
	case proxyEndedTunnel(err):
		return nil, fmt.Errorf("%w (%v)", ErrTunnelClosed, err)
	case ctx.Err() == nil:
		return nil, nil // quiet: the tunnel stands
	default:
		return nil, err // the budget ran out while waiting
	}
}

// replyError classifies a failure to read the CONNECT reply: a timeout stays
// a timeout; anything else means the bytes were not an HTTP reply.
func replyError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no reply to CONNECT before the deadline: %w", err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the proxy closed the connection before a complete reply (%v)", ErrBadReply, err)
	}
	return fmt.Errorf("%w: %v", ErrBadReply, err)
}

// challengeSchemes returns the auth scheme of each Proxy-Authenticate (or,
// with a 401, WWW-Authenticate) value.
func challengeSchemes(vals []string) []string {
	var out []string
	for _, v := range vals {
		if s, _, _ := strings.Cut(strings.TrimSpace(v), " "); s != "" {
			out = append(out, sanitize(s))
		}
	}
	if len(out) == 0 {
		out = []string{"no challenge"}
	}
	return out
}

// sanitize keeps proxy-sent text printable and short.
func sanitize(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '?'
		}
		return r
	}, s)
}

// tunnelConn is the tunnel: the target's bytes the proxy sent with its reply
// first, then the connection.
type tunnelConn struct {
	net.Conn
	early         []byte
	got           bool // a byte from the target came through
	proxy, target string
}

// RemoteAddr is the tunnel's far end, the target "host:port", not the
// proxy: what a TLS step names as its hop and verifies an IP literal against.
func (c *tunnelConn) RemoteAddr() net.Addr { return tunnelAddr(c.target) }

// tunnelAddr is a CONNECT target as a net.Addr.
type tunnelAddr string

func (a tunnelAddr) Network() string { return "tcp" }
func (a tunnelAddr) String() string  { return string(a) }

func (c *tunnelConn) Read(p []byte) (int, error) {
	if len(c.early) > 0 {
		n := copy(p, c.early)
		c.early = c.early[n:]
		c.got = true
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.got = true
	}
	if err != nil && !c.got && proxyEndedTunnel(err) {
		return n, &tunnelClosedError{proxy: c.proxy, target: c.target, err: err}
	}
	return n, err
}

// proxyEndedTunnel reports whether a read error before the target's first
// byte is the proxy ending the tunnel: EOF or a reset on our socket to it,
// not a deadline of the caller's or our own Close.
func proxyEndedTunnel(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
		return false
	}
	return true
}

// tunnelClosedError is ErrTunnelClosed and the read error at once (io.EOF, a
// reset), so that code that only knows those still sees them.
type tunnelClosedError struct {
	proxy, target string
	err           error
}

func (e *tunnelClosedError) Error() string {
	return fmt.Sprintf("proxy %s, tunnel to %s: %v (%v)", e.proxy, e.target, ErrTunnelClosed, e.err)
}

func (e *tunnelClosedError) Unwrap() []error { return []error{ErrTunnelClosed, e.err} }

// AuthorizationLine is the "Proxy-Authorization: Basic ..." header line,
// CRLF included, for the credentials in a proxy URL; "" when it has none.
// The line holds the password: write it to the proxy, never print it.
func AuthorizationLine(proxyURL *url.URL) string {
	if proxyURL == nil || proxyURL.User == nil {
		return ""
	}
	pw, _ := proxyURL.User.Password()
	return "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(proxyURL.User.Username()+":"+pw)) + "\r\n"
}
