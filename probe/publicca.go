package probe

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"slices"
)

// The public CAs Microsoft's endpoints chain to, matched by subject common
// name and organisation. Source: "Azure Certificate Authority details",
// https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details
// (root and subordinate CA tables, checked 2026-11). A name match is enough
// here: the question is "did an inspection CA installed on this machine sign
// this?", and such CAs carry their owner's name, not DigiCert's.

// publicRoot reports whether a root's subject is one of the public roots.
func publicRoot(n pkix.Name) bool {
	switch n.CommonName {
	case "DigiCert Global Root CA", "DigiCert Global Root G2", "DigiCert Global Root G3",
		"DigiCert TLS ECC P384 Root G5", "DigiCert TLS RSA4096 Root G5", "DigiCert TLS RSA 4096 Root G5":
		return slices.Contains(n.Organization, "DigiCert Inc")
	case "Microsoft RSA Root Certificate Authority 2017", "Microsoft ECC Root Certificate Authority 2017":
		return slices.Contains(n.Organization, "Microsoft Corporation")
	case "Baltimore CyberTrust Root": // retired 2025, still in older chains
		return slices.Contains(n.Organization, "Baltimore")
	case "Entrust Root Certification Authority - G2": // some government clouds
		return slices.Contains(n.Organization, "Entrust, Inc.")
	}
	return false
}

// publicIssuer reports whether an issuing CA belongs to one of the public CA
// operators ("Microsoft Azure RSA TLS Issuing CA 03", "DigiCert Global G2 TLS
// RSA SHA256 2020 CA1", ...): used to tell an incomplete public chain from an
// inspection CA when the chain does not verify.
func publicIssuer(n pkix.Name) bool {
	return slices.Contains(n.Organization, "Microsoft Corporation") ||
		slices.Contains(n.Organization, "DigiCert Inc") ||
		slices.Contains(n.Organization, "DigiCert, Inc.")
}

// anyPublicChain reports whether some verified chain ends at a public root.
func anyPublicChain(chains [][]*x509.Certificate) bool {
	for _, ch := range chains {
		if publicRoot(ch[len(ch)-1].Subject) {
			return true
		}
	}
	return false
}
