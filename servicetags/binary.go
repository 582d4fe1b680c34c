package servicetags

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
)

// The compact form of a validated feed, kept next to the cached JSON so that a
// repeated run does not parse JSON. It is keyed by the JSON's size and SHA-256:
// a form that does not match the JSON beside it is ignored and rebuilt.
//
//	magic "EPST" | version byte | json size uvarint | json sha256 [32] |
//	changeNumber varint | cloud str | ntags uvarint | tags... | crc32c of all before [4]
//	tag: name str | id str | region str | platform str | systemService str |
//	     changeNumber varint | regionId varint | nfeatures uvarint | features str... |
//	     nprefixes uvarint | per prefix: bits byte, family byte (4|6), 4 or 16 address bytes
//	str: uvarint length, bytes
const (
	binMagic   = "EPST"
	binVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errStale means the compact form does not belong to the JSON beside it.
var errStale = errors.New("compact form does not match the JSON file")

// jsonKey identifies the JSON a compact form was made from.
type jsonKey struct {
	size uint64
	sum  [sha256.Size]byte
}

func keyOf(jsonData []byte) jsonKey {
	return jsonKey{uint64(len(jsonData)), sha256.Sum256(jsonData)}
}

// encodeBinary writes the compact form of f, made from the JSON with key k.
func encodeBinary(f *Feed, k jsonKey) []byte {
	b := make([]byte, 0, 64+f.NumPrefixes()*18+len(f.Tags)*96)
	b = append(b, binMagic...)
	b = append(b, binVersion)
	b = binary.AppendUvarint(b, k.size)
	b = append(b, k.sum[:]...)
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
		for _, p := range t.Prefixes {
			b = append(b, byte(p.Bits()))
			if p.Addr().Is4() {
				a := p.Addr().As4()
				b = append(append(b, 4), a[:]...)
			} else {
				a := p.Addr().As16()
				b = append(append(b, 6), a[:]...)
			}
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

// decodeBinary reads a compact form made from the JSON with key want. It fails
// with errStale when the form belongs to other JSON, and with a description of
// the damage when it is corrupt; the caller then falls back to the JSON.
func decodeBinary(data []byte, want jsonKey) (*Feed, error) {
	if len(data) < len(binMagic)+1+4 || string(data[:len(binMagic)]) != binMagic || data[len(binMagic)] != binVersion {
		return nil, errStale
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(data[len(body):]) {
		return nil, errors.New("compact form is corrupt (checksum mismatch)")
	}
	// One string conversion for the whole form; every name is a substring of it.
	d := &decoder{s: string(body), off: len(binMagic) + 1}
	var k jsonKey
	k.size = d.uvarint()
	copy(k.sum[:], d.bytes(sha256.Size))
	if d.err == nil && k != want {
		return nil, errStale
	}
	f := &Feed{ChangeNumber: d.varint(), Cloud: d.str()}
	ntags := d.count(len(body))
	f.Tags = make([]Tag, ntags)
	for i := range f.Tags {
		t := &f.Tags[i]
		t.Name, t.ID, t.Region, t.Platform, t.SystemService = d.str(), d.str(), d.str(), d.str(), d.str()
		t.ChangeNumber, t.RegionID = d.varint(), d.varint()
		if n := d.count(len(body)); n > 0 {
			t.NetworkFeatures = make([]string, n)
			for j := range t.NetworkFeatures {
				t.NetworkFeatures[j] = d.str()
			}
		}
		t.Prefixes = make([]netip.Prefix, d.count(len(body)/6))
		for j := range t.Prefixes {
			t.Prefixes[j] = d.prefix()
		}
	}
	if d.err == nil && d.off != len(body) {
		d.err = fmt.Errorf("%d bytes left over", len(body)-d.off)
	}
	if d.err != nil {
		return nil, fmt.Errorf("compact form is corrupt: %w", d.err)
	}
	return f, nil
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
	if n > uint64(limit) {
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

func (d *decoder) prefix() netip.Prefix {
	hdr := d.bytes(2)
	if d.err != nil {
		return netip.Prefix{}
	}
	var a netip.Addr
	switch hdr[1] {
	case 4:
		var b [4]byte
		copy(b[:], d.bytes(4))
		a = netip.AddrFrom4(b)
	case 6:
		var b [16]byte
		copy(b[:], d.bytes(16))
		a = netip.AddrFrom16(b)
	default:
		d.fail("address family")
	}
	if d.err != nil {
		return netip.Prefix{}
	}
	p := netip.PrefixFrom(a, int(hdr[0]))
	if !p.IsValid() || p != p.Masked() || a.Is4In6() {
		d.fail("prefix")
	}
	return p
}
