//go:build ignore

// Command gen writes ranges.bin.gz, the provider table of package providers,
// from the sources_data.json of the cdncheck module pinned in go.mod (read
// from its directory in the module cache, because its parsed form is
// unexported). Run it with `go generate ./internal/providers`; the same
// module version gives the same bytes.
//
// Format (gzip, no name, no time): magic, then per kind in the order cdn, waf,
// cloud: uvarint provider count; per provider, in name order: uvarint name
// length, name, then its IPv4 and its IPv6 prefixes, each as a uvarint count
// and, sorted by address then length, per prefix: length in bits, how many
// leading address bytes equal the previous prefix's, and the rest of the
// ceil(bits/8) significant address bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

const (
	cdncheckModule = "github.com/projectdiscovery/cdncheck"
	magic          = "egressprobe providers 1\n" // must match package providers
)

func main() {
	out := flag.String("o", "ranges.bin.gz", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatalf("providers/gen: %v", err)
	}
}

func run(out string) error {
	dir, version, err := moduleDir()
	if err != nil {
		return err
	}
	src := filepath.Join(dir, "sources_data.json")
	raw, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w (run `go mod download %s`)", src, err, cdncheckModule)
	}
	var data map[string]map[string][]string
	if err := json.Unmarshal(raw, &data); err != nil {
		return fmt.Errorf("parse %s: %w", src, err)
	}
	var buf bytes.Buffer
	buf.WriteString(magic)
	total, skipped := 0, 0
	for _, kind := range []string{"cdn", "waf", "cloud"} { // Client.Check's order
		names := make([]string, 0, len(data[kind]))
		for name := range data[kind] {
			// Check ignores a match with an empty provider name.
			if name != "" {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		writeUvarint(&buf, len(names))
		for _, name := range names {
			var v4, v6 []netip.Prefix
			for _, s := range data[kind][name] {
				p, err := netip.ParsePrefix(s)
				if err != nil {
					skipped++ // cdncheck skips what netip cannot parse, too
					continue
				}
				p = p.Masked() // as bart stores it
				if p.Addr().Is4() {
					v4 = append(v4, p)
				} else {
					v6 = append(v6, p)
				}
			}
			writeUvarint(&buf, len(name))
			buf.WriteString(name)
			total += writePrefixes(&buf, v4) + writePrefixes(&buf, v6)
		}
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(out, gz.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	log.Printf("providers/gen: %s %s: %d unique prefixes (%d unparsable skipped), %d bytes (%d before gzip) → %s",
		cdncheckModule, version, total, skipped, gz.Len(), buf.Len(), out)
	return nil
}

// moduleDir is where the go command keeps the pinned cdncheck module.
func moduleDir() (dir, version string, err error) {
	cmd := exec.Command("go", "list", "-m", "-json", cdncheckModule)
	cmd.Stderr = os.Stderr
	js, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m -json %s: %w", cdncheckModule, err)
	}
	var m struct{ Dir, Version string }
	if err := json.Unmarshal(js, &m); err != nil {
		return "", "", fmt.Errorf("go list -m -json %s: %w", cdncheckModule, err)
	}
	if m.Dir == "" {
		return "", "", fmt.Errorf("%s %s is not in the module cache: run `go mod download %s`", cdncheckModule, m.Version, cdncheckModule)
	}
	return m.Dir, m.Version, nil
}

// writePrefixes writes ps sorted and without duplicates (the source repeats
// many) and returns how many it wrote.
func writePrefixes(buf *bytes.Buffer, ps []netip.Prefix) int {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	ps = slices.Compact(ps)
	writeUvarint(buf, len(ps))
	var prev []byte
	for _, p := range ps {
		addr := p.Addr().AsSlice()[:(p.Bits()+7)/8]
		shared := 0
		for shared < len(addr) && shared < len(prev) && addr[shared] == prev[shared] {
			shared++
		}
		buf.WriteByte(byte(p.Bits()))
		buf.WriteByte(byte(shared))
		buf.Write(addr[shared:])
		prev = addr
	}
	return len(ps)
}

func writeUvarint(buf *bytes.Buffer, n int) {
	buf.Write(binary.AppendUvarint(nil, uint64(n)))
}
