package servicetags

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"egressprobe/internal/testnet"
)

func TestParseRealFeeds(t *testing.T) {
	tests := []struct {
		file         string
		cloud        string
		changeNumber int64
		tags         int
		prefixes     int
	}{
		{"ServiceTags_Public_20250908.json", "Public", 370, 3002, 91597},
		{"ServiceTags_Public_20250901.json", "Public", 369, 2967, 91409},
		{"ServiceTags_China_20260720.json", "China", 405, 327, 4390},
		{"ServiceTags_China_20260713.json", "China", 404, 327, 4398},
		{"ServiceTags_AzureGovernment_20260720.json", "AzureGovernment", 402, 299, 6591},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := mustParse(t, tt.file, testnet.MicrosoftFeed(t, tt.file))
			if f.Cloud != tt.cloud || f.ChangeNumber != tt.changeNumber || len(f.Tags) != tt.tags || f.NumPrefixes() != tt.prefixes {
				t.Errorf("got cloud %s changeNumber %d, %d tags, %d prefixes; want %s %d, %d, %d",
					f.Cloud, f.ChangeNumber, len(f.Tags), f.NumPrefixes(), tt.cloud, tt.changeNumber, tt.tags, tt.prefixes)
			}
			if _, err := ParseCloud(f.Cloud); err != nil {
				t.Errorf("feed cloud %q is not a known cloud: %v", f.Cloud, err)
			}
		})
	}
}

func TestParseFixture(t *testing.T) {
	f := mustParse(t, "small_old.json", fixture(t, "small_old.json"))
	bk, ok := f.Tag("AzureBackup.WestEurope")
	if !ok {
		t.Fatal("AzureBackup.WestEurope missing")
	}
	if bk.Region != "westeurope" || bk.RegionID != 18 || bk.SystemService != "AzureBackup" || bk.ChangeNumber != 1 ||
		len(bk.Prefixes) != 4 || bk.Prefixes[3].String() != "2603:1020:206::/48" || strings.Join(bk.NetworkFeatures, ",") != "NSG" {
		t.Errorf("AzureBackup.WestEurope parsed as %+v", bk)
	}
}

// A well-formed tag, to build malformed files around.
const goodTag = `{"name":"AzureBackup","id":"AzureBackup","properties":{"changeNumber":1,"region":"","regionId":0,"platform":"Azure","systemService":"AzureBackup","addressPrefixes":["10.0.0.0/24"],"networkFeatures":null}}`

func TestParseMalformed(t *testing.T) {
	good := `{"changeNumber":1,"cloud":"Public","values":[` + goodTag + `]}`
	tests := []struct {
		name string
		data string
		want []string // all must appear in the error
	}{
		{"empty", "", []string{"f.json", "empty"}},
		{"whitespace only", " \n\t", []string{"empty"}},
		{"truncated", good[:len(good)/2], []string{"f.json", "truncated"}},
		{"html", "<!DOCTYPE html><html><body>Access denied</body></html>", []string{"f.json", "HTML, not JSON"}},
		{"not an object", `[1,2]`, []string{"not a JSON object"}},
		{"syntax error", `{"changeNumber":1,,"cloud":"Public"}`, []string{"not valid JSON at byte"}},
		{"bad cidr", strings.Replace(good, "10.0.0.0/24", "10.0.0.300/24", 1),
			[]string{"f.json", `tag "AzureBackup"`, `bad prefix "10.0.0.300/24"`, "egressprobe servicetags update"}},
		{"bad v6 cidr", strings.Replace(good, "10.0.0.0/24", "2603:1000::/129", 1), []string{`bad prefix "2603:1000::/129"`}},
		{"v4-mapped v6", strings.Replace(good, "10.0.0.0/24", "::ffff:10.0.0.0/120", 1), []string{"IPv4-mapped"}},
		{"address without length", strings.Replace(good, "10.0.0.0/24", "10.0.0.1", 1), []string{`bad prefix "10.0.0.1"`}},
		{"wrong type changeNumber", `{"changeNumber":"1","cloud":"Public","values":[` + goodTag + `]}`, []string{"changeNumber", "string"}},
		{"wrong type prefix", strings.Replace(good, `["10.0.0.0/24"]`, `[10]`, 1),
			[]string{`tag "AzureBackup" (values[0])`, "addressPrefixes", "number"}},
		{"wrong type values", `{"changeNumber":1,"cloud":"Public","values":{}}`, []string{"values", "object"}},
		{"missing cloud", `{"changeNumber":1,"values":[` + goodTag + `]}`, []string{`"cloud" is missing`}},
		{"empty cloud", `{"changeNumber":1,"cloud":"","values":[` + goodTag + `]}`, []string{`"cloud" is missing or empty`}},
		{"missing changeNumber", `{"cloud":"Public","values":[` + goodTag + `]}`, []string{`"changeNumber" is missing`}},
		{"no tags", `{"changeNumber":1,"cloud":"Public","values":[]}`, []string{`"values" has no tags`}},
		{"duplicate names", `{"changeNumber":1,"cloud":"Public","values":[` + goodTag + `,` + goodTag + `]}`,
			[]string{`tag "AzureBackup" appears twice (values[0] and values[1])`}},
		{"nameless tag", `{"changeNumber":1,"cloud":"Public","values":[{"name":""}]}`, []string{"values[0] has no name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("f.json", []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", f)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
	if _, err := Parse("f.json", []byte(good)); err != nil {
		t.Fatalf("the well-formed base file is rejected: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"changeNumber":1,"cloud":"Public","values":[` + goodTag + `]}`))
	f.Add(fixture(f, "small_old.json"))
	f.Add([]byte(`{"changeNumber":1,"cloud":"Public","values":[{"name":"x","properties":{"addressPrefixes":["::ffff:1.2.3.4/120"]}}]}`))
	f.Add([]byte("<html>"))
	f.Add([]byte(`{"values":[{"name":1}]}`))
	f.Add([]byte(`{"changeNumber":1,"Cloud":"Public","cloud":"China","values":[{"NAME":"x","properties":{"networkFeatures":["a"],"networkFeatures":null,"addressPrefixes":["10.0.0.0/8"]}}]}`))
	f.Add([]byte(`{"changeNumber":1e3,"cloud":"Public","values":[{"name":"\u0041","properties":{"regionId":-0}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The gjson fast path must agree with encoding/json wherever it answers.
		if fast, ok := decodeFast(data); ok {
			var slow rawFeed
			if err := json.Unmarshal(data, &slow); err != nil {
				t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, data)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast path decoded %q differently:\n fast %+v\n slow %+v", data, fast, slow)
			}
		}
		feed, err := Parse("fuzz.json", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "fuzz.json: ") {
				t.Fatalf("error does not name the file or wrap ErrInvalid: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, tag := range feed.Tags {
			if tag.Name == "" || seen[tag.Name] {
				t.Fatalf("accepted empty or duplicate name %q", tag.Name)
			}
			seen[tag.Name] = true
			for _, p := range tag.Prefixes {
				if !p.IsValid() || p != p.Masked() {
					t.Fatalf("accepted invalid or unmasked prefix %v", p)
				}
			}
		}
		// Whatever parses must survive the index and the binary cache form.
		ix := NewIndex(feed)
		for _, tag := range feed.Tags {
			for _, p := range tag.Prefixes {
				if len(ix.Lookup(p.Addr())) == 0 {
					t.Fatalf("prefix %v of %q not found in the index", p, tag.Name)
				}
			}
		}
	})
}
