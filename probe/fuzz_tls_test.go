package probe

import (
	"crypto/x509"
	"net"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// FuzzJudgeChain feeds arbitrary certificates (whatever x509 accepts) and
// names to the chain judge: it must not panic, must answer within the TLS
// certificate outcomes, and must explain every failure.
func FuzzJudgeChain(f *testing.F) {
	lab := testnet.NewTLSLab(f)
	hour := time.Hour
	seeds := [][]byte{
		lab.CA.Leaf(f, []string{lab.Host}, nil, testnet.LeafOptions{}).Certificate[0],
		lab.CA.Leaf(f, []string{lab.Host}, nil, testnet.LeafOptions{NotAfter: time.Now().Add(-hour), NotBefore: time.Now().Add(-2 * hour)}).Certificate[0],
		lab.CA.Leaf(f, nil, []net.IP{net.IPv4(127, 0, 0, 1)}, testnet.LeafOptions{}).Certificate[0],
		lab.Inspection.Leaf(f, []string{lab.Host}, nil, testnet.LeafOptions{}).Certificate[0],
		testnet.SelfSigned(f, lab.Host).Certificate[0],
		lab.CA.Cert.Raw,
	}
	for _, der := range seeds {
		f.Add(der, lab.Host, true)
		f.Add(der, "127.0.0.1", false)
	}
	allowed := map[Outcome]bool{OK: true, TLSExpired: true, TLSHostnameMismatch: true, TLSIntercepted: true, TLSUntrusted: true}
	f.Fuzz(func(t *testing.T, der []byte, host string, expectPublic bool) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		certs := []*x509.Certificate{c}
		_ = chainOf(certs)
		v := judgeChain(certs, host, TLSOptions{Roots: lab.CA.Pool, ExpectPublicIssuer: expectPublic}, time.Now())
		if !allowed[v.outcome] {
			t.Fatalf("judgeChain gave outcome %q", v.outcome)
		}
		if (v.outcome == OK) != (v.reason == "") {
			t.Errorf("outcome %s with reason %q", v.outcome, v.reason)
		}
		if (v.outcome == TLSIntercepted) != (v.interceptedBy != "") {
			t.Errorf("outcome %s with InterceptedBy %q", v.outcome, v.interceptedBy)
		}
		if v.outcome == OK && !v.verified {
			t.Errorf("ok without a verified chain")
		}
	})
}
