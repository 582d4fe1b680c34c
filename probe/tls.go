package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"egressprobe/proxy"
)

// TLSOptions say what a TLS handshake checks.
type TLSOptions struct {
	ServerName string         // SNI and the name verified; "" verifies the peer's IP address and sends no SNI
	Roots      *x509.CertPool // nil: the system roots (Go caches them per process)
	// ExpectPublicIssuer marks catalog endpoints: a chain that verifies but not
	// to one of the public roots Microsoft endpoints use (publicRoot) is
	// tls_intercepted, the corporate case where the inspection root is
	// installed in the machine's store. Set it only with the system roots: a
	// --ca-file the user gave is trusted as given.
	ExpectPublicIssuer bool
	ALPN               []string
}

// Cert is one certificate of the presented chain.
type Cert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SANs      []string  `json:"sans,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// TLSResult is one TLS handshake. Outcome: ok | tls_timeout |
// tls_handshake_failed | tls_untrusted | tls_hostname_mismatch | tls_expired |
// tls_old_version | tls_intercepted; tcp_mtu_blackhole after a clamped retry.
type TLSResult struct {
	Step
	Version       string `json:"version,omitempty"`
	Cipher        string `json:"cipher,omitempty"`
	ALPN          string `json:"alpn,omitempty"`
	Chain         []Cert `json:"chain,omitempty"` // as presented, leaf first
	Verified      bool   `json:"verified"`        // the chain verified to the roots
	InterceptedBy string `json:"intercepted_by,omitempty"`
	// MSSRetry is the retry with a clamped segment size after a stall, on a
	// direct connection (nil when there was none).
	MSSRetry *MSSRetry `json:"mss_retry,omitempty"`
	// certs are the presented certificates, whatever the verdict, until the
	// engine has read the trust path's URLs from them (then nil: a run
	// keeps no certificate).
	certs []*x509.Certificate
}

// HandshakeTLS runs a TLS client handshake on conn within ctx (its deadline is
// pushed to conn, and cancelling ctx interrupts the handshake), then judges
// the certificate chain itself so that every failure keeps the chain's details.
// TLS 1.0 and 1.1 are allowed so that an old server is reported as
// tls_old_version rather than as a failed handshake.
//
// The *tls.Conn is nil unless the outcome is ok; on success conn's deadline is
// cleared for the next step. The caller keeps ownership of conn and closes it.
func HandshakeTLS(ctx context.Context, conn net.Conn, opt TLSOptions) (*tls.Conn, TLSResult) {
	var res TLSResult
	res.Start = time.Now()
	if conn == nil {
		res.Outcome, res.Error = TLSHandshakeFailed, "tls: no connection to handshake on (the TCP or CONNECT step failed)"
		return nil, res
	}
	hop := tlsHop(conn, opt.ServerName)
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName: opt.ServerName,
		NextProtos: opt.ALPN,
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS13,
		// Classic key shares only, as the Windows TLS stack the MARS agent
		// uses sends: a post-quantum share makes the ClientHello span two
		// packets, which some middleboxes mishandle, and costs CPU per probe.
		CurvePreferences:   []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
		InsecureSkipVerify: true, // verified below, so that a failure still yields the chain and its classification
	})
	err := tc.HandshakeContext(ctx)
	res.Duration = time.Since(res.Start)
	if err != nil {
		res.Outcome, res.Error = handshakeFailure(ctx, hop, res.Start, err)
		return nil, res
	}
	st := tc.ConnectionState()
	res.Version = tls.VersionName(st.Version)
	res.Cipher = tls.CipherSuiteName(st.CipherSuite)
	res.ALPN = st.NegotiatedProtocol
	res.Chain = chainSummaries.of(st.PeerCertificates)
	res.certs = st.PeerCertificates
	v := judgeChain(st.PeerCertificates, verifyName(conn, opt.ServerName), opt, time.Now())
	res.Verified, res.InterceptedBy = v.verified, v.interceptedBy
	res.Duration = time.Since(res.Start)
	switch {
	case v.outcome != OK:
		res.Outcome, res.Error = v.outcome, hop+": "+v.reason
	case st.Version < tls.VersionTLS12:
		res.Outcome = TLSOldVersion
		res.Error = fmt.Sprintf("%s: the server negotiated %s; Azure requires TLS 1.2 or later — update the server or the middlebox in front of it", hop, res.Version)
	default:
		res.Outcome = OK
		_ = conn.SetDeadline(time.Time{})
		return tc, res
	}
	return nil, res
}

// tlsHop names the hop for error messages: "tls 1.2.3.4:443 (SNI host)".
func tlsHop(conn net.Conn, sni string) string {
	if sni == "" {
		return "tls " + conn.RemoteAddr().String()
	}
	return "tls " + conn.RemoteAddr().String() + " (SNI " + sni + ")"
}

// verifyName is the name the leaf must carry: the server name, else the
// peer's IP address.
func verifyName(conn net.Conn, sni string) string {
	if sni != "" {
		return sni
	}
	if host, _, err := net.SplitHostPort(conn.RemoteAddr().String()); err == nil {
		return host
	}
	return conn.RemoteAddr().String()
}

// handshakeFailure classifies a failed handshake: a deadline or cancellation
// is tls_timeout, everything else (alerts, resets, non-TLS answers) is
// tls_handshake_failed with what the server did.
func handshakeFailure(ctx context.Context, hop string, start time.Time, err error) (Outcome, string) {
	if stopped(ctx, err) {
		return Cancelled, hop + ": handshake cancelled before it completed"
	}
	if timedOut(err) || ctx.Err() != nil {
		return TLSTimeout, fmt.Sprintf("%s: no complete handshake within %s: the server or a middlebox accepted TCP but did not finish TLS", hop, budgetOf(ctx, start).Round(time.Millisecond))
	}
	var op *net.OpError
	var rh tls.RecordHeaderError
	var errno syscall.Errno
	switch {
	case errors.As(err, &op) && op.Op == "remote error":
		// crypto/tls reports a received alert as a *net.OpError with this Op
		// around its unexported alert type; the alert's name is its Error.
		return TLSHandshakeFailed, fmt.Sprintf("%s: the server refused the handshake with alert %q (client certificate required, no shared version/cipher/ALPN, or an SNI filter)", hop, op.Err.Error())
	case errors.Is(err, proxy.ErrTunnelClosed):
		// The proxy accepted CONNECT, then dropped the tunnel before the
		// target answered: the proxy's failure, not the server's.
		return ProxyError, hop + ": the proxy closed the tunnel during the TLS handshake: it could not reach the target, or its policy cut the connection"
	case errors.As(err, &rh):
		return TLSHandshakeFailed, fmt.Sprintf("%s: the answer is not TLS (first bytes %q): a proxy, a captive portal or a plain-text service is on this port", hop, rh.RecordHeader[:])
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return TLSHandshakeFailed, hop + ": the connection was closed during the handshake: the server or a middlebox (SNI filtering?) dropped it"
	case errors.As(err, &errno) && errnoFault(errno) == faultRefused:
		return TLSHandshakeFailed, hop + ": the connection was reset during the handshake: the server or a middlebox (SNI filtering?) aborted it"
	}
	return TLSHandshakeFailed, fmt.Sprintf("%s: handshake failed: %v", hop, err)
}

// chainOf summarises the presented certificates, leaf first.
func chainOf(certs []*x509.Certificate) []Cert {
	out := make([]Cert, len(certs))
	for i, c := range certs {
		sans := make([]string, 0, len(c.DNSNames)+len(c.IPAddresses))
		sans = append(sans, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			sans = append(sans, ip.String())
		}
		out[i] = Cert{Subject: c.Subject.String(), Issuer: c.Issuer.String(), SANs: sans, NotBefore: c.NotBefore, NotAfter: c.NotAfter}
	}
	return out
}

// chainVerdict is judgeChain's answer.
type chainVerdict struct {
	outcome       Outcome
	reason        string
	verified      bool
	interceptedBy string
}

// judgeChain classifies the presented chain for host at now, in the order the
// outcome vocabulary promises: expired, hostname mismatch, intercepted,
// untrusted. It parses nothing: crypto/tls already did.
func judgeChain(certs []*x509.Certificate, host string, opt TLSOptions, now time.Time) chainVerdict {
	if len(certs) == 0 {
		return chainVerdict{outcome: TLSUntrusted, reason: "the server presented no certificate"}
	}
	leaf := certs[0]
	switch {
	case now.Before(leaf.NotBefore):
		return chainVerdict{outcome: TLSExpired, reason: fmt.Sprintf("the certificate for %q is not valid until %s (check this machine's clock, or the server's certificate)", leaf.Subject.CommonName, leaf.NotBefore.UTC().Format(time.RFC3339))}
	case now.After(leaf.NotAfter):
		return chainVerdict{outcome: TLSExpired, reason: fmt.Sprintf("the certificate for %q expired on %s (check this machine's clock, or the server's certificate)", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))}
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return chainVerdict{outcome: TLSHostnameMismatch, reason: fmt.Sprintf("the certificate names %s, not %s: the wrong server answered, or a middlebox substituted its own certificate", namesOf(leaf), host)}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         opt.Roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return untrustedVerdict(leaf, err)
	}
	if opt.ExpectPublicIssuer && !anyPublicChain(chains) {
		root := chains[0][len(chains[0])-1]
		return chainVerdict{
			outcome:       TLSIntercepted,
			verified:      true,
			interceptedBy: leaf.Issuer.String(),
			reason: fmt.Sprintf("the certificate was issued by %q and verifies only to %q, which this machine trusts but which is not a public CA Microsoft endpoints use: a TLS-inspecting middlebox — exempt this host from inspection",
				leaf.Issuer.String(), root.Subject.String()),
		}
	}
	return chainVerdict{outcome: OK, verified: true}
}

// untrustedVerdict tells an intercepting CA from other chain failures. A leaf
// that names the host and is in date but was issued by an authority unknown to
// the roots, other than itself and other than a public CA, is a middlebox's.
func untrustedVerdict(leaf *x509.Certificate, err error) chainVerdict {
	var ua x509.UnknownAuthorityError
	switch {
	case selfSigned(leaf):
		return chainVerdict{outcome: TLSUntrusted, reason: fmt.Sprintf("the certificate for %q is self-signed: trust it explicitly with --ca-file, or replace it", leaf.Subject.CommonName)}
	case !errors.As(err, &ua):
		return chainVerdict{outcome: TLSUntrusted, reason: fmt.Sprintf("the chain does not verify: %v", err)}
	case publicIssuer(leaf.Issuer):
		// A public CA's leaf without a path to a root: the server omits its
		// intermediate, or this machine's root store is out of date.
		return chainVerdict{outcome: TLSUntrusted, reason: fmt.Sprintf("the certificate was issued by %q but the chain does not reach a trusted root: the server sends an incomplete chain, or this machine's root store lacks the root — update the root certificates", leaf.Issuer.String())}
	}
	return chainVerdict{
		outcome:       TLSIntercepted,
		interceptedBy: leaf.Issuer.String(),
		reason: fmt.Sprintf("the certificate names the host but was issued by %q, which does not chain to the trusted roots: a TLS-inspecting middlebox — exempt this host from inspection, or pass its root with --ca-file",
			leaf.Issuer.String()),
	}
}

// selfSigned reports whether c names itself as issuer and its signature
// verifies with its own key.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// namesOf lists the names a certificate is valid for, for error messages.
func namesOf(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return fmt.Sprintf("no DNS name (only CN %q)", c.Subject.CommonName)
	}
	return "[" + strings.Join(names, " ") + "]"
}
