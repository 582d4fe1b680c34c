package probe

import (
	"crypto/x509/pkix"
	"testing"
)

// TestPublicCATables pins the name matching: common name and organisation
// must both match, so an inspection CA that only borrows a public CA's common
// name is not taken for it.
func TestPublicCATables(t *testing.T) {
	t.Parallel()
	name := func(cn, o string) pkix.Name { return pkix.Name{CommonName: cn, Organization: []string{o}} }
	roots := []struct {
		n    pkix.Name
		want bool
	}{
		{name("DigiCert Global Root G2", "DigiCert Inc"), true},
		{name("DigiCert Global Root G3", "DigiCert Inc"), true},
		{name("DigiCert Global Root CA", "DigiCert Inc"), true},
		{name("Microsoft RSA Root Certificate Authority 2017", "Microsoft Corporation"), true},
		{name("Microsoft ECC Root Certificate Authority 2017", "Microsoft Corporation"), true},
		{name("Baltimore CyberTrust Root", "Baltimore"), true},
		{name("DigiCert Global Root G2", "Contoso Ltd"), false},
		{name("Contoso Inspection CA", "Contoso Ltd"), false},
		{name("Microsoft Azure RSA TLS Issuing CA 03", "Microsoft Corporation"), false}, // an issuing CA, not a root
		{pkix.Name{}, false},
	}
	for _, tc := range roots {
		if got := publicRoot(tc.n); got != tc.want {
			t.Errorf("publicRoot(%s) = %v, want %v", tc.n, got, tc.want)
		}
	}
	issuers := []struct {
		n    pkix.Name
		want bool
	}{
		{name("Microsoft Azure RSA TLS Issuing CA 03", "Microsoft Corporation"), true},
		{name("Microsoft Azure ECC TLS Issuing CA 07", "Microsoft Corporation"), true},
		{name("DigiCert Global G2 TLS RSA SHA256 2020 CA1", "DigiCert Inc"), true},
		{name("Contoso Inspection CA", "Contoso Ltd"), false},
		{name("Microsoft Azure RSA TLS Issuing CA 03", "Contoso Ltd"), false},
	}
	for _, tc := range issuers {
		if got := publicIssuer(tc.n); got != tc.want {
			t.Errorf("publicIssuer(%s) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
