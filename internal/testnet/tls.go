package testnet

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TLSFault is the one way a TLS test server misbehaves (TLSGood: none).
type TLSFault int

const (
	TLSGood        TLSFault = iota // valid leaf for Host from the trusted test CA
	TLSExpired                     // leaf expired yesterday
	TLSNotYetValid                 // leaf valid from tomorrow
	TLSWrongHost                   // leaf for WrongHost, not Host
	TLSSelfSigned                  // leaf for Host that signs itself
	TLS10Only                      // good leaf, but the server speaks TLS 1.0 only
	TLS11Only                      // good leaf, but the server speaks TLS 1.1 only
	TLSIntercepted                 // leaf for Host minted by "Contoso Inspection CA", as a TLS-inspecting middlebox does
	TLSAlert                       // TLS 1.2 server that requires a client certificate: answers with a bad_certificate alert
	TLSReset                       // reads the ClientHello, then resets the connection (RST)
	TLSGarbage                     // answers the ClientHello with an HTTP error page
	TLSNeverSpeaks                 // accepts, reads the ClientHello, never answers
	TLSSlow                        // handshakes normally, but only after TLSLab.SlowDelay
)

// WrongHost is the name the TLSWrongHost leaf is for.
const WrongHost = "other.example.test"

// InspectionCAName is the common name of the intercepting CA.
const InspectionCAName = "Contoso Inspection CA"

// TLSLab is a trusted test CA, an intercepting CA that is not trusted, and the
// leaves the fault servers present.
type TLSLab struct {
	CA         *CA    // trusted: tests verify against CA.Pool
	Inspection *CA    // "Contoso Inspection CA": in no pool unless a test adds it
	Host       string // the name the good leaves are for ("good.egress.test"; they also cover *.egress.test)
	SlowDelay  time.Duration
	good       tls.Certificate
}

// NewTLSLab mints the CAs and the good leaf (ECDSA P-256: cheap handshakes).
func NewTLSLab(t testing.TB) *TLSLab {
	t.Helper()
	l := &TLSLab{
		CA:         NewCA(t, "egressprobe test root"),
		Inspection: NewCAWithSubject(t, pkix.Name{CommonName: InspectionCAName, Organization: []string{"Contoso Ltd"}}),
		Host:       "good.egress.test",
		SlowDelay:  5 * time.Second,
	}
	l.good = l.CA.Leaf(t, []string{l.Host, "*.egress.test"}, nil, LeafOptions{})
	return l
}

// Serve starts a TLS server with fault f on ip at an ephemeral port until the
// test ends.
func (l *TLSLab) Serve(t testing.TB, ip string, f TLSFault) netip.AddrPort {
	t.Helper()
	day := 24 * time.Hour
	cfg := &tls.Config{Certificates: []tls.Certificate{l.good}, SessionTicketsDisabled: true}
	var delay time.Duration
	switch f {
	case TLSGood:
	case TLSExpired:
		cfg.Certificates[0] = l.CA.Leaf(t, []string{l.Host}, nil, LeafOptions{NotBefore: time.Now().Add(-30 * day), NotAfter: time.Now().Add(-day)})
	case TLSNotYetValid:
		cfg.Certificates[0] = l.CA.Leaf(t, []string{l.Host}, nil, LeafOptions{NotBefore: time.Now().Add(day), NotAfter: time.Now().Add(30 * day)})
	case TLSWrongHost:
		cfg.Certificates[0] = l.CA.Leaf(t, []string{WrongHost}, nil, LeafOptions{})
	case TLSSelfSigned:
		cfg.Certificates[0] = SelfSigned(t, l.Host)
	case TLS10Only:
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS10
	case TLS11Only:
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
	case TLSIntercepted:
		cfg.Certificates[0] = l.Inspection.Leaf(t, []string{l.Host}, nil, LeafOptions{})
	case TLSAlert:
		cfg.MaxVersion = tls.VersionTLS12 // in 1.3 the client finishes before the server judges its certificate
		cfg.ClientAuth = tls.RequireAnyClientCert
	case TLSReset:
		return serveConns(t, ip, resetAfterHello)
	case TLSGarbage:
		return serveConns(t, ip, func(c net.Conn) {
			readSome(c)
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		})
	case TLSNeverSpeaks:
		return TCPSilent(t, ip)
	case TLSSlow:
		delay = l.SlowDelay
	default:
		t.Fatalf("testnet: unknown TLS fault %d", f)
	}
	return serveTLS(t, ip, cfg, delay)
}

// ServeCert starts a well-behaved TLS server presenting cert (its chain as
// given) on ip until the test ends.
func ServeCert(t testing.TB, ip string, cert tls.Certificate) netip.AddrPort {
	t.Helper()
	return serveTLS(t, ip, &tls.Config{Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}, 0)
}

// Farm starts n good TLS servers, each on its own loopback address (Linux),
// sharing one leaf for Host and *.egress.test, that wait delay after accepting
// before handshaking: the fixture for probe benchmarks.
func (l *TLSLab) Farm(t testing.TB, n int, delay time.Duration) []netip.AddrPort {
	t.Helper()
	return FarmOf(t, n, delay, l.good)
}

// FarmOf is Farm with the servers presenting cert.
func FarmOf(t testing.TB, n int, delay time.Duration, cert tls.Certificate) []netip.AddrPort {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}
	out := make([]netip.AddrPort, n)
	for i := range out {
		out[i] = serveTLS(t, LoopbackIP(i), cfg, delay)
	}
	return out
}

// serveTLS handshakes each connection with cfg after delay, then holds it
// until the client closes it.
func serveTLS(t testing.TB, ip string, cfg *tls.Config, delay time.Duration) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) {
		if delay > 0 {
			time.Sleep(delay)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tc := tls.Server(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return
		}
		drain(tc)
	})
}

// resetAfterHello reads the ClientHello and aborts the connection with a RST
// (SO_LINGER 0), as an SNI-filtering middlebox does.
func resetAfterHello(c net.Conn) {
	readSome(c)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// readSome waits for the client's first bytes (its ClientHello).
func readSome(c net.Conn) {
	buf := make([]byte, 4096)
	_, _ = c.Read(buf)
}
