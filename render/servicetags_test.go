package render

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"egressprobe/servicetags"
)

// One fixed set of results per command, rendered in every format and compared
// with the golden files under testdata/servicetags (go test ./render -update).
func serviceTagsGolden(t *testing.T, name string, write func(*bytes.Buffer) error) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("..", "servicetags", name), b.Bytes())
}

var stPfx = netip.MustParsePrefix

func stLookupFixture() []LookupResult {
	return []LookupResult{
		{IP: netip.MustParseAddr("20.4.1.7"), Matches: []servicetags.Match{
			{TagInfo: &servicetags.TagInfo{Tag: "AzureBackup.WestEurope", Region: "westeurope", SystemService: "AzureBackup"}, Prefix: stPfx("20.4.1.0/24")},
			{TagInfo: &servicetags.TagInfo{Tag: "AzureCloud"}, Prefix: stPfx("20.0.0.0/11")},
		}},
		{IP: netip.MustParseAddr("2603:1020:206::1")},
		{IP: netip.MustParseAddr("40.126.0.9"), Matches: []servicetags.Match{
			{TagInfo: &servicetags.TagInfo{Tag: `Odd,"Name"`, SystemService: "AzureAD"}, Prefix: stPfx("40.126.0.0/18")},
		}},
	}
}

func stExportFixture() servicetags.Export {
	return servicetags.Export{Cloud: "Public", ChangeNumber: 370, Tags: []string{"AzureBackup", "Storage"},
		Prefixes: []netip.Prefix{stPfx("20.4.1.0/24"), stPfx("20.60.0.0/16"), stPfx("2603:1020:206::/48")}}
}

func TestServiceTagsGolden(t *testing.T) {
	diff := servicetags.DiffResult{OldChangeNumber: 369, NewChangeNumber: 370, Tags: []servicetags.TagDiff{
		{Tag: "AzureBackup", Added: []netip.Prefix{stPfx("20.4.9.0/24")}, Removed: []netip.Prefix{stPfx("40.74.10.0/26")}},
		{Tag: "Retired", Added: []netip.Prefix{}, Removed: []netip.Prefix{stPfx("198.51.100.0/24")}},
	}}
	upd := UpdateView{Cloud: "public", Status: "updated", ChangeNumber: 370, PreviousChangeNumber: 369,
		Source: "https://download.microsoft.com/download/7/1/d/x/ServiceTags_Public_20250908.json", Path: "/cache/egressprobe/servicetags/ServiceTags_Public.json"}
	rules := []NSGRule{{Name: "Allow-AzureBackup-Outbound-443", Priority: 100, Tag: "AzureBackup", Command: "az network nsg rule create --name Allow-AzureBackup-Outbound-443"}}
	for _, f := range ServiceTagsFormats() {
		serviceTagsGolden(t, "lookup."+f, func(b *bytes.Buffer) error { return ServiceTagsLookup(b, stLookupFixture(), f) })
		serviceTagsGolden(t, "diff."+f, func(b *bytes.Buffer) error { return ServiceTagsDiff(b, diff, f) })
		serviceTagsGolden(t, "update."+f, func(b *bytes.Buffer) error { return ServiceTagsUpdate(b, upd, f) })
	}
	for _, f := range ExportFormats() {
		serviceTagsGolden(t, "export."+f, func(b *bytes.Buffer) error {
			return ServiceTagsExport(b, stExportFixture(), f, ExportOptions{Name: "mars-egress", Port: 443})
		})
	}
	for _, f := range NSGRulesFormats() {
		serviceTagsGolden(t, "nsg."+f, func(b *bytes.Buffer) error { return ServiceTagsNSGRules(b, rules, f) })
	}
}

func TestServiceTagsUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	for _, err := range []error{
		ServiceTagsLookup(&b, nil, "yaml"),
		ServiceTagsExport(&b, stExportFixture(), "pf", ExportOptions{}),
		ServiceTagsNSGRules(&b, nil, "ps1"),
	} {
		if err == nil || !strings.Contains(err.Error(), "unknown output format") {
			t.Errorf("err = %v", err)
		}
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q for an unknown format", b.String())
	}
}

// Windows rules split long address lists; every address appears exactly once.
func TestServiceTagsWindowsChunks(t *testing.T) {
	var ps []netip.Prefix
	for i := range 2500 {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24))
	}
	var b bytes.Buffer
	if err := ServiceTagsExport(&b, servicetags.Export{Prefixes: ps}, "windows-firewall", ExportOptions{Name: "x", Port: 443}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "New-NetFirewallRule"); n != 3 || !strings.Contains(out, `"x 3/3"`) {
		t.Errorf("%d rules for 2500 prefixes", n)
	}
	for _, p := range []string{"10.0.0.0/24", "10.9.195.0/24"} {
		if strings.Count(out, `"`+p+`"`) != 1 {
			t.Errorf("%s not exactly once", p)
		}
	}
}
