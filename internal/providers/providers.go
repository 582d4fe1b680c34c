// Package providers names the CDN, WAF or cloud provider owning an IP address,
// with the ranges of github.com/projectdiscovery/cdncheck (the version pinned
// in go.mod), generated into a compact embedded table so that a binary does
// not link cdncheck and pay its package init (a 2.3 MB JSON decode) on every
// start. Load decodes the table; call it only when an address needs it.
package providers

//go:generate go run gen/main.go

import (
	"bufio"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"
)

// ranges is written by gen/main.go; its format is described there. A string:
// nothing can change it.
//
//go:embed ranges.bin.gz
var ranges string

const magic = "egressprobe providers 1\n" // must match gen/main.go

// kindNames are cdncheck's range lists in Client.Check's order: an address in
// a CDN range is a CDN's even if a cloud range also holds it.
func kindNames() [3]string { return [3]string{"cdn", "waf", "cloud"} }

// Table maps addresses to providers. It is safe for concurrent use.
type Table struct {
	kinds [3]kindTable
}

type kindTable struct {
	name      string
	providers []string
	// prefixes holds, per prefix, the index in providers of the first
	// provider by name that lists it.
	prefixes bart.Table[uint16]
}

// Load decodes the embedded table (tens of milliseconds).
func Load() (*Table, error) {
	t, err := decode(ranges)
	if err != nil {
		return nil, fmt.Errorf("embedded provider ranges: %w (regenerate them with `go generate ./internal/providers`)", err)
	}
	return t, nil
}

// Lookup returns the provider owning a and its kind: "cdn", "waf" or "cloud".
// As cdncheck's Client.Check, a CDN's range wins over a WAF's, and a WAF's over
// a cloud's; among providers of one kind, the longest prefix wins, then the
// first provider name (cdncheck picks one at random there). IPv4-mapped IPv6
// addresses are looked up as IPv4, as cdncheck does.
func (t *Table) Lookup(a netip.Addr) (name, kind string, ok bool) {
	a = a.Unmap()
	for i := range t.kinds {
		k := &t.kinds[i]
		if p, ok := k.prefixes.Lookup(a); ok {
			return k.providers[p], k.name, true
		}
	}
	return "", "", false
}

func decode(data string) (*Table, error) {
	zr, err := gzip.NewReader(strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	return parse(bufio.NewReader(zr))
}

// parse reads the uncompressed table.
func parse(r *bufio.Reader) (*Table, error) {
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != magic {
		return nil, fmt.Errorf("not a provider table (header %q)", head)
	}
	t := new(Table)
	for i, kind := range kindNames() {
		k := &t.kinds[i]
		k.name = kind
		n, err := readCount(r, 1<<16)
		if err != nil {
			return nil, fmt.Errorf("%s: provider count: %w", kind, err)
		}
		k.providers = make([]string, n)
		for p := range k.providers {
			if k.providers[p], err = readName(r); err != nil {
				return nil, fmt.Errorf("%s: provider %d: %w", kind, p, err)
			}
			if p > 0 && k.providers[p] <= k.providers[p-1] {
				return nil, fmt.Errorf("%s: provider %q after %q: names out of order", kind, k.providers[p], k.providers[p-1])
			}
			for _, width := range []int{4, 16} {
				if err := readPrefixes(r, width, func(pfx netip.Prefix) {
					// Providers come in name order: the first to list a prefix keeps it.
					k.prefixes.Modify(pfx, func(old uint16, found bool) (uint16, bool) {
						if found {
							return old, false
						}
						return uint16(p), false
					})
				}); err != nil {
					return nil, fmt.Errorf("%s %s: %w", kind, k.providers[p], err)
				}
			}
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return t, nil
}

// readCount reads a uvarint no greater than limit.
func readCount(r *bufio.Reader, limit uint64) (int, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, unexpected(err)
	}
	if n > limit {
		return 0, fmt.Errorf("count %d over %d", n, limit)
	}
	return int(n), nil
}

func readName(r *bufio.Reader) (string, error) {
	n, err := readCount(r, 255)
	if err != nil {
		return "", err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", unexpected(err)
	}
	return string(b), nil
}

// readPrefixes reads a front-coded list of prefixes of width-byte addresses
// and calls add for each.
func readPrefixes(r *bufio.Reader, width int, add func(netip.Prefix)) error {
	n, err := readCount(r, 1<<24)
	if err != nil {
		return err
	}
	var (
		hdr  [2]byte
		buf  [16]byte
		prev int // significant bytes of the previous prefix
	)
	for range n {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return unexpected(err)
		}
		bits, shared := int(hdr[0]), int(hdr[1])
		size := (bits + 7) / 8
		if bits > width*8 || shared > size || shared > prev {
			return fmt.Errorf("bad prefix entry (bits %d, shared %d)", bits, shared)
		}
		if _, err := io.ReadFull(r, buf[shared:size]); err != nil {
			return unexpected(err)
		}
		clear(buf[size:])
		prev = size
		var a netip.Addr
		if width == 4 {
			a = netip.AddrFrom4([4]byte(buf[:4]))
		} else {
			a = netip.AddrFrom16(buf)
		}
		pfx := netip.PrefixFrom(a, bits)
		if pfx.Masked() != pfx {
			return fmt.Errorf("prefix %s has host bits set", pfx)
		}
		add(pfx)
	}
	return nil
}

// unexpected turns the end of the data inside an entry into an error that
// says so.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
