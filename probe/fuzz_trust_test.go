package probe

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"egressprobe/internal/testnet"
)

// FuzzJudgeTrust feeds arbitrary answers to the trust path's judges, for
// each kind of URL: they must not panic, must answer within the outcomes
// of an answer, and must explain every failure naming the URL.
func FuzzJudgeTrust(f *testing.F) {
	pki := testnet.NewPKI(f)
	leaf := pki.Issuing.Leaf(f, nil, []net.IP{net.IPv4(127, 0, 0, 1)}, testnet.LeafOptions{}).Leaf
	for _, seed := range [][]byte{
		pki.Issuing.Cert.Raw, testnet.CertsOnly(f, pki.Root.Cert, pki.Issuing.Cert), pki.Issuing.PEM,
		ocsp.UnauthorizedErrorResponse, []byte("<html>blocked</html>"), {0x30, 0x03, 0x02, 0x01, 0x00}, nil,
	} {
		for kind := range 3 {
			f.Add(seed, kind)
		}
	}
	allowed := map[Outcome]bool{OK: true, HTTPBlockPage: true, OCSPBadResponse: true, CRLBadResponse: true, CRLExpired: true, AIABadResponse: true, Revoked: true}
	kinds := []string{TrustCAIssuers, TrustOCSP, TrustCRL}
	f.Fuzz(func(t *testing.T, body []byte, kind int) {
		k := kinds[(kind%3+3)%3]
		ref := trustRef{kind: k, url: "http://ca.example/x", cert: leaf, issuer: pki.Issuing.Cert}
		fetch := TrustFetch{URL: ref.url, Kind: k, HTTP: &HTTPResult{Step: Step{Outcome: OK}, StatusCode: 200, Content: body}}
		judgeTrust(&fetch, ref, "GET", time.Now())
		if !allowed[fetch.Outcome] {
			t.Fatalf("%s: outcome %q", k, fetch.Outcome)
		}
		if fetch.Outcome != OK && fetch.Outcome != Revoked && fetch.Error == "" {
			t.Fatalf("%s: %s without an error", k, fetch.Outcome)
		}
		if fetch.Error != "" && !strings.Contains(fetch.Error, ref.url) {
			t.Fatalf("%s: error %q does not name the URL", k, fetch.Error)
		}
	})
}
