package servicetags

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"

	"github.com/gaissmai/bart"
)

// Match is one tag containing an address, with the tag's prefix that matched.
// Its JSON form is part of the `servicetags lookup -o json` contract. The
// tag's fields are shared by all its matches (m.Tag, m.Region, m.SystemService
// read through the pointer): half the size to build and copy.
type Match struct {
	*TagInfo
	Prefix netip.Prefix `json:"prefix"`
}

// TagInfo is what a Match says about its tag.
type TagInfo struct {
	Tag           string `json:"tag"`
	Region        string `json:"region"`
	SystemService string `json:"system_service"`
}

// Index is an immutable prefix table over one feed. It is safe for concurrent use.
//
// Many tags share a prefix and prefixes nest (AzureBackup.WestEurope inside
// AzureCloud.westeurope inside AzureCloud), so at build time every distinct
// prefix gets the full, ordered list of matches of itself and all its supernets.
// A lookup is then one longest-prefix match returning that precomputed list.
// The lists of a family live in one backing slice; the tables hold their
// bounds, so building allocates a few large slices, not one per prefix.
//
// The IPv4 prefixes are split in two tables at an address no prefix spans,
// so that the two tables and the IPv6 one are built by two goroutines in
// about equal shares.
type Index struct {
	feed   *Feed
	split4 uint64 // t4[1] holds the prefixes from this IPv4 address on; 1<<32 if none
	t4     [2]bart.Table[span]
	t6     bart.Table[span]
	m4     [2][]Match
	m6     []Match
}

// span is where a prefix's list lies in its family's backing slice.
type span struct{ off, end uint32 }

// NewIndex builds the index of a validated feed.
func NewIndex(f *Feed) *Index { return newIndex(f, planOf(f)) }

// plan is what building an index needs besides the feed: every (prefix, tag)
// pair per family, sorted by address, prefix length, then the tag's rank in
// name order (a prefix before those it contains, equal prefixes adjacent with
// their tags in name order), and the tags in name order. The compact form
// keeps it, so that an index built from the cache sorts nothing.
type plan struct {
	byRank []int32 // tag indexes in name order
	v4     []v4key
	v6     []v6pair
}

func planOf(f *Feed) *plan {
	byRank := make([]int32, len(f.Tags))
	for i := range byRank {
		byRank[i] = int32(i)
	}
	slices.SortFunc(byRank, func(a, b int32) int { return cmp.Compare(f.Tags[a].Name, f.Tags[b].Name) })
	rank := make([]int32, len(f.Tags))
	for r, i := range byRank {
		rank[i] = int32(r)
	}
	v4, v6 := collectPairs(f, rank)
	return &plan{byRank: byRank, v4: radixSort(v4, 8, v4digits), v6: radixSort(v6, 20, v6digits)}
}

// newIndex builds the index of f from its plan. The IPv4 and IPv6 tables are
// built concurrently: inserting into them is most of the cost.
func newIndex(f *Feed, pl *plan) *Index {
	infos := make([]TagInfo, len(pl.byRank)) // by rank
	for r, i := range pl.byRank {
		t := &f.Tags[i]
		infos[r] = TagInfo{Tag: t.Name, Region: t.Region, SystemService: t.SystemService}
	}
	s, split := splitV4(pl.v4, (len(pl.v4)+len(pl.v6))/2)
	ix := &Index{feed: f, split4: split}
	var wg sync.WaitGroup
	wg.Go(func() {
		ix.m6 = build(infos, &ix.t6, pl.v6)
		ix.m4[1] = build(infos, &ix.t4[1], pl.v4[s:])
	})
	ix.m4[0] = build(infos, &ix.t4[0], pl.v4[:s])
	wg.Wait()
	return ix
}

// splitV4 finds the first pair from index target on whose prefix no earlier
// prefix contains (nor, CIDR blocks being nested or disjoint, overlaps): the
// pairs before it and from it on are independent forests, covering the
// addresses below and from its address on. It returns len(v4) and 1<<32
// when there is none.
func splitV4(v4 []v4key, target int) (int, uint64) {
	var maxLast uint64 // the highest address covered by the prefixes before i, plus one
	for i, k := range v4 {
		first, bits := uint64(k>>32), uint(k>>24&0xff)
		if i >= target && i > 0 && first >= maxLast {
			return i, first
		}
		maxLast = max(maxLast, first+1<<(32-min(bits, 32)))
	}
	return len(v4), 1 << 32
}

// pair is a key of a plan's pairs.
type pair[K any] interface {
	prefix() netip.Prefix
	rank() uint32
	samePrefix(K) bool
}

// build fills table with the prefixes of pairs and returns the lists' backing slice.
func build[K pair[K]](infos []TagInfo, table *bart.Table[span], pairs []K) []Match {
	b := newBuilder(infos, table, len(pairs))
	for i := 0; i < len(pairs); {
		k := pairs[i]
		b.tags = b.tags[:0]
		for ; i < len(pairs) && pairs[i].samePrefix(k); i++ {
			b.tags = append(b.tags, pairs[i].rank())
		}
		b.add(k.prefix())
	}
	return b.ms
}

// builder fills one family's table and backing slice, prefixes in address
// order, each before the prefixes it contains.
type builder struct {
	infos []TagInfo
	table *bart.Table[span]
	ms    []Match
	tags  []uint32 // the ranks of the tags of the prefix being added
	// the chain of supernets of the prefix being added, outermost first: in
	// address order a prefix's nearest supernet is the innermost entry of the
	// chain that contains it, so no table lookup is needed to find it.
	chain []link
}

type link struct {
	p netip.Prefix
	s span
}

// newBuilder sizes the backing slice for pairs (prefix, tag) pairs: the lists
// repeat a prefix's supernets, about twice the pairs in Microsoft's feeds.
func newBuilder(infos []TagInfo, t *bart.Table[span], pairs int) builder {
	return builder{infos: infos, table: t, ms: make([]Match, 0, 2*pairs+16), chain: make([]link, 0, 16)}
}

// add inserts prefix p with the tags in b.tags, in name order.
func (b *builder) add(p netip.Prefix) {
	for len(b.chain) > 0 {
		if top := b.chain[len(b.chain)-1].p; top.Bits() < p.Bits() && top.Contains(p.Addr()) {
			break
		}
		b.chain = b.chain[:len(b.chain)-1]
	}
	s := span{off: uint32(len(b.ms))}
	for i, r := range b.tags {
		if i == 0 || r != b.tags[i-1] { // a tag listing the same prefix twice
			b.ms = append(b.ms, Match{TagInfo: &b.infos[r], Prefix: p})
		}
	}
	if len(b.chain) > 0 {
		ps := b.chain[len(b.chain)-1].s
		b.ms = append(b.ms, b.ms[ps.off:ps.end]...)
	}
	s.end = uint32(len(b.ms))
	b.chain = append(b.chain, link{p, s})
	b.table.Insert(p, s)
}

// rankMask selects a tag's rank in a pair key: v4 keys are
// address<<32 | bits<<24 | rank, v6 keys end in bits<<24 | rank.
const rankMask = 1<<24 - 1

type v4key uint64

type v6pair struct {
	hi, lo   uint64
	bitsRank uint32
}

func (k v4key) rank() uint32            { return uint32(k & rankMask) }
func (k v4key) samePrefix(o v4key) bool { return k&^rankMask == o&^rankMask }
func (p v6pair) rank() uint32           { return p.bitsRank & rankMask }
func (p v6pair) samePrefix(o v6pair) bool {
	return p.hi == o.hi && p.lo == o.lo && p.bitsRank>>24 == o.bitsRank>>24
}

func (k v4key) prefix() netip.Prefix {
	a := uint32(k >> 32)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), int(k>>24&0xff))
}

func (p v6pair) prefix() netip.Prefix {
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], p.hi)
	binary.BigEndian.PutUint64(a[8:], p.lo)
	return netip.PrefixFrom(netip.AddrFrom16(a), int(p.bitsRank>>24))
}

// digit d of a key, counting bytes from the least significant.
func (k v4key) digit(d int) uint8 { return uint8(k >> (8 * d)) }

func (p v6pair) digit(d int) uint8 {
	switch {
	case d < 4:
		return uint8(p.bitsRank >> (8 * d))
	case d < 12:
		return uint8(p.lo >> (8 * (d - 4)))
	default:
		return uint8(p.hi >> (8 * (d - 12)))
	}
}

// radixSort sorts s by keys of ndigits bytes (a least-significant-byte radix
// sort): several times faster than a comparison sort on the ~90,000 pairs of
// the Public feed. digits fills dig[i] with byte d of s[i]'s key: one call per
// pass, so that the per-key work is inlined, not a method call through a
// generic dictionary. A byte all keys share (the zero host bits of most IPv6
// prefixes, the high bytes of tag ranks) moves nothing. It returns the sorted
// slice, s or a new one.
func radixSort[T any](s []T, ndigits int, digits func(s []T, d int, dig []uint8)) []T {
	if len(s) < 2 {
		return s
	}
	tmp, dig := make([]T, len(s)), make([]uint8, len(s))
	for d := range ndigits {
		digits(s, d, dig)
		var pos [256]int32
		for _, b := range dig {
			pos[b]++
		}
		if pos[dig[0]] == int32(len(s)) {
			continue
		}
		var sum int32
		for i, c := range pos {
			pos[i] = sum
			sum += c
		}
		for i, k := range s {
			tmp[pos[dig[i]]] = k
			pos[dig[i]]++
		}
		s, tmp = tmp, s
	}
	return s
}

func v4digits(s []v4key, d int, dig []uint8) {
	for i, k := range s {
		dig[i] = k.digit(d)
	}
}

func v6digits(s []v6pair, d int, dig []uint8) {
	for i, k := range s {
		dig[i] = k.digit(d)
	}
}

// collectPairs lists every (prefix, tag) pair, per family, in keys that sort
// in the plan's order.
func collectPairs(f *Feed, rank []int32) (v4 []v4key, v6 []v6pair) {
	n6 := 0
	for i := range f.Tags {
		for _, p := range f.Tags[i].Prefixes {
			if !p.Addr().Is4() {
				n6++
			}
		}
	}
	v4, v6 = make([]v4key, 0, f.NumPrefixes()-n6), make([]v6pair, 0, n6)
	for i := range f.Tags {
		for _, p := range f.Tags[i].Prefixes {
			if k4, k6, is4 := pairOf(p, uint32(rank[i])); is4 {
				v4 = append(v4, k4)
			} else {
				v6 = append(v6, k6)
			}
		}
	}
	return v4, v6
}

// pairOf is the key of the pair (p, the tag of rank r), in its family.
func pairOf(p netip.Prefix, r uint32) (k4 v4key, k6 v6pair, is4 bool) {
	br := uint32(p.Bits())<<24 | r
	if p.Addr().Is4() {
		a := p.Addr().As4()
		return v4key(binary.BigEndian.Uint32(a[:]))<<32 | v4key(br), k6, true
	}
	a := p.Addr().As16()
	return 0, v6pair{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), br}, false
}

// Lookup returns every tag containing addr, longest prefix first (ties by tag
// name). The slice is shared by all callers: read it, never modify it (appending
// to it is safe, it has no spare capacity). It allocates nothing. IPv4-mapped
// IPv6 addresses are looked up as IPv4.
func (ix *Index) Lookup(addr netip.Addr) []Match {
	addr = addr.Unmap().WithZone("")
	t, ms := &ix.t6, ix.m6
	if addr.Is4() {
		i := 0
		if a := addr.As4(); uint64(binary.BigEndian.Uint32(a[:])) >= ix.split4 {
			i = 1
		}
		t, ms = &ix.t4[i], ix.m4[i]
	}
	s, ok := t.Lookup(addr)
	if !ok {
		return nil
	}
	return ms[s.off:s.end:s.end]
}

// Feed is the feed the index was built from.
func (ix *Index) Feed() *Feed { return ix.feed }

// Prefixes is the number of distinct prefixes in the index.
func (ix *Index) Prefixes() int { return ix.t4[0].Size() + ix.t4[1].Size() + ix.t6.Size() }
