package providers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gaissmai/bart"
	"github.com/projectdiscovery/cdncheck"

	"egressprobe/internal/testenv"
)

// source is cdncheck's own range data, read as its package init reads it:
// kind → provider → CIDRs, each provider's ranges in a table of its own.
type source struct {
	lists  map[string]map[string][]netip.Prefix
	tables map[string]map[string]*bart.Table[struct{}]
}

func readSource(t testing.TB) *source {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/projectdiscovery/cdncheck").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/projectdiscovery/cdncheck: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "sources_data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]map[string][]string
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	s := &source{lists: map[string]map[string][]netip.Prefix{}, tables: map[string]map[string]*bart.Table[struct{}]{}}
	for _, kind := range kindNames() {
		s.lists[kind], s.tables[kind] = map[string][]netip.Prefix{}, map[string]*bart.Table[struct{}]{}
		for name, cidrs := range data[kind] {
			tbl := new(bart.Table[struct{}])
			for _, c := range cidrs {
				if p, err := netip.ParsePrefix(c); err == nil {
					s.lists[kind][name] = append(s.lists[kind][name], p.Masked())
					tbl.Insert(p, struct{}{})
				}
			}
			s.tables[kind][name] = tbl
		}
	}
	return s
}

// want is the answer Lookup must give for a: the first kind with a provider
// holding a; among its providers, the one with the longest prefix holding a,
// then the first by name. ambiguous says whether several providers of that
// kind hold a (cdncheck then answers any of them).
func (s *source) want(a netip.Addr) (name, kind string, ambiguous, ok bool) {
	host := netip.PrefixFrom(a, a.BitLen())
	for _, kind := range kindNames() {
		best, bestBits, holders := "", -1, 0
		for n, tbl := range s.tables[kind] {
			p, _, ok := tbl.LookupPrefixLPM(host)
			if !ok || n == "" {
				continue
			}
			holders++
			if p.Bits() > bestBits || p.Bits() == bestBits && n < best {
				best, bestBits = n, p.Bits()
			}
		}
		if holders > 0 {
			return best, kind, holders > 1, true
		}
	}
	return "", "", false, false
}

// sample is a deterministic spread of addresses over every provider's
// ranges: the first, a middle and the last address of every len/100-th prefix
// of each provider's list (all of a short one), the addresses just outside
// them, and addresses no provider lists.
func (s *source) sample() []netip.Addr {
	addrs := []netip.Addr{ // documentation and private space: no provider's
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("203.0.113.255"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("127.0.0.1"),
		netip.MustParseAddr("::1"), netip.MustParseAddr("fd00::1"),
	}
	for _, kind := range kindNames() {
		names := make([]string, 0, len(s.lists[kind]))
		for n := range s.lists[kind] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			list := s.lists[kind][n]
			step := max(1, len(list)/100)
			for i := 0; i < len(list); i += step {
				first, last := list[i].Addr(), lastAddr(list[i])
				addrs = append(addrs, first, last, middle(first, last), first.Prev(), last.Next())
			}
		}
	}
	return slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.IsValid() })
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		if rest := p.Bits() - 8*i; rest < 8 {
			b[i] |= byte(0xff >> max(rest, 0))
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// middle is the address halfway between first and last.
func middle(first, last netip.Addr) netip.Addr {
	f, l := first.As16(), last.As16()
	var m [16]byte
	carry := 0
	for i := 15; i >= 0; i-- { // m = f + l, then halved
		sum := int(f[i]) + int(l[i]) + carry
		m[i], carry = byte(sum), sum>>8
	}
	for i := range m {
		next := carry
		carry = int(m[i] & 1)
		m[i] = m[i]>>1 | byte(next<<7)
	}
	a := netip.AddrFrom16(m)
	if first.Is4() {
		a = a.Unmap()
	}
	return a
}

func TestLookupAgreesWithCdncheck(t *testing.T) {
	tbl, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	src := readSource(t)
	client := cdncheck.New()
	for i, kind := range kindNames() {
		var want []string
		for n := range src.lists[kind] {
			if n != "" {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		if got := tbl.kinds[i].providers; !slices.Equal(got, want) {
			t.Errorf("%s providers: got %q, cdncheck lists %q", kind, got, want)
		}
	}

	addrs := src.sample()
	checked, agreed := map[string]int{}, 0
	for _, a := range addrs {
		name, kind, ok := tbl.Lookup(a)
		wName, wKind, ambiguous, wOK := src.want(a)
		if name != wName || kind != wKind || ok != wOK {
			t.Errorf("Lookup(%s) = %q, %q, %v; want %q, %q, %v", a, name, kind, ok, wName, wKind, wOK)
		}
		if a.Is4() {
			if mName, mKind, mOK := tbl.Lookup(netip.AddrFrom16(a.As16())); mName != name || mKind != kind || mOK != ok {
				t.Errorf("Lookup(%s) as IPv4-mapped IPv6 = %q, %q, %v; want %q, %q, %v", a, mName, mKind, mOK, name, kind, ok)
			}
		}
		cOK, cName, cKind, err := client.Check(net.IP(a.AsSlice()))
		if err != nil {
			t.Fatalf("cdncheck Check(%s): %v", a, err)
		}
		if ok != cOK || kind != cKind {
			t.Errorf("Lookup(%s) = %q, %q, %v; cdncheck says %q, %q, %v", a, name, kind, ok, cName, cKind, cOK)
		}
		if !ambiguous && name != cName {
			t.Errorf("Lookup(%s) = %q (%s); cdncheck says %q, the only %s provider holding it", a, name, kind, cName, kind)
		}
		if !ambiguous {
			agreed++
			checked[kind+" "+name]++
		}
	}
	t.Logf("%d addresses, %d with one provider of the winning kind: %v", len(addrs), agreed, checked)
	// Each kind answers somewhere, and no sample is vacuous.
	for _, kind := range kindNames() {
		found := false
		for k := range checked {
			found = found || strings.HasPrefix(k, kind+" ")
		}
		if !found {
			t.Errorf("no sampled address is unambiguously a %s's", kind)
		}
	}
	if checked[" "] < 8 || agreed < len(addrs)/2 {
		t.Errorf("only %d of %d addresses unambiguous, %d outside all ranges", agreed, len(addrs), checked[" "])
	}
}

func TestEmbeddedUpToDate(t *testing.T) {
	out := filepath.Join(testenv.TempDir(t), "ranges.bin.gz")
	cmd := exec.Command("go", "run", "gen/main.go", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen/main.go: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != ranges {
		t.Errorf("ranges.bin.gz (%d bytes) differs from what the pinned cdncheck gives (%d bytes): run `go generate ./internal/providers`", len(ranges), len(got))
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	tbl, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("2001:db8::1")
	if n := testing.AllocsPerRun(100, func() { tbl.Lookup(a) }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

// validTable is a small table in the embedded format: one CDN "a" with
// 10.0.0.0/8 and 2001:db8::/32, one cloud "b" with 10.0.0.0/8 and 10.1.0.0/16.
const validTable = magic +
	"\x01" + "\x01a" + "\x01" + "\x08\x00\x0a" + "\x01" + "\x20\x00\x20\x01\x0d\xb8" +
	"\x00" +
	"\x01" + "\x01b" + "\x02" + "\x08\x00\x0a" + "\x10\x01\x01" + "\x00"

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, err string
		lookups       map[string]string // address → "name kind", "" for none
	}{
		{name: "valid", in: validTable, lookups: map[string]string{
			"10.1.2.3": "a cdn", "2001:db8::1": "a cdn", "11.0.0.1": "", "::ffff:10.0.0.1": "a cdn",
		}},
		{name: "empty kinds", in: magic + "\x00\x00\x00", lookups: map[string]string{"10.0.0.1": ""}},
		{name: "no header", in: "hello", err: "not a provider table"},
		{name: "truncated", in: validTable[:len(validTable)-3], err: "unexpected EOF"},
		{name: "trailing", in: validTable + "x", err: "trailing data"},
		{name: "too long", in: magic + "\x01\x01a\x01\x21\x00\x01\x02\x03\x04\x05", err: "bad prefix entry"},
		{name: "shared past previous", in: magic + "\x01\x01a\x01\x08\x01", err: "bad prefix entry"},
		{name: "host bits", in: magic + "\x01\x01a\x01\x07\x00\x0b", err: "host bits"}, // 11.0.0.0/7
		{name: "names out of order", in: magic + "\x02\x01b\x00\x00\x01a\x00\x00\x00\x00", err: "out of order"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, err := parse(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parse: got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for addr, want := range tc.lookups {
				name, kind, ok := tbl.Lookup(netip.MustParseAddr(addr))
				got := ""
				if ok {
					got = name + " " + kind
				}
				if got != want {
					t.Errorf("Lookup(%s) = %q, want %q", addr, got, want)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validTable))
	f.Add([]byte(magic + "\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tbl, err := parse(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		for _, a := range []string{"10.0.0.1", "2001:db8::1", "0.0.0.0", "::"} {
			tbl.Lookup(netip.MustParseAddr(a))
		}
	})
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	tbl, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	addrs := readSource(b).sample()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tbl.Lookup(addrs[i%len(addrs)])
		i++
	}
}
