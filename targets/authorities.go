package targets

// FamilyAuthorities is the family of the hosts Windows fetches certificate
// chains' files and answers from, on plain HTTP: it is a list of hosts, not
// a zone, so no user host falls under it by name.
const FamilyAuthorities = "certificate authorities (HTTP 80)"

// Roles of the certificate authorities' hosts.
const (
	RoleCAIssuers = "ca-issuers" // intermediates and roots (Authority Information Access)
	RoleCRL       = "crl"        // certificate revocation lists
	RoleOCSP      = "ocsp"       // revocation responders
	RoleRootList  = "root-list"  // Windows' list of trusted roots
)

// What an http endpoint's answer must carry (Endpoint.Expect).
const (
	ExpectDER    = "der"    // a certificate or CRL file: a 200 whose body is DER
	ExpectAnswer = "answer" // any answer of the server's own: no block page, no proxy's page
	ExpectCab    = "cab"    // a Microsoft cabinet of a plausible size (authrootstl.cab)
)

// Where the certificate authorities' hosts come from (checked 2026-12-03).
const (
	// "Azure Certificate Authority details", section "Certificate
	// downloads and revocation lists": the hosts to allow on port 80, one
	// list for every cloud ("the scope includes government and national
	// clouds") — AIA: cacerts.digicert.com, cacerts.digicert.cn,
	// cacerts.geotrust.com, caissuers.microsoft.com, www.microsoft.com; CRL:
	// crl3.digicert.com, crl4.digicert.com, crl.digicert.cn,
	// www.microsoft.com; OCSP: ocsp.digicert.com, ocsp.digicert.cn,
	// oneocsp.microsoft.com. The docs.azure.cn edition lists the same.
	docCA = "https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details"
	// Which of them each cloud's chains name: "Certificate authorities used
	// by Azure Active Directory", edition of 2020-10-10 (the address now
	// serves the page above), split them by cloud. Public
	// and US Gov: DigiCert Global Root G2 (cacerts/crl3.digicert.com) and
	// its issuing CAs at www.microsoft.com/pkiops and ocsp.digicert.com;
	// China (21Vianet): DigiCert Basic RSA CN CA G2 (cacerts, crl and
	// ocsp.digicert.cn) under DigiCert Global Root CA, whose own revocation
	// is at crl3.digicert.com and ocsp.digicert.com.
	docCAByCloud = "https://docs.microsoft.com/azure/active-directory/fundamentals/certificate-authorities"
	// "Configure Trusted Roots and Disallowed Certificates": Windows
	// downloads its root list from
	// http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab.
	docCTL = "https://learn.microsoft.com/windows-server/identity/ad-cs/configure-trusted-roots-disallowed-certificates"
)

// authority is one host of the family and what is fetched from it: a file
// Windows really fetches (a root or an issuing CA, a CRL, the root list), or
// for an OCSP responder its base URL, which proves the path without a request.
type authority struct {
	host, path, role, expect, doc string
}

// The CA-issuers and CRL paths are files the sources name: DigiCert Global
// Root G2 (the root of Azure's public and US Gov chains) and its CRL on both
// DigiCert CRL hosts, GeoTrust TLS RSA CA G1 under it, and China's DigiCert
// Basic RSA CN CA G2 and the CRL of its root. Microsoft's hosts get real
// certificate files too, judged as DER, because their "/" is a web site (an
// HTML 200 there would read as a block page): on www.microsoft.com the
// Microsoft RSA Root Certificate Authority 2017 the CA details page links,
// on caissuers.microsoft.com the cross-signed Microsoft TLS RSA Root G2
// (that URL is observed in public install scripts, not on a Microsoft page).
var (
	ctl = authority{"ctldl.windowsupdate.com", "/msdownload/update/v3/static/trustedr/en/authrootstl.cab", RoleRootList, ExpectCab, docCTL}

	globalAuthorities = []authority{
		{"cacerts.digicert.com", "/DigiCertGlobalRootG2.crt", RoleCAIssuers, ExpectDER, docCA},
		{"cacerts.geotrust.com", "/GeoTrustTLSRSACAG1.crt", RoleCAIssuers, ExpectDER, docCA},
		{"caissuers.microsoft.com", "/pkiops/certs/Microsoft%20TLS%20RSA%20Root%20G2%20-%20xsign.crt", RoleCAIssuers, ExpectDER, docCA},
		{"www.microsoft.com", "/pkiops/certs/Microsoft%20RSA%20Root%20Certificate%20Authority%202017.crt", RoleCAIssuers, ExpectDER, docCA},
		ctl,
		{"crl3.digicert.com", "/DigiCertGlobalRootG2.crl", RoleCRL, ExpectDER, docCA},
		{"crl4.digicert.com", "/DigiCertGlobalRootG2.crl", RoleCRL, ExpectDER, docCA},
		{"ocsp.digicert.com", "/", RoleOCSP, ExpectAnswer, docCA},
		{"oneocsp.microsoft.com", "/ocsp", RoleOCSP, ExpectAnswer, docCA},
	}

	chinaAuthorities = []authority{
		{"cacerts.digicert.cn", "/DigiCertBasicRSACNCAG2.crt", RoleCAIssuers, ExpectDER, docCA},
		ctl,
		{"crl.digicert.cn", "/DigiCertBasicRSACNCAG2.crl", RoleCRL, ExpectDER, docCA},
		{"crl3.digicert.com", "/DigiCertGlobalRootCA.crl", RoleCRL, ExpectDER, docCAByCloud},
		{"ocsp.digicert.cn", "/", RoleOCSP, ExpectAnswer, docCA},
		{"ocsp.digicert.com", "/", RoleOCSP, ExpectAnswer, docCAByCloud},
	}
)

// authoritiesFamily is the family entry of a cloud whose catalog has them.
var authoritiesFamily = Family{Pattern: FamilyAuthorities, Doc: docCA}

// authorityEndpoints are cloud's certificate authorities' hosts: plain HTTP
// on port 80, as Windows fetches them, judged by what they answer. They sit
// on CDNs: no service tag to expect.
func authorityEndpoints(cloud string, as []authority) []Endpoint {
	out := make([]Endpoint, 0, len(as))
	for _, a := range as {
		out = append(out, Endpoint{Host: a.host, Port: 80, Scheme: SchemeHTTP, Path: a.path, Family: FamilyAuthorities,
			Cloud: cloud, Role: a.role, ExpectedTags: []string{}, Expect: a.expect, JudgeByName: true,
			Source: SourceCatalog, Doc: a.doc, Evidence: EvidenceDocumented})
	}
	return out
}

// Revocation reports whether a role's hosts only check revocation: Windows
// goes on when it cannot reach them (CryptoAPI treats the server as offline),
// so their failures warn rather than fail.
func Revocation(role string) bool { return role == RoleCRL || role == RoleOCSP }
