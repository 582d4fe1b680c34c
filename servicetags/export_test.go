package servicetags

import (
	"errors"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testnet"
	"go4.org/netipx"
)

// checkSameAddresses verifies, without netipx's set code, that merged covers
// exactly the union of orig: merged is sorted and disjoint, covers every original
// prefix, and holds as many addresses as the union computed by merging ranges.
func checkSameAddresses(t *testing.T, orig, merged []netip.Prefix) {
	t.Helper()
	for i := 1; i < len(merged); i++ {
		if netipx.RangeOfPrefix(merged[i-1]).To().Compare(merged[i].Addr()) >= 0 {
			t.Fatalf("merged prefixes %v and %v overlap or are out of order", merged[i-1], merged[i])
		}
	}
	for _, p := range orig {
		i, _ := slices.BinarySearchFunc(merged, p.Addr(), func(m netip.Prefix, a netip.Addr) int { return m.Addr().Compare(a) })
		if !(i < len(merged) && merged[i].Contains(p.Addr()) && merged[i].Bits() <= p.Bits()) &&
			!(i > 0 && merged[i-1].Contains(p.Addr()) && merged[i-1].Bits() <= p.Bits()) {
			t.Fatalf("original prefix %v is not covered", p)
		}
	}
	if u, m := unionSize(orig), unionSize(merged); u.Cmp(m) != 0 {
		t.Fatalf("union holds %v addresses, merged %v", u, m)
	}
}

func unionSize(ps []netip.Prefix) *big.Int {
	type rng struct{ lo, hi *big.Int }
	var rs []rng
	for _, p := range ps {
		r := netipx.RangeOfPrefix(p)
		lo, hi := new(big.Int).SetBytes(r.From().AsSlice()), new(big.Int).SetBytes(r.To().AsSlice())
		if p.Addr().Is6() { // keep families apart
			off := new(big.Int).Lsh(big.NewInt(1), 200)
			lo.Add(lo, off)
			hi.Add(hi, off)
		}
		rs = append(rs, rng{lo, hi})
	}
	slices.SortFunc(rs, func(a, b rng) int { return a.lo.Cmp(b.lo) })
	total := new(big.Int)
	var cur *rng
	one := big.NewInt(1)
	flush := func() {
		if cur != nil {
			total.Add(total, new(big.Int).Add(new(big.Int).Sub(cur.hi, cur.lo), one))
		}
	}
	for i := range rs {
		if cur != nil && rs[i].lo.Cmp(new(big.Int).Add(cur.hi, one)) <= 0 {
			if rs[i].hi.Cmp(cur.hi) > 0 {
				cur.hi = rs[i].hi
			}
			continue
		}
		flush()
		cur = &rs[i]
	}
	flush()
	return total
}

func TestExportRealPublic(t *testing.T) {
	f := mustParse(t, "Public", testnet.MicrosoftFeed(t, "ServiceTags_Public_20250908.json"))
	tags := []string{"AzureBackup", "Storage", "AzureActiveDirectory"}
	var orig []netip.Prefix
	for _, n := range tags {
		tg, _ := f.Tag(n)
		orig = append(orig, tg.Prefixes...)
	}
	ex, err := f.Export(ExportRequest{Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Prefixes) >= len(orig) {
		t.Errorf("merging %d prefixes gave %d", len(orig), len(ex.Prefixes))
	}
	checkSameAddresses(t, orig, ex.Prefixes)
	t.Logf("%d prefixes merged to %d", len(orig), len(ex.Prefixes))

	v4, err := f.Export(ExportRequest{Tags: tags, Family: IPv4Only})
	if err != nil {
		t.Fatal(err)
	}
	checkSameAddresses(t, slices.DeleteFunc(slices.Clone(orig), func(p netip.Prefix) bool { return !p.Addr().Is4() }), v4.Prefixes)

	we, err := f.Export(ExportRequest{Tags: tags, Region: "WestEurope", Family: IPv6Only})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(we.Tags, []string{"AzureBackup.WestEurope", "Storage.WestEurope", "AzureActiveDirectory"}) ||
		!slices.Equal(we.Global, []string{"AzureActiveDirectory"}) {
		t.Errorf("region selection: tags %v, global %v", we.Tags, we.Global)
	}
	for _, p := range we.Prefixes {
		if !p.Addr().Is6() {
			t.Fatalf("--ipv6 export has %v", p)
		}
	}
}

func TestExportErrors(t *testing.T) {
	f := mustParse(t, "small_old.json", fixture(t, "small_old.json"))
	tests := []struct {
		req  ExportRequest
		want string
	}{
		{ExportRequest{Tags: []string{"azurebackup"}}, `tag "azurebackup" is not in the Public feed (changeNumber 7); did you mean AzureBackup?`},
		{ExportRequest{Tags: []string{"AzureBakcup"}}, `tag "AzureBakcup" is not in the Public feed (changeNumber 7); did you mean AzureBackup?`},
		{ExportRequest{Tags: []string{"AzureBackup"}, Region: "mars"}, `region "mars" is in no tag`},
		{ExportRequest{}, "no tags given"},
	}
	for _, tt := range tests {
		_, err := f.Export(tt.req)
		if !errors.Is(err, ErrUnknownTag) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Export(%+v) err = %v, want %q", tt.req, err, tt.want)
		}
	}
}

func TestDiffFixtures(t *testing.T) {
	old := mustParse(t, "small_old.json", fixture(t, "small_old.json"))
	nw := mustParse(t, "small_new.json", fixture(t, "small_new.json"))
	got, err := Diff(old, nw, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix
	want := DiffResult{OldChangeNumber: 7, NewChangeNumber: 8, Tags: []TagDiff{
		{"AzureBackup", []netip.Prefix{p("20.4.9.0/24")}, []netip.Prefix{p("40.74.10.0/26")}},
		{"AzureBackup.NorthEurope", []netip.Prefix{p("40.69.0.0/26")}, []netip.Prefix{}},
		{"AzureBackup.WestEurope", []netip.Prefix{p("20.4.9.0/24")}, []netip.Prefix{p("40.74.10.0/26")}},
		{"Retired", []netip.Prefix{}, []netip.Prefix{p("198.51.100.0/24")}},
	}}
	if !equalDiff(got, want) {
		t.Errorf("Diff =\n %+v\nwant\n %+v", got, want)
	}
	only, err := Diff(old, nw, []string{"Retired", "Storage"})
	if err != nil || len(only.Tags) != 1 || only.Tags[0].Tag != "Retired" {
		t.Errorf("Diff --tag Retired,Storage = %+v, %v", only, err)
	}
	if _, err := Diff(old, nw, []string{"Nope"}); !errors.Is(err, ErrUnknownTag) {
		t.Errorf("unknown tag: err = %v", err)
	}
}

func equalDiff(a, b DiffResult) bool {
	return a.OldChangeNumber == b.OldChangeNumber && a.NewChangeNumber == b.NewChangeNumber &&
		slices.EqualFunc(a.Tags, b.Tags, func(x, y TagDiff) bool {
			return x.Tag == y.Tag && slices.Equal(x.Added, y.Added) && slices.Equal(x.Removed, y.Removed)
		})
}

func TestDiffRealWeeks(t *testing.T) {
	old := mustParse(t, "20250901", testnet.MicrosoftFeed(t, "ServiceTags_Public_20250901.json"))
	nw := mustParse(t, "20250908", testnet.MicrosoftFeed(t, "ServiceTags_Public_20250908.json"))
	d, err := Diff(old, nw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.OldChangeNumber != 369 || d.NewChangeNumber != 370 || len(d.Tags) == 0 {
		t.Fatalf("diff: %d→%d, %d tags", d.OldChangeNumber, d.NewChangeNumber, len(d.Tags))
	}
	// Independently: applying the diff to the old feed's prefixes gives the new ones.
	changed := map[string]TagDiff{}
	for _, td := range d.Tags {
		changed[td.Tag] = td
	}
	names := map[string]bool{}
	for _, tg := range old.Tags {
		names[tg.Name] = true
	}
	for _, tg := range nw.Tags {
		names[tg.Name] = true
	}
	added, removed := 0, 0
	for n := range names {
		var before, after []netip.Prefix
		if tg, ok := old.Tag(n); ok {
			before = slices.Clone(tg.Prefixes)
		}
		if tg, ok := nw.Tag(n); ok {
			after = slices.Clone(tg.Prefixes)
		}
		td := changed[n]
		applied := slices.DeleteFunc(before, func(p netip.Prefix) bool { return slices.Contains(td.Removed, p) })
		applied = append(applied, td.Added...)
		slices.SortFunc(applied, comparePrefix)
		slices.SortFunc(after, comparePrefix)
		if !slices.Equal(slices.Compact(applied), slices.Compact(after)) {
			t.Fatalf("tag %s: old + diff != new", n)
		}
		added += len(td.Added)
		removed += len(td.Removed)
	}
	t.Logf("changeNumber 369→370: %d tags changed, %d prefixes added, %d removed", len(d.Tags), added, removed)
}
