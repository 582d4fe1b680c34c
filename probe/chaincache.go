package probe

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
)

// chainSummaries hands out one summary ([]Cert) per distinct presented chain:
// thousands of probes of one service, or through one inspecting middlebox,
// are shown the same few chains, and each result keeps its chain until the
// report is written. The summaries are shared: read them, never write them.
var chainSummaries = chainCache{m: map[[sha256.Size]byte][]Cert{}}

// maxChainSummaries bounds the cache for a daemon's days of runs: far above
// the chains of one run (a catalog has a few dozen endpoints), and when full
// it starts over rather than keeping old chains.
const maxChainSummaries = 1024

type chainCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte][]Cert
}

// of is chainOf(certs), shared with every earlier chain of the same
// certificates.
func (c *chainCache) of(certs []*x509.Certificate) []Cert {
	h := sha256.New()
	var n [4]byte
	for _, cert := range certs {
		binary.BigEndian.PutUint32(n[:], uint32(len(cert.Raw))) // no two chains hash the same bytes
		h.Write(n[:])
		h.Write(cert.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[key]; ok {
		return s
	}
	if len(c.m) >= maxChainSummaries {
		clear(c.m)
	}
	s := chainOf(certs)
	c.m[key] = s
	return s
}
