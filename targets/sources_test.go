package targets

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sourceFiles are the extracts in testdata/sources, in the order the region
// tables prefer them (a region's Source is the first file that lists it).
var sourceFiles = []string{srcHANA2083, srcHANA21011, srcESLZ, srcAVM}

// sourceEntry is one region of one source file.
type sourceEntry struct {
	geo, account string // account "" when the file does not name it
	suffix, tld  string // storage suffix and backup TLD (HANA script files only)
	hanaScript   bool
	file         string
	line         int
}

// The script's own line: [region]="https://ACCT.blob.core.SUFFIX,https://ACCT.queue.core.SUFFIX,https://pod01-prot1.GEO.backup.windowsazure.TLD"
var scriptLineRE = regexp.MustCompile(`^\s*\[([a-z0-9]+)\]="https://([a-z0-9]+)\.blob\.core\.([a-z.]+),https://[a-z0-9]+\.queue\.core\.[a-z.]+,https://pod01-prot1\.([a-z0-9]+)\.backup\.windowsazure\.([a-z]+)"\s*$`)

// readSource parses one extract: comment lines start with #; the HANA script
// files have REGION GEO ACCOUNT SUFFIX TLD columns ("-" for an unknown
// account) or the script's own lines, the Landing Zones files REGION GEO.
func readSource(t *testing.T, name string) map[string]sourceEntry {
	t.Helper()
	path := filepath.Join("testdata", "sources", name+".txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hana := strings.HasPrefix(name, "hana-script-")
	out := map[string]sourceEntry{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		var region string
		e := sourceEntry{hanaScript: hana, file: path, line: n}
		if m := scriptLineRE.FindStringSubmatch(line); hana && m != nil {
			region, e.account, e.suffix, e.geo, e.tld = m[1], m[2], m[3], m[4], m[5]
		} else {
			fields := strings.Fields(line)
			switch {
			case hana && len(fields) == 5:
				region, e.geo, e.account, e.suffix, e.tld = fields[0], fields[1], fields[2], fields[3], fields[4]
				if e.account == "-" {
					e.account = ""
				}
			case !hana && len(fields) == 2:
				region, e.geo = fields[0], fields[1]
			default:
				t.Fatalf("%s:%d: cannot parse %q", path, n, line)
			}
		}
		if _, dup := out[region]; dup {
			t.Fatalf("%s:%d: region %s twice", path, n, region)
		}
		out[region] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no regions", path)
	}
	return out
}

// notInTables are the regions the sources list that the region tables leave
// out, and why; every other region of every source must be in a table.
var notInTables = map[string]string{
	"germanycentral":   "Microsoft Cloud Deutschland, closed in 2021",
	"germanynortheast": "Microsoft Cloud Deutschland, closed in 2021",
	"uknorth":          "never a public region: no service tag",
	"uksouth2":         "never a public region: no service tag",
	"usgoviowa":        "retired US Gov region: no service tag",
	"usnateast":        "air-gapped cloud egressprobe has no catalog for",
	"usnatwest":        "air-gapped cloud egressprobe has no catalog for",
	"usseceast":        "air-gapped cloud egressprobe has no catalog for",
	"ussecwest":        "air-gapped cloud egressprobe has no catalog for",
	// No regional AzureBackup tag in the service-tag files the tables are
	// built from (ServiceTags_Public_20250908): add them with their tags.
	"belgiumcentral":    "no AzureBackup.<region> tag in the service-tag file",
	"denmarkeast":       "no AzureBackup.<region> tag in the service-tag file",
	"eastus3":           "no AzureBackup.<region> tag in the service-tag file",
	"indiasouthcentral": "no AzureBackup.<region> tag in the service-tag file",
	"northeastus5":      "no AzureBackup.<region> tag in the service-tag file",
	"southeastus5":      "no AzureBackup.<region> tag in the service-tag file",
	"southwestus":       "no AzureBackup.<region> tag in the service-tag file",
}

// TestRegionsMatchSources checks every row of the region tables against every
// kept source extract: the geo code agrees with each source that lists the
// region, the fabric account is the script's, the public pods are listed
// exactly where the script probes them, and Source names the first file that
// has the region. A refresh is: replace the extract, run this test, fix the
// rows it names.
func TestRegionsMatchSources(t *testing.T) {
	sources := map[string]map[string]sourceEntry{}
	for _, name := range sourceFiles {
		sources[name] = readSource(t, name)
	}
	inTables := map[string]bool{}
	for _, cloud := range CloudNames() {
		c, err := lookupCloud(cloud)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range c.regions {
			inTables[r.Name] = true
			var first string
			pods, account := false, ""
			for _, name := range sourceFiles {
				e, ok := sources[name][r.Name]
				if !ok {
					continue
				}
				if first == "" {
					first = name
				}
				if e.geo != r.Geo {
					t.Errorf("%s: geo %q, but %s:%d says %q", r.Name, r.Geo, e.file, e.line, e.geo)
				}
				if e.hanaScript {
					pods = true
					if e.suffix != strings.TrimPrefix(c.storage, "core.") || e.tld != c.backup[strings.LastIndex(c.backup, ".")+1:] {
						t.Errorf("%s (%s): %s:%d has storage suffix %q and TLD %q", r.Name, cloud, e.file, e.line, e.suffix, e.tld)
					}
					if account == "" {
						account = e.account
					}
				}
			}
			if r.Source != first {
				t.Errorf("%s: source %q, want %q (the first extract that lists it)", r.Name, r.Source, first)
			}
			if r.Pods != pods {
				t.Errorf("%s: pods %v, but the HANA script extracts say %v", r.Name, r.Pods, pods)
			}
			if r.FabricAccount != account {
				t.Errorf("%s: fabric account %q, want %q", r.Name, r.FabricAccount, account)
			}
			if first == "" && r.Geo != "" {
				t.Errorf("%s: geo %q that no source has", r.Name, r.Geo)
			}
		}
	}
	for _, name := range sourceFiles {
		for region, e := range sources[name] {
			_, skip := notInTables[region]
			switch {
			case skip && inTables[region]:
				t.Errorf("%s is in a table and in notInTables", region)
			case !skip && !inTables[region]:
				t.Errorf("%s:%d: region %s (%s) is in no table: add it, or say why in notInTables", e.file, e.line, region, e.geo)
			}
		}
	}
}

// The lists of what the sources added must hold in the tables: the
// refresh brought these codes in.
func TestRegionsNewCodes(t *testing.T) {
	want := map[string]string{
		"israelcentral": "ilc", "italynorth": "itn", "malaysiasouth": "mys", "mexicocentral": "mxc", "newzealandnorth": "nzn",
		"polandcentral": "plc", "qatarcentral": "qac", "spaincentral": "spc", "taiwannorth": "twn", "taiwannorthwest": "tnw",
		"chinaeast3": "sha3", "chinanorth3": "bjb3",
		"austriaeast": "aue", "chilecentral": "clc", "indonesiacentral": "idc", "israelnorthwest": "iln", "malaysiawest": "myw",
		"southcentralus2": "usc2", "southeastus": "use", "southeastus3": "use3",
	}
	for name, geo := range want {
		cloud := CloudPublic
		if strings.HasPrefix(name, "china") {
			cloud = CloudChina
		}
		r, err := LookupRegion(cloud, name)
		if err != nil || r.Geo != geo {
			t.Errorf("%s: %+v %v, want geo %s", name, r, err, geo)
		}
	}
	// Every region of the tables has a code now.
	for _, cloud := range CloudNames() {
		rs, _ := Regions(cloud)
		for _, r := range rs {
			if r.Geo == "" {
				t.Errorf("%s %s has no geo code", cloud, r.Name)
			}
		}
	}
}

// The parser must read the script's own lines, so that a newer block can be
// pasted as it is.
func TestSourceParserReadsScriptLines(t *testing.T) {
	line := `			[westeurope]="https://wepod01fab1wxsa4wq1d.blob.core.windows.net,https://wepod01fab1wxsa4wq1d.queue.core.windows.net,https://pod01-prot1.we.backup.windowsazure.com"`
	m := scriptLineRE.FindStringSubmatch(line)
	if want := []string{"westeurope", "wepod01fab1wxsa4wq1d", "windows.net", "we", "com"}; m == nil || !slices.Equal(m[1:], want) {
		t.Errorf("parsed %q, want %q", m, want)
	}
}
