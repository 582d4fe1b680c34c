package probe

import (
	"crypto/x509"
	"reflect"
	"testing"

	"egressprobe/internal/testnet"
)

func parseChain(t *testing.T, ders [][]byte) []*x509.Certificate {
	t.Helper()
	out := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

// A chain presented again (parsed again, as each handshake does) gets the
// summary of the first time, shared, not a copy per result; another chain,
// or the same leaf with another intermediate, gets its own.
func TestChainSummariesShared(t *testing.T) {
	ca := testnet.NewCA(t, "egressprobe chain cache test root")
	leaf := ca.Leaf(t, []string{"a.example"}, nil, testnet.LeafOptions{})
	other := ca.Leaf(t, []string{"b.example"}, nil, testnet.LeafOptions{})
	c := chainCache{m: map[[32]byte][]Cert{}}

	first := c.of(parseChain(t, leaf.Certificate))
	again := c.of(parseChain(t, leaf.Certificate))
	if !reflect.DeepEqual(first, chainOf(parseChain(t, leaf.Certificate))) {
		t.Fatalf("summary %+v, want chainOf's", first)
	}
	if &again[0] != &first[0] {
		t.Error("the same chain presented twice: two summaries, want one shared")
	}
	for name, ders := range map[string][][]byte{
		"another leaf":      other.Certificate,
		"the leaf alone":    leaf.Certificate[:1],
		"leaf and the leaf": {leaf.Certificate[0], leaf.Certificate[0]},
	} {
		s := c.of(parseChain(t, ders))
		if &s[0] == &first[0] || len(s) != len(ders) || s[0].SANs[0] != firstSAN(t, ders) {
			t.Errorf("%s: got the first chain's summary or a wrong one: %+v", name, s)
		}
	}
}

func firstSAN(t *testing.T, ders [][]byte) string { return parseChain(t, ders[:1])[0].DNSNames[0] }

// The cache is bounded: when full it starts over, never growing past
// maxChainSummaries however many chains a long-running daemon sees.
func TestChainSummariesBounded(t *testing.T) {
	ca := testnet.NewCA(t, "egressprobe chain cache test root")
	c := chainCache{m: map[[32]byte][]Cert{}}
	leaf := parseChain(t, ca.Leaf(t, []string{"a.example"}, nil, testnet.LeafOptions{}).Certificate)
	for i := range maxChainSummaries + 10 {
		leaf[0].Raw = append(leaf[0].Raw[:len(leaf[0].Raw):len(leaf[0].Raw)], byte(i), byte(i>>8)) // a distinct chain each time
		c.of(leaf)
		if len(c.m) > maxChainSummaries {
			t.Fatalf("after %d chains the cache holds %d, want at most %d", i+1, len(c.m), maxChainSummaries)
		}
	}
}
