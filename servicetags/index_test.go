package servicetags

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"egressprobe/internal/testnet"
	"go4.org/netipx"
)

// bruteForce is the independent answer: every (tag, prefix) that contains addr,
// by scanning all prefixes, ordered longest prefix first, then by tag name.
func bruteForce(f *Feed, addr netip.Addr) []Match {
	var out []Match
	for _, t := range f.Tags {
		for _, p := range t.Prefixes {
			if p.Contains(addr) && !slices.ContainsFunc(out, func(m Match) bool { return m.Tag == t.Name && m.Prefix == p }) {
				out = append(out, Match{&TagInfo{t.Name, t.Region, t.SystemService}, p})
			}
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(-cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()), cmp.Compare(a.Tag, b.Tag))
	})
	return out
}

// sameMatch compares matches by value: Lookup's share their tag's TagInfo.
func sameMatch(a, b Match) bool { return *a.TagInfo == *b.TagInfo && a.Prefix == b.Prefix }

// sampleAddrs picks, for a sample of prefixes, the first and last address, the
// addresses just outside, and a random one inside; plus fixed addresses in no tag.
func sampleAddrs(f *Feed, n int) []netip.Addr {
	r := rand.New(rand.NewPCG(1, 2))
	addrs := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	}
	var all []netip.Prefix
	for _, t := range f.Tags {
		all = append(all, t.Prefixes...)
	}
	for range n {
		p := all[r.IntN(len(all))]
		rg := netipx.RangeOfPrefix(p)
		addrs = append(addrs, rg.From(), rg.To(), rg.From().Prev(), rg.To().Next())
		// A random address inside: random host bits over the network part.
		b := p.Addr().AsSlice()
		for i := range b {
			b[i] |= byte(r.UintN(256)) & hostMask(i, p.Bits())
		}
		a, _ := netip.AddrFromSlice(b)
		addrs = append(addrs, a)
	}
	return slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.IsValid() })
}

// hostMask is the mask of byte i's host bits under a prefix of length bits.
func hostMask(i, bits int) byte {
	switch {
	case bits >= (i+1)*8:
		return 0
	case bits <= i*8:
		return 0xff
	default:
		return 0xff >> (bits - i*8)
	}
}

func checkAgainstBruteForce(t *testing.T, f *Feed, addrs []netip.Addr) {
	t.Helper()
	ix := NewIndex(f)
	var v4, v6, hits int
	for _, a := range addrs {
		got, want := ix.Lookup(a), bruteForce(f, a)
		if !slices.EqualFunc(got, want, sameMatch) {
			t.Fatalf("Lookup(%v):\n got  %v\n want %v", a, got, want)
		}
		if a.Is4() {
			v4++
		} else {
			v6++
		}
		if len(want) > 0 {
			hits++
		}
	}
	if v4 == 0 || v6 == 0 || hits == 0 || hits == len(addrs) {
		t.Fatalf("sample not varied enough: %d v4, %d v6, %d of %d in some tag", v4, v6, hits, len(addrs))
	}
}

func TestLookupRealPublic(t *testing.T) {
	f := mustParse(t, "Public", testnet.MicrosoftFeed(t, "ServiceTags_Public_20250908.json"))
	n := 300
	if testing.Short() {
		n = 50
	}
	checkAgainstBruteForce(t, f, sampleAddrs(f, n))
}

// The IPv4 prefixes are split over two tables: the addresses either side of
// the split answer from the right one.
func TestLookupAcrossIPv4Split(t *testing.T) {
	f := mustParse(t, "Public", testnet.MicrosoftFeed(t, "ServiceTags_Public_20250908.json"))
	ix := NewIndex(f)
	if ix.split4 >= 1<<32 || ix.t4[0].Size() == 0 || ix.t4[1].Size() == 0 {
		t.Fatalf("IPv4 not split: split at %#x, tables of %d and %d prefixes", ix.split4, ix.t4[0].Size(), ix.t4[1].Size())
	}
	at := netip.AddrFrom4([4]byte{byte(ix.split4 >> 24), byte(ix.split4 >> 16), byte(ix.split4 >> 8), byte(ix.split4)})
	if len(ix.Lookup(at)) == 0 {
		t.Fatalf("the split address %v is in no tag; it should start a prefix", at)
	}
	checkAgainstBruteForce(t, f, append(sampleAddrs(f, 20), at.Prev(), at, at.Next()))
}

func TestLookupRealChinaAndGov(t *testing.T) {
	for _, name := range []string{"ServiceTags_China_20260720.json", "ServiceTags_AzureGovernment_20260720.json"} {
		t.Run(name, func(t *testing.T) {
			f := mustParse(t, name, testnet.MicrosoftFeed(t, name))
			checkAgainstBruteForce(t, f, sampleAddrs(f, 300))
		})
	}
}

func TestLookupFixture(t *testing.T) {
	f := mustParse(t, "small_old.json", fixture(t, "small_old.json"))
	ix := NewIndex(f)
	// The order the README promises: longest prefix first, ties by tag name.
	got := ix.Lookup(netip.MustParseAddr("20.4.1.7"))
	want := []Match{
		{&TagInfo{"AzureBackup", "", "AzureBackup"}, netip.MustParsePrefix("20.4.1.0/24")},
		{&TagInfo{"AzureBackup.WestEurope", "westeurope", "AzureBackup"}, netip.MustParsePrefix("20.4.1.0/24")},
		{&TagInfo{"AzureCloud.westeurope", "westeurope", ""}, netip.MustParsePrefix("20.4.0.0/16")},
		{&TagInfo{"AzureCloud", "", ""}, netip.MustParsePrefix("20.0.0.0/11")},
	}
	if !slices.EqualFunc(got, want, sameMatch) {
		t.Errorf("Lookup(20.4.1.7) =\n %v\nwant\n %v", got, want)
	}
	if m := ix.Lookup(netip.MustParseAddr("::ffff:20.4.1.7")); !slices.EqualFunc(m, want, sameMatch) {
		t.Errorf("IPv4-mapped lookup = %v, want the IPv4 answer", m)
	}
	if m := ix.Lookup(netip.MustParseAddr("2603:1020:206::1%eth0")); len(m) != 3 || m[0].Prefix.Bits() != 48 {
		t.Errorf("zoned v6 lookup = %v", m)
	}
	if m := ix.Lookup(netip.Addr{}); m != nil {
		t.Errorf("Lookup(invalid) = %v, want nil", m)
	}
	checkAgainstBruteForce(t, f, sampleAddrs(f, 50))
}

func TestLookupAllocatesNothing(t *testing.T) {
	f := mustParse(t, "small_old.json", fixture(t, "small_old.json"))
	ix := NewIndex(f)
	a4, a6 := netip.MustParseAddr("20.4.1.7"), netip.MustParseAddr("2603:1020:206::1")
	if n := testing.AllocsPerRun(100, func() { _ = ix.Lookup(a4); _ = ix.Lookup(a6) }); n != 0 {
		t.Errorf("Lookup allocates %v times per run, want 0", n)
	}
}

// The performance targets, measured in one run so ratios are meaningful:
//
//	go test ./servicetags -run '^$' -bench . -benchmem -benchtime 20x
func BenchmarkLoadPublic(b *testing.B) {
	data := testnet.MicrosoftFeed(b, "ServiceTags_Public_20250908.json")
	b.Run("baseline=json-map-any", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+index", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			f, err := Parse("Public", data)
			if err != nil {
				b.Fatal(err)
			}
			_ = NewIndex(f)
		}
	})
	b.Run("compact+index", func(b *testing.B) {
		bin := encodeBinary(mustParse(b, "Public", data), keyOf(data))
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			// The cached path: hash the JSON to check the key, decode, index.
			f, pl, err := decodeBinary(bin, keyOf(data))
			if err != nil {
				b.Fatal(err)
			}
			_ = newIndex(f, pl)
		}
	})
	b.Run("parse-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse("Public", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadRatio alternates the baseline and our two load paths within each
// iteration, so load from other processes hits all alike, and reports the ratios.
func BenchmarkLoadRatio(b *testing.B) {
	data := testnet.MicrosoftFeed(b, "ServiceTags_Public_20250908.json")
	bin := encodeBinary(mustParse(b, "Public", data), keyOf(data))
	var base, parse, index, compact time.Duration
	// timed runs step after a collection, so no step pays for the garbage of
	// the one before it.
	timed := func(acc *time.Duration, step func()) {
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		t0 := time.Now()
		step()
		*acc += time.Since(t0)
	}
	for b.Loop() {
		var f *Feed
		timed(&base, func() {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		})
		timed(&parse, func() {
			var err error
			if f, err = Parse("Public", data); err != nil {
				b.Fatal(err)
			}
		})
		timed(&index, func() { _ = NewIndex(f) })
		timed(&compact, func() {
			g, pl, err := decodeBinary(bin, keyOf(data))
			if err != nil {
				b.Fatal(err)
			}
			_ = newIndex(g, pl)
		})
	}
	n := float64(b.N)
	b.ReportMetric(float64(base)/n/1e6, "ms-map-any")
	b.ReportMetric(float64(parse)/n/1e6, "ms-parse")
	b.ReportMetric(float64(index)/n/1e6, "ms-index")
	b.ReportMetric(float64(compact)/n/1e6, "ms-compact+index")
	b.ReportMetric(float64(parse+index)/float64(base), "parse+index/map-any")
	b.ReportMetric(float64(parse+index)/float64(compact), "speedup-compact")
}

func BenchmarkLookup(b *testing.B) {
	f := mustParse(b, "Public", testnet.MicrosoftFeed(b, "ServiceTags_Public_20250908.json"))
	ix := NewIndex(f)
	for _, fam := range []struct {
		name string
		is4  bool
	}{{"v4", true}, {"v6", false}} {
		b.Run(fam.name, func(b *testing.B) {
			addrs := slices.DeleteFunc(sampleAddrs(f, 2000), func(a netip.Addr) bool { return a.Is4() != fam.is4 })
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = ix.Lookup(addrs[i%len(addrs)])
				i++
			}
		})
	}
}
