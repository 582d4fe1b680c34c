package servicetags

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
)

// The compact form of a validated feed, kept next to the cached JSON so that a
// repeated run does not parse JSON. It holds the index's plan: the feed's
// (prefix, tag) pairs already sorted, each tag's prefixes being references to
// them, so that building the index from it sorts nothing. It is keyed by the
// JSON's size and checksums: a form that does not match the JSON beside it is
// ignored and rebuilt.
//
//	magic "EPST" | version byte | json size uvarint | json crc32c [4] | json crc32 [4] |
//	changeNumber varint | cloud str | ntags uvarint | tags... |
//	byRank: ntags uvarint tag indexes, in name order |
//	n4 uvarint | n4 IPv4 pair keys [8] | n6 uvarint | n6 IPv6 pair keys [20] |
//	per tag, per prefix: uvarint index of its pair (IPv4 pairs first) | crc32c of all before [4]
//	tag: name str | id str | region str | platform str | systemService str |
//	     changeNumber varint | regionId varint | nfeatures uvarint | features str... | nprefixes uvarint
//	IPv4 key: address<<32 | bits<<24 | rank, big-endian; IPv6 key: address [16] | bits<<24 | rank [4]
//	str: uvarint length, bytes
const (
	binMagic   = "EPST"
	binVersion = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errStale means the compact form does not belong to the JSON beside it.
var errStale = errors.New("compact form does not match the JSON file")

// jsonKey identifies the JSON a compact form was made from. The checksums
// catch a replaced or edited file, not an adversary (who could as well write
// the compact form), and are an order of magnitude cheaper than a SHA-256 of
// the ~4 MB Public file.
type jsonKey struct {
	size        uint64
	crcC, crcIE uint32
}

func keyOf(jsonData []byte) jsonKey {
	return jsonKey{uint64(len(jsonData)), crc32.Checksum(jsonData, castagnoli), crc32.ChecksumIEEE(jsonData)}
}

// encodeBinary writes the compact form of f, made from the JSON with key k.
func encodeBinary(f *Feed, k jsonKey) []byte { return encodePlanned(f, planOf(f), k) }

// encodePlanned is encodeBinary with f's plan already made.
func encodePlanned(f *Feed, pl *plan, k jsonKey) []byte {
	b := make([]byte, 0, 64+len(pl.v4)*11+len(pl.v6)*23+len(f.Tags)*100)
	b = append(b, binMagic...)
	b = append(b, binVersion)
	b = binary.AppendUvarint(b, k.size)
	b = binary.BigEndian.AppendUint32(b, k.crcC)
	b = binary.BigEndian.AppendUint32(b, k.crcIE)
	b = binary.AppendVarint(b, f.ChangeNumber)
	b = appendStr(b, f.Cloud)
	b = binary.AppendUvarint(b, uint64(len(f.Tags)))
	for i := range f.Tags {
		t := &f.Tags[i]
		for _, s := range []string{t.Name, t.ID, t.Region, t.Platform, t.SystemService} {
			b = appendStr(b, s)
		}
		b = binary.AppendVarint(b, t.ChangeNumber)
		b = binary.AppendVarint(b, t.RegionID)
		b = binary.AppendUvarint(b, uint64(len(t.NetworkFeatures)))
		for _, s := range t.NetworkFeatures {
			b = appendStr(b, s)
		}
		b = binary.AppendUvarint(b, uint64(len(t.Prefixes)))
	}
	for _, i := range pl.byRank {
		b = binary.AppendUvarint(b, uint64(i))
	}
	b = binary.AppendUvarint(b, uint64(len(pl.v4)))
	for _, k := range pl.v4 {
		b = binary.BigEndian.AppendUint64(b, uint64(k))
	}
	b = binary.AppendUvarint(b, uint64(len(pl.v6)))
	for _, k := range pl.v6 {
		b = binary.BigEndian.AppendUint64(b, k.hi)
		b = binary.BigEndian.AppendUint64(b, k.lo)
		b = binary.BigEndian.AppendUint32(b, k.bitsRank)
	}
	// Each prefix refers to its pair. Equal pairs (a tag listing a prefix
	// twice) are adjacent in the plan: each use takes the next of them.
	next4 := make(map[v4key]int, len(pl.v4))
	for i := len(pl.v4) - 1; i >= 0; i-- {
		next4[pl.v4[i]] = i
	}
	next6 := make(map[v6pair]int, len(pl.v6))
	for i := len(pl.v6) - 1; i >= 0; i-- {
		next6[pl.v6[i]] = i
	}
	rank := make([]uint32, len(f.Tags))
	for r, i := range pl.byRank {
		rank[i] = uint32(r)
	}
	for i := range f.Tags {
		for _, p := range f.Tags[i].Prefixes {
			var ref int
			if k4, k6, is4 := pairOf(p, rank[i]); is4 {
				ref = next4[k4]
				next4[k4]++
			} else {
				ref = len(pl.v4) + next6[k6]
				next6[k6]++
			}
			b = binary.AppendUvarint(b, uint64(ref))
		}
	}
	return seal(b)
}

// seal appends the checksum of b.
func seal(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeBinary reads a compact form made from the JSON with key want: the feed
// and its plan. It fails with errStale when the form belongs to other JSON,
// and with a description of the damage when it is corrupt; the caller then
// falls back to the JSON. Whatever the bytes, a feed and plan it returns agree
// and are valid: the index built from them cannot fail.
func decodeBinary(data []byte, want jsonKey) (*Feed, *plan, error) {
	if len(data) < len(binMagic)+1+4 || string(data[:len(binMagic)]) != binMagic || data[len(binMagic)] != binVersion {
		return nil, nil, errStale
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(data[len(body):]) {
		return nil, nil, errors.New("compact form is corrupt (checksum mismatch)")
	}
	// One string conversion for the whole form; every name is a substring of it.
	d := &decoder{s: string(body), off: len(binMagic) + 1}
	var k jsonKey
	k.size = d.uvarint()
	k.crcC, k.crcIE = d.uint32(), d.uint32()
	if d.err == nil && k != want {
		return nil, nil, errStale
	}
	f, npfx := d.feed(len(body))
	pl, rank := d.ranks(f)
	d.pairs(pl, len(f.Tags), len(body))
	d.prefixes(f, pl, npfx, rank)
	if d.err == nil && d.off != len(body) {
		d.err = fmt.Errorf("%d bytes left over", len(body)-d.off)
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("compact form is corrupt: %w", d.err)
	}
	return f, pl, nil
}

// feed reads the feed's header and tags, and how many prefixes each tag has
// (the prefixes themselves come after the pairs they point into).
func (d *decoder) feed(bodyLen int) (*Feed, []int) {
	f := &Feed{ChangeNumber: d.varint(), Cloud: d.str()}
	ntags := d.count(bodyLen)
	f.Tags = make([]Tag, ntags)
	npfx := make([]int, ntags)
	for i := range f.Tags {
		t := &f.Tags[i]
		t.Name, t.ID, t.Region, t.Platform, t.SystemService = d.str(), d.str(), d.str(), d.str(), d.str()
		t.ChangeNumber, t.RegionID = d.varint(), d.varint()
		if n := d.count(bodyLen); n > 0 {
			t.NetworkFeatures = make([]string, n)
			for j := range t.NetworkFeatures {
				t.NetworkFeatures[j] = d.str()
			}
		}
		npfx[i] = d.count(bodyLen)
	}
	return f, npfx
}

// ranks reads the tags in name order: the plan's byRank, and each tag's rank.
func (d *decoder) ranks(f *Feed) (*plan, []uint32) {
	ntags := len(f.Tags)
	pl := &plan{byRank: make([]int32, ntags)}
	rank := make([]uint32, ntags)
	for r := range pl.byRank {
		i := d.count(ntags - 1)
		// Names strictly ascending: a permutation, and the ranks NewIndex gives.
		if r > 0 && f.Tags[pl.byRank[r-1]].Name >= f.Tags[i].Name {
			d.fail("tag order")
		}
		pl.byRank[r], rank[i] = int32(i), uint32(r)
	}
	return pl, rank
}

// pairs reads the plan's IPv4 and IPv6 pairs, each valid, masked, of a known
// rank and in order.
func (d *decoder) pairs(pl *plan, ntags, bodyLen int) {
	pl.v4 = make([]v4key, d.count((bodyLen-d.off)/8))
	for i := range pl.v4 {
		k := v4key(d.uint64())
		if bits := k >> 24 & 0xff; bits > 32 || k>>32&(1<<(32-bits)-1) != 0 || k&rankMask >= v4key(ntags) || i > 0 && k < pl.v4[i-1] {
			d.fail("IPv4 pair")
		}
		pl.v4[i] = k
	}
	pl.v6 = make([]v6pair, d.count((bodyLen-d.off)/20))
	for i := range pl.v6 {
		k := v6pair{d.uint64(), d.uint64(), d.uint32()}
		if !k.valid() || k.bitsRank&rankMask >= uint32(ntags) ||
			i > 0 && cmp.Or(cmp.Compare(k.hi, pl.v6[i-1].hi), cmp.Compare(k.lo, pl.v6[i-1].lo), cmp.Compare(k.bitsRank, pl.v6[i-1].bitsRank)) < 0 {
			d.fail("IPv6 pair")
		}
		pl.v6[i] = k
	}
}

// prefixes reads each tag's prefixes as references to the pairs: every pair
// is used by exactly one prefix of the tag of its rank. The pairs were
// checked by pairs: their prefixes are valid and masked.
func (d *decoder) prefixes(f *Feed, pl *plan, npfx []int, rank []uint32) {
	n4, total := len(pl.v4), len(pl.v4)+len(pl.v6)
	used := make([]bool, total)
	all := make([]netip.Prefix, total)
	off := 0
	for i := range f.Tags {
		if npfx[i] > total-off {
			d.fail("prefix count")
			break
		}
		ps := all[off : off+npfx[i] : off+npfx[i]]
		for j := range ps {
			ref := d.count(total - 1)
			if d.err != nil {
				break
			}
			var r uint32
			if ref < n4 {
				ps[j], r = pl.v4[ref].prefix(), uint32(pl.v4[ref]&rankMask)
			} else {
				ps[j], r = pl.v6[ref-n4].prefix(), pl.v6[ref-n4].bitsRank&rankMask
			}
			if used[ref] || r != rank[i] {
				d.fail("prefix reference")
			}
			used[ref] = true
		}
		f.Tags[i].Prefixes = ps
		off += npfx[i]
	}
	if d.err == nil && off != total {
		d.err = fmt.Errorf("%d pairs without a prefix", total-off)
	}
}

// valid reports whether p's prefix is one Parse accepts: masked, and not
// IPv4-mapped (::ffff:0:0/96), which lookups of unmapped addresses never reach.
func (p v6pair) valid() bool {
	bits := p.bitsRank >> 24
	hostHi, hostLo := ^uint64(0)>>min(bits, 64), ^uint64(0)>>(max(bits, 64)-64)
	return bits <= 128 && p.hi&hostHi == 0 && p.lo&hostLo == 0 && !(p.hi == 0 && p.lo>>32 == 0xffff)
}

// decoder reads the compact form; the first error sticks and later reads return zero values.
type decoder struct {
	s   string
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("bad %s at byte %d", what, d.off)
	}
	d.off = len(d.s)
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := 0; d.off < len(d.s) && shift < 64; shift += 7 {
		c := d.s[d.off]
		d.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail("varint")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a length and checks it against limit, so a corrupt count cannot
// make us allocate gigabytes.
func (d *decoder) count(limit int) int {
	n := d.uvarint()
	if limit < 0 || n > uint64(limit) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) string {
	if n < 0 || len(d.s)-d.off < n {
		d.fail("length")
		return ""
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) str() string { return d.bytes(d.count(len(d.s))) }

// uint64 and uint32 read big-endian integers.
func (d *decoder) uint64() uint64 { return d.bigEndian(8) }
func (d *decoder) uint32() uint32 { return uint32(d.bigEndian(4)) }

func (d *decoder) bigEndian(n int) uint64 {
	var v uint64
	for _, c := range []byte(d.bytes(n)) {
		v = v<<8 | uint64(c)
	}
	return v
}
