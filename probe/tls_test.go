package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// publicLikeChain mints a chain shaped like an Azure endpoint's: a root named
// like DigiCert Global Root G2, a "Microsoft Azure RSA TLS Issuing CA 03"
// intermediate, and a leaf for host. It returns the leaf (chain: leaf,
// intermediate) and a pool holding only the root.
func publicLikeChain(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	root := testnet.NewCAWithSubject(t, pkix.Name{CommonName: "DigiCert Global Root G2", Organization: []string{"DigiCert Inc"}, OrganizationalUnit: []string{"www.digicert.com"}})
	issuing := root.Intermediate(t, pkix.Name{CommonName: "Microsoft Azure RSA TLS Issuing CA 03", Organization: []string{"Microsoft Corporation"}})
	return issuing.Leaf(t, []string{host}, nil, testnet.LeafOptions{}), root.Pool
}

// TestHandshakeTLS is the scenario table: each TLS fault server on its own
// loopback address, probed by DialTCP then HandshakeTLS, must give exactly
// one outcome; together the rows produce every tls_* outcome.
func TestHandshakeTLS(t *testing.T) {
	t.Parallel()
	lab := testnet.NewTLSLab(t)
	lab.SlowDelay = 3 * time.Second
	// Rows that must time out get a short budget; the others a long one, so
	// that a loaded machine (-race, 2 cores) cannot turn them into timeouts.
	const short, long = 400 * time.Millisecond, 10 * time.Second
	trustInspection := x509.NewCertPool()
	trustInspection.AddCert(lab.CA.Cert)
	trustInspection.AddCert(lab.Inspection.Cert)
	publicLeaf, publicRoots := publicLikeChain(t, lab.Host)
	incomplete := publicLeaf
	incomplete.Certificate = incomplete.Certificate[:1] // the server forgets its intermediate

	tests := []struct {
		name   string
		server func(t *testing.T, ip string) netip.AddrPort
		opt    TLSOptions // ServerName defaults to lab.Host, Roots to lab.CA.Pool
		want   handshakeWant
	}{
		{"good", fault(lab, testnet.TLSGood), TLSOptions{}, handshakeWant{outcome: OK, version: "TLS 1.3", verified: true}},
		{"good, ALPN offered", fault(lab, testnet.TLSGood), TLSOptions{ALPN: []string{"h2", "http/1.1"}}, handshakeWant{outcome: OK, verified: true}},
		{"good, public-like chain expected public", cert(publicLeaf), TLSOptions{Roots: publicRoots, ExpectPublicIssuer: true},
			handshakeWant{outcome: OK, verified: true}},
		{"expired", fault(lab, testnet.TLSExpired), TLSOptions{}, handshakeWant{outcome: TLSExpired, errHas: []string{"expired on"}}},
		{"not yet valid", fault(lab, testnet.TLSNotYetValid), TLSOptions{}, handshakeWant{outcome: TLSExpired, errHas: []string{"not valid until", "clock"}}},
		{"wrong host", fault(lab, testnet.TLSWrongHost), TLSOptions{}, handshakeWant{outcome: TLSHostnameMismatch, errHas: []string{testnet.WrongHost, "not " + lab.Host}}},
		{"no server name: the IP is checked", fault(lab, testnet.TLSGood), TLSOptions{ServerName: "-"},
			handshakeWant{outcome: TLSHostnameMismatch, errHas: []string{"not 127."}}},
		{"self-signed", fault(lab, testnet.TLSSelfSigned), TLSOptions{}, handshakeWant{outcome: TLSUntrusted, errHas: []string{"self-signed"}}},
		{"incomplete public chain", cert(incomplete), TLSOptions{Roots: publicRoots},
			handshakeWant{outcome: TLSUntrusted, errHas: []string{"incomplete chain", "Microsoft Azure RSA TLS Issuing CA 03"}}},
		{"intercepting CA not trusted", fault(lab, testnet.TLSIntercepted), TLSOptions{},
			handshakeWant{outcome: TLSIntercepted, intercepted: testnet.InspectionCAName, errHas: []string{testnet.InspectionCAName, "inspecting middlebox"}}},
		{"intercepting CA trusted, public issuer expected", fault(lab, testnet.TLSIntercepted), TLSOptions{Roots: trustInspection, ExpectPublicIssuer: true},
			handshakeWant{outcome: TLSIntercepted, verified: true, intercepted: testnet.InspectionCAName, errHas: []string{"not a public CA"}}},
		{"intercepting CA trusted, no expectation (--ca-file)", fault(lab, testnet.TLSIntercepted), TLSOptions{Roots: trustInspection},
			handshakeWant{outcome: OK, verified: true}},
		{"TLS 1.0 only", fault(lab, testnet.TLS10Only), TLSOptions{}, handshakeWant{outcome: TLSOldVersion, version: "TLS 1.0", verified: true, errHas: []string{"TLS 1.0", "TLS 1.2"}}},
		{"TLS 1.1 only", fault(lab, testnet.TLS11Only), TLSOptions{}, handshakeWant{outcome: TLSOldVersion, version: "TLS 1.1", verified: true}},
		{"alert: client certificate required", fault(lab, testnet.TLSAlert), TLSOptions{}, handshakeWant{outcome: TLSHandshakeFailed, errHas: []string{"alert"}}},
		{"reset after ClientHello", fault(lab, testnet.TLSReset), TLSOptions{}, handshakeWant{outcome: TLSHandshakeFailed, errHas: []string{"reset during the handshake"}}},
		{"plain-text answer", fault(lab, testnet.TLSGarbage), TLSOptions{}, handshakeWant{outcome: TLSHandshakeFailed, errHas: []string{"not TLS", "HTTP/"}}},
		{"never speaks", fault(lab, testnet.TLSNeverSpeaks), TLSOptions{}, handshakeWant{outcome: TLSTimeout, errHas: []string{"no complete handshake within"}}},
		{"slow server", fault(lab, testnet.TLSSlow), TLSOptions{}, handshakeWant{outcome: TLSTimeout}},
		{"dribbles a record a byte at a time", func(t *testing.T, ip string) netip.AddrPort {
			return testnet.TCPDribble(t, ip, []byte{0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3c, 0x03, 0x03}, 60*time.Millisecond)
		}, TLSOptions{}, handshakeWant{outcome: TLSTimeout}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.server(t, testnet.LoopbackIP(300+i))
			opt := tc.opt
			switch opt.ServerName {
			case "":
				opt.ServerName = lab.Host
			case "-":
				opt.ServerName = ""
			}
			if opt.Roots == nil {
				opt.Roots = lab.CA.Pool
			}
			budget := long
			if tc.want.outcome == TLSTimeout {
				budget = short
			}
			ctx, cancel := context.WithTimeout(context.Background(), budget)
			defer cancel()
			raw, tr := DialTCP(ctx, addr)
			if !tr.OK() {
				t.Fatalf("TCP step: %s", tr.Error)
			}
			defer raw.Close()
			tc2, res := HandshakeTLS(ctx, raw, opt)
			t.Logf("%s %s: %s", res.Outcome, res.Version, res.Error)
			tc.want.check(t, addr, budget, tc2, res)
		})
	}
}

// handshakeWant is what a row of TestHandshakeTLS expects of HandshakeTLS.
type handshakeWant struct {
	outcome     Outcome
	version     string
	verified    bool
	intercepted string   // InterceptedBy must contain this
	errHas      []string // the Error must contain each
}

// check holds HandshakeTLS's answer from addr, given budget, to the row's
// expectations and to what every answer must be.
func (want handshakeWant) check(t *testing.T, addr netip.AddrPort, budget time.Duration, tc2 *tls.Conn, res TLSResult) {
	t.Helper()
	if res.Outcome != want.outcome {
		t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Error, want.outcome)
	}
	if (tc2 != nil) != (res.Outcome == OK) {
		t.Errorf("tls.Conn %v with outcome %s: want a conn exactly when ok", tc2, res.Outcome)
	}
	if res.OK() != (res.Error == "") {
		t.Errorf("outcome %s with error %q", res.Outcome, res.Error)
	}
	if want.version != "" && res.Version != want.version {
		t.Errorf("version %q, want %q", res.Version, want.version)
	}
	if res.Verified != want.verified {
		t.Errorf("verified = %v, want %v", res.Verified, want.verified)
	}
	if !strings.Contains(res.InterceptedBy, want.intercepted) || (want.intercepted == "") != (res.InterceptedBy == "") {
		t.Errorf("InterceptedBy %q, want it to name %q", res.InterceptedBy, want.intercepted)
	}
	if !res.OK() && !strings.HasPrefix(res.Error, "tls "+addr.String()) {
		t.Errorf("error %q does not start with the hop and address %s", res.Error, addr)
	}
	for _, s := range want.errHas {
		if !strings.Contains(res.Error, s) {
			t.Errorf("error %q lacks %q", res.Error, s)
		}
	}
	// Every completed handshake reports the chain, failures included.
	if res.Version != "" && (len(res.Chain) == 0 || res.Chain[0].Subject == "" || res.Chain[0].NotAfter.IsZero()) {
		t.Errorf("handshake completed (%s) but chain = %+v", res.Version, res.Chain)
	}
	if res.Duration > budget+5*time.Second {
		t.Errorf("HandshakeTLS took %v with a %v budget", res.Duration, budget)
	}
}

func fault(lab *testnet.TLSLab, f testnet.TLSFault) func(*testing.T, string) netip.AddrPort {
	return func(t *testing.T, ip string) netip.AddrPort { return lab.Serve(t, ip, f) }
}

func cert(c tls.Certificate) func(*testing.T, string) netip.AddrPort {
	return func(t *testing.T, ip string) netip.AddrPort { return testnet.ServeCert(t, ip, c) }
}

// TestHandshakeTLSGoodDetails checks what a good handshake reports and that
// the returned conn carries data with its deadline cleared.
func TestHandshakeTLSGoodDetails(t *testing.T) {
	t.Parallel()
	lab := testnet.NewTLSLab(t)
	addr := lab.Serve(t, testnet.LoopbackIP(401), testnet.TLSGood)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, tr := DialTCP(ctx, addr)
	if !tr.OK() {
		t.Fatalf("TCP step: %s", tr.Error)
	}
	defer raw.Close()
	conn, res := HandshakeTLS(ctx, raw, TLSOptions{ServerName: lab.Host, Roots: lab.CA.Pool})
	if !res.OK() {
		t.Fatalf("handshake: %s", res.Error)
	}
	if res.Cipher == "" || res.Version != "TLS 1.3" {
		t.Errorf("version %q cipher %q", res.Version, res.Cipher)
	}
	if len(res.Chain) != 2 {
		t.Fatalf("chain has %d certificates, want leaf and CA: %+v", len(res.Chain), res.Chain)
	}
	leaf, ca := res.Chain[0], res.Chain[1]
	if leaf.Subject != "CN="+lab.Host || !strings.Contains(leaf.Issuer, "egressprobe test root") || ca.Subject != leaf.Issuer {
		t.Errorf("chain subjects/issuers wrong: %+v", res.Chain)
	}
	if strings.Join(leaf.SANs, ",") != lab.Host+",*.egress.test" {
		t.Errorf("leaf SANs %v", leaf.SANs)
	}
	if !leaf.NotBefore.Before(time.Now()) || !leaf.NotAfter.After(time.Now()) {
		t.Errorf("leaf validity %v–%v does not span now", leaf.NotBefore, leaf.NotAfter)
	}
	cancel() // the step is over: its context ending must not break the connection
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Errorf("write after handshake: %v", err)
	}
}

// TestHandshakeTLSCancel checks that cancelling the context interrupts a
// handshake long before its deadline.
func TestHandshakeTLSCancel(t *testing.T) {
	t.Parallel()
	addr := testnet.TCPSilent(t, testnet.LoopbackIP(402))
	raw, tr := DialTCP(context.Background(), addr)
	if !tr.OK() {
		t.Fatalf("TCP step: %s", tr.Error)
	}
	defer raw.Close()
	// A deadline far off, as the engine's per-probe budget is: the
	// cancellation, not the deadline, must end the handshake and be named.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	conn, res := HandshakeTLS(ctx, raw, TLSOptions{ServerName: "x.test"})
	if conn != nil || res.Outcome != Cancelled || !strings.Contains(res.Error, "cancelled") {
		t.Fatalf("cancelled handshake = %s (%s), conn %v; want %s saying cancelled", res.Outcome, res.Error, conn, Cancelled)
	}
}

// TestHandshakeTLSNilConn: a failed earlier step must not panic here.
func TestHandshakeTLSNilConn(t *testing.T) {
	t.Parallel()
	conn, res := HandshakeTLS(context.Background(), nil, TLSOptions{ServerName: "x.test"})
	if conn != nil || res.Outcome != TLSHandshakeFailed {
		t.Fatalf("nil conn: %s (%s)", res.Outcome, res.Error)
	}
}
