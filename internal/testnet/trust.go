package testnet

import (
	"bufio"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// The paths a PKI serves, as a public CA's port-80 hosts do.
const (
	PathIssuerDER    = "/issuing.cer"       // the issuing CA's certificate, DER
	PathIssuerP7C    = "/issuing.p7c"       // the same as a PKCS#7 certs-only bundle
	PathWrongIssuer  = "/wrong.cer"         // a CA certificate that issued nothing here
	PathOCSP         = "/ocsp"              // a responder: good, or revoked for Revoke'd leaves
	PathOCSPUnauth   = "/ocsp-unauthorized" // answers the OCSP error status unauthorized
	PathOCSPPostOnly = "/ocsp-post"         // 405 to GET, answers POST
	PathCRL          = "/issuing.crl"       // current, signed by the issuing CA, lists Revoke'd leaves
	PathCRLExpired   = "/expired.crl"       // signed by the issuing CA, past its next update
	PathCRLForeign   = "/foreign.crl"       // names the issuing CA but is signed by another key
	PathBlockPage    = "/blocked.crl"       // 200 with an HTML page: a web filter's
	BlockPageBody    = "<html><title>Access denied</title>Blocked by Contoso web filter</html>"
)

// PKI is a test root and an issuing CA under it whose leaves name URLs on one
// loopback HTTP server (Base): the issuer's certificate, OCSP responders and
// CRLs, good and faulty (the Path* constants).
type PKI struct {
	Root, Issuing *CA
	Base          string // "http://127.0.0.1:PORT"
	Addr          netip.AddrPort

	impostor *CA // same subject as Issuing, another key
	mu       sync.Mutex
	revoked  map[string]time.Time // serial → revocation time
	hits     map[string]int       // path → requests
	agents   map[string]bool      // User-Agents seen
}

// NewPKI mints the CAs and serves their URLs on 127.0.0.1 until the test ends.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	root := NewCA(t, "egressprobe test trust root")
	subject := pkix.Name{CommonName: "egressprobe test issuing CA", Organization: []string{"egressprobe tests"}}
	p := &PKI{
		Root: root, Issuing: root.Intermediate(t, subject), impostor: NewCAWithSubject(t, subject),
		revoked: map[string]time.Time{}, hits: map[string]int{}, agents: map[string]bool{},
	}
	p.Addr = ServeHTTP(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(t, w, r) }), nil)
	p.Base = "http://" + p.Addr.String()
	return p
}

// URL is the server's URL for path.
func (p *PKI) URL(path string) string { return p.Base + path }

// Revoke puts the leaf of cert on the CRL and makes the responder say revoked.
func (p *PKI) Revoke(leaf *x509.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked[leaf.SerialNumber.String()] = time.Now().Add(-time.Minute).Truncate(time.Second)
}

// Hits is how many requests path got.
func (p *PKI) Hits(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// UserAgents are the User-Agent headers the server saw.
func (p *PKI) UserAgents() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for a := range p.agents {
		out = append(out, a)
	}
	return out
}

func (p *PKI) serve(t testing.TB, w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, PathOCSP+"/") {
		path = PathOCSP // GET with the request in the path
	}
	p.mu.Lock()
	p.hits[path]++
	p.agents[r.UserAgent()] = true
	p.mu.Unlock()
	der := func(b []byte, ct string) {
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(b)
	}
	switch path {
	case PathIssuerDER:
		der(p.Issuing.Cert.Raw, "application/pkix-cert")
	case PathIssuerP7C:
		der(CertsOnly(t, p.Issuing.Cert), "application/pkcs7-mime")
	case PathWrongIssuer:
		der(p.impostor.Cert.Raw, "application/pkix-cert")
	case PathOCSP, PathOCSPPostOnly:
		if path == PathOCSPPostOnly && r.Method != http.MethodPost {
			http.Error(w, "GET not allowed", http.StatusMethodNotAllowed)
			return
		}
		der(p.ocspAnswer(t, r), "application/ocsp-response")
	case PathOCSPUnauth:
		der(ocsp.UnauthorizedErrorResponse, "application/ocsp-response")
	case PathCRL:
		der(p.crl(t, p.Issuing, time.Hour), "application/pkix-crl")
	case PathCRLExpired:
		der(p.crl(t, p.Issuing, -time.Hour), "application/pkix-crl")
	case PathCRLForeign:
		der(p.crl(t, p.impostor, time.Hour), "application/pkix-crl")
	case PathBlockPage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, BlockPageBody)
	default:
		http.NotFound(w, r)
	}
}

// ocspAnswer answers the OCSP request in r (GET: base64 in the path; POST:
// the body) for the issuing CA's leaves.
func (p *PKI) ocspAnswer(t testing.TB, r *http.Request) []byte {
	var raw []byte
	if r.Method == http.MethodPost {
		raw, _ = io.ReadAll(io.LimitReader(r.Body, 1<<16))
	} else {
		enc, _ := url.QueryUnescape(strings.TrimPrefix(r.URL.EscapedPath(), PathOCSP+"/"))
		raw, _ = base64.StdEncoding.DecodeString(enc)
	}
	req, err := ocsp.ParseRequest(raw)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse
	}
	p.mu.Lock()
	at, revoked := p.revoked[req.SerialNumber.String()]
	p.mu.Unlock()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	if revoked {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at, ocsp.KeyCompromise
	}
	b, err := ocsp.CreateResponse(p.Issuing.Cert, p.Issuing.Cert, tmpl, p.Issuing.Key)
	if err != nil {
		t.Errorf("testnet: OCSP response: %v", err)
	}
	return b
}

// crl is a CRL from ca listing the revoked leaves, whose next update is
// nextIn from now (negative: past).
func (p *PKI) crl(t testing.TB, ca *CA, nextIn time.Duration) []byte {
	p.mu.Lock()
	var entries []x509.RevocationListEntry
	for s, at := range p.revoked {
		n, _ := new(big.Int).SetString(s, 10)
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: at})
	}
	p.mu.Unlock()
	now := time.Now()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-2 * time.Hour), NextUpdate: now.Add(nextIn), RevokedCertificateEntries: entries}
	b, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Errorf("testnet: CRL: %v", err)
	}
	return b
}

// CertsOnly encodes certs as a PKCS#7 "certs-only" bundle (RFC 2315
// signedData without content or signers), as CAs serve .p7c files.
func CertsOnly(t testing.TB, certs ...*x509.Certificate) []byte {
	t.Helper()
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	type contentInfo struct {
		ContentType asn1.ObjectIdentifier
	}
	sd := struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      contentInfo
		Certificates     asn1.RawValue
		SignerInfos      asn1.RawValue
	}{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
		ContentInfo:      contentInfo{ContentType: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: raw},
		SignerInfos:      asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatalf("testnet: PKCS#7 signedData: %v", err)
	}
	out, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	if err != nil {
		t.Fatalf("testnet: PKCS#7 contentInfo: %v", err)
	}
	return out
}

// PortProxy is an in-process proxy on 127.0.0.1 that tunnels CONNECT (to
// loopback only) and forwards absolute-form plain-HTTP requests (to loopback
// only), as a corporate proxy does for port 443 and port 80; with
// Deny80Auth it answers 407 to every plain-HTTP request while CONNECT works:
// a proxy that demands credentials for port 80 only.
type PortProxy struct {
	URL *url.URL
	mu  sync.Mutex
	got []string // "CONNECT host:port" or "GET http://..."
}

// StartPortProxy runs a PortProxy until the test ends.
func StartPortProxy(t testing.TB, deny80Auth bool) *PortProxy {
	t.Helper()
	p := &PortProxy{}
	addr := serveConns(t, "127.0.0.1", func(c net.Conn) { p.handle(c, deny80Auth) })
	p.URL = &url.URL{Scheme: "http", Host: addr.String()}
	return p
}

// Requests are the request lines the proxy got.
func (p *PortProxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

func (p *PortProxy) handle(c net.Conn, deny80Auth bool) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.got = append(p.got, req.Method+" "+req.RequestURI)
	p.mu.Unlock()
	host := req.Host
	if req.Method != http.MethodConnect {
		host = req.URL.Host
	}
	if !loopbackHost(host) {
		_, _ = io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if req.Method == http.MethodConnect {
		up, err := net.DialTimeout("tcp", host, 5*time.Second)
		if err != nil {
			_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
			return
		}
		defer up.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, br) }()
		_, _ = io.Copy(c, up)
		return
	}
	if deny80Auth {
		_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"testnet\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	req.RequestURI = ""
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer resp.Body.Close()
	resp.Close = true
	_ = resp.Write(c)
}

func loopbackHost(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}
