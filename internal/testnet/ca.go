// Package testnet holds loopback fault servers for tests: DNS, TCP, TLS and
// CONNECT proxies that fail in exactly one way each. It is imported only by
// _test.go files; every server listens on 127.0.0.0/8 or ::1 and stops with
// t.Cleanup.
package testnet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"egressprobe/internal/testenv"
)

// CA is a throwaway certificate authority for tests.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	Pool *x509.CertPool // trusts only this CA
	PEM  []byte
}

var serial atomic.Int64

// NewCA creates a CA whose subject common name is cn (e.g. "egressprobe test root"
// or "Contoso Inspection CA").
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	return NewCAWithSubject(t, pkix.Name{CommonName: cn, Organization: []string{"egressprobe tests"}})
}

// NewCAWithSubject creates a self-signed root CA with the given subject, for
// tests that need a CA that looks like a particular public one.
func NewCAWithSubject(t testing.TB, subject pkix.Name) *CA {
	t.Helper()
	cert, key := mint(t, caTemplate(subject), nil, nil)
	return newCA(cert, key)
}

// Intermediate creates a CA with the given subject signed by ca, as public
// issuing CAs are; its leaves carry it as the second certificate of the chain.
func (ca *CA) Intermediate(t testing.TB, subject pkix.Name) *CA {
	t.Helper()
	cert, key := mint(t, caTemplate(subject), ca.Cert, ca.Key)
	return newCA(cert, key)
}

func newCA(cert *x509.Certificate, key *ecdsa.PrivateKey) *CA {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, Pool: pool, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}
}

func caTemplate(subject pkix.Name) *x509.Certificate {
	return &x509.Certificate{
		Subject:               subject,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

// mint creates a fresh P-256 key and a certificate for it from tmpl, signed by
// parent/parentKey, or by itself when parent is nil.
func mint(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testnet: key for %q: %v", tmpl.Subject.CommonName, err)
	}
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("testnet: certificate for %q: %v", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testnet: parse certificate for %q: %v", tmpl.Subject.CommonName, err)
	}
	return cert, key
}

// LeafOptions shape a leaf certificate; the zero value is valid for an hour
// around now.
type LeafOptions struct {
	NotBefore, NotAfter time.Time
	// The URLs the leaf names, as a public CA's leaves do: its issuer's
	// certificate and OCSP responder (Authority Information Access), and its
	// CRL distribution points.
	CAIssuers, OCSP, CRL []string
}

// Leaf mints a server certificate for the given DNS names and IPs; the chain
// it returns is the leaf then ca's certificate.
func (ca *CA) Leaf(t testing.TB, names []string, ips []net.IP, opt LeafOptions) tls.Certificate {
	t.Helper()
	leaf, key := mint(t, leafTemplate(names, ips, opt), ca.Cert, ca.Key)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// SelfSigned mints a certificate for names that signs itself: its issuer is
// its own subject, it is signed by its own key, and the chain is just itself.
func SelfSigned(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	leaf, key := mint(t, leafTemplate(names, nil, LeafOptions{}), nil, nil)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

func leafTemplate(names []string, ips []net.IP, opt LeafOptions) *x509.Certificate {
	nb, na := opt.NotBefore, opt.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(time.Hour)
	}
	cn := "leaf"
	if len(names) > 0 {
		cn = names[0]
	}
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		NotBefore:   nb,
		NotAfter:    na,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    names,
		IPAddresses: ips,

		IssuingCertificateURL: opt.CAIssuers,
		OCSPServer:            opt.OCSP,
		CRLDistributionPoints: opt.CRL,
	}
}

// WritePEM writes the CA certificate to a file in t.TempDir (for --ca-file).
func (ca *CA) WritePEM(t testing.TB) string {
	t.Helper()
	p := filepath.Join(testenv.TempDir(t), "ca.pem")
	if err := os.WriteFile(p, ca.PEM, 0o600); err != nil {
		t.Fatalf("testnet: write CA: %v", err)
	}
	return p
}
