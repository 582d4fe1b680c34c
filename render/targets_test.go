package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"egressprobe/targets"
)

// targetsGolden compares got with testdata/targets/name, or rewrites it with
// -update, through the package's golden helper (check_test.go), whose
// directory is testdata/check.
func targetsGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden(t, filepath.Join("..", "targets", name), got)
}

func listing(t *testing.T, cloud, region string, opts targets.Options) TargetsListing {
	t.Helper()
	opts.Region = region
	eps, err := targets.Catalog(cloud, opts)
	if err != nil {
		t.Fatal(err)
	}
	unc, err := targets.Uncovered(cloud, eps)
	if err != nil {
		t.Fatal(err)
	}
	l := TargetsListing{Cloud: cloud, Endpoints: eps, Uncovered: unc}
	if region != "" {
		r, err := targets.LookupRegion(cloud, region)
		if err != nil {
			t.Fatal(err)
		}
		l.Region, l.Geo, l.Pods = r.Display, r.Geo, r.Pods
	}
	return l
}

func TestTargetsGolden(t *testing.T) {
	we := listing(t, "public", "westeurope", targets.Options{StorageAccounts: []string{"contosobackup"}, Members: []string{"backup.contoso.example"}})
	tests := []struct {
		file, format string
		l            TargetsListing
	}{
		{"public-westeurope.txt", "table", we},
		{"public-westeurope.json", "json", we},
		{"public-westeurope.csv", "csv", we},
		{"public.txt", "", listing(t, "public", "", targets.Options{})},
		{"china-chinanorth3.txt", "table", listing(t, "china", "chinanorth3", targets.Options{})},
		{"usgov-usgovvirginia.txt", "table", listing(t, "usgov", "usgovvirginia", targets.Options{})},
		{"public-austriaeast-vault.txt", "table", listing(t, "public", "austriaeast", targets.Options{Vaults: []string{"1132794570626989392"}, PrivateEndpoint: true})},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Targets(&b, tt.l, tt.format); err != nil {
				t.Fatal(err)
			}
			targetsGolden(t, tt.file, b.Bytes())
		})
	}
}

// The golden files are checked by eye once; these properties keep holding
// whatever the catalog grows into.
func TestTargetsTableProperties(t *testing.T) {
	// Every region: no host, tag or source may be cut by wrapping.
	for _, cloud := range targets.CloudNames() {
		regions, err := targets.Regions(cloud)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regions {
			l := listing(t, cloud, r.Name, targets.Options{})
			var b bytes.Buffer
			if err := Targets(&b, l, "table"); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, e := range l.Endpoints {
				for _, s := range append([]string{e.URL(), e.Doc}, e.ExpectedTags...) {
					if !strings.Contains(out, s) {
						t.Errorf("%s %s: table lacks %q", cloud, r.Name, s)
					}
				}
			}
		}
	}
	l := listing(t, "public", "westeurope", targets.Options{})
	var b bytes.Buffer
	if err := Targets(&b, l, "table"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, "*.windowsazure.com") != 1 {
		t.Errorf("family *.windowsazure.com should head its group once:\n%s", out)
	}
	if !strings.Contains(out, "*.blob.storage.azure.net") || !strings.Contains(out, "no member to probe") {
		t.Errorf("uncovered family not listed:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("table has ANSI escapes")
	}
}

func TestTargetsJSONRoundTrip(t *testing.T) {
	l := listing(t, "china", "chinaeast2", targets.Options{})
	l.Endpoints = append(l.Endpoints, targets.Endpoint{Host: "a.example", Port: 443, Scheme: "https", Family: "custom",
		ExpectedTags: []string{}, Timeout: 1500 * time.Millisecond, Source: "t.yaml:3"})
	var b bytes.Buffer
	if err := Targets(&b, l, "JSON"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Cloud     string `json:"cloud"`
		Region    string `json:"region"`
		Endpoints []struct {
			Host         string   `json:"host"`
			ExpectedTags []string `json:"expected_tags"`
			ExpectAddrs  []string `json:"expect_addrs"`
			Timeout      string   `json:"timeout"`
		} `json:"endpoints"`
		Uncovered []struct {
			Family string `json:"family"`
		} `json:"uncovered_families"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Cloud != "china" || got.Region != "China East 2" || len(got.Endpoints) != len(l.Endpoints) || len(got.Uncovered) != len(l.Uncovered) {
		t.Fatalf("got %+v", got)
	}
	last := got.Endpoints[len(got.Endpoints)-1]
	if last.Timeout != "1.5s" || last.ExpectedTags == nil {
		t.Errorf("custom endpoint: %+v", last)
	}
	for _, e := range got.Endpoints {
		if e.Host == "dns.msftncsi.com" && strings.Join(e.ExpectAddrs, ",") != "131.107.255.255,fd3e:4f5a:5b81::1" {
			t.Errorf("dns.msftncsi.com addrs %v", e.ExpectAddrs)
		}
	}
}

func TestTargetsCSV(t *testing.T) {
	l := listing(t, "usgov", "usgovtexas", targets.Options{})
	var b bytes.Buffer
	if err := Targets(&b, l, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(l.Endpoints)+1 || rows[0][1] != "host" {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	for i, e := range l.Endpoints {
		if rows[i+1][1] != e.Host || rows[i+1][5] != strings.Join(e.ExpectedTags, ";") {
			t.Errorf("row %d: %v for %s", i+1, rows[i+1], e.Host)
		}
	}
}

func TestTargetsBadFormat(t *testing.T) {
	var b bytes.Buffer
	err := Targets(&b, TargetsListing{Cloud: "public"}, "yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) || !strings.Contains(err.Error(), "table, json, csv") {
		t.Errorf("error %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q on error", b.String())
	}
}
