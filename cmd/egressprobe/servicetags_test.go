package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
)

var (
	stOld = filepath.Join("..", "..", "testdata", "servicetags", "small_old.json")
	stNew = filepath.Join("..", "..", "testdata", "servicetags", "small_new.json")
)

// isolatedCache points the user cache directory at a fresh temp dir.
func isolatedCache(t *testing.T) string {
	t.Helper()
	dir := testenv.TempDir(t)
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("LocalAppData", dir)
	return filepath.Join(dir, "egressprobe", "servicetags")
}

func TestServiceTagsLookupJSONContract(t *testing.T) {
	isolatedCache(t)
	code, out, errOut := runCLI(t, "", "servicetags", "lookup", "--service-tags", stOld, "-o", "json", "20.4.1.7", "192.0.2.1", "::ffff:40.126.0.9")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []struct {
		IP      string           `json:"ip"`
		Matches []map[string]any `json:"matches"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not the JSON contract: %v\n%s", err, out)
	}
	if len(got) != 3 || got[0].IP != "20.4.1.7" || got[1].IP != "192.0.2.1" || got[2].IP != "::ffff:40.126.0.9" {
		t.Fatalf("not one element per input in input order: %s", out)
	}
	if len(got[0].Matches) != 4 || got[0].Matches[0]["tag"] != "AzureBackup" || got[0].Matches[0]["prefix"] != "20.4.1.0/24" ||
		got[0].Matches[1]["region"] != "westeurope" || got[0].Matches[1]["system_service"] != "AzureBackup" || got[0].Matches[3]["tag"] != "AzureCloud" {
		t.Errorf("matches of 20.4.1.7: %v", got[0].Matches)
	}
	if got[1].Matches == nil || len(got[1].Matches) != 0 || !strings.Contains(out, `"matches": []`) {
		t.Errorf("an IP in no tag must have \"matches\": [], got %v", got[1].Matches)
	}
	if len(got[2].Matches) != 2 || got[2].Matches[0]["tag"] != "AzureActiveDirectory" {
		t.Errorf("IPv4-mapped address: %v", got[2].Matches)
	}
	for _, m := range got[0].Matches {
		keys := []string{}
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"prefix", "region", "system_service", "tag"}) {
			t.Fatalf("match keys %v", keys)
		}
	}
}

func TestServiceTagsLookupInputs(t *testing.T) {
	isolatedCache(t)
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		out, err    string
	}{
		{"stdin lines", "# resolved\n20.4.3.9\n\n40.74.10.1\n", nil, exitOK, "Storage.WestEurope", ""},
		{"csv", "", []string{"-o", "csv", "20.4.3.9"}, exitOK, "ip,tag,region,system_service,prefix\n20.4.3.9,Storage,,AzureStorage,20.4.3.0/24\n", ""},
		{"bad stdin line", "20.4.3.9\nbackup.windowsazure.com\n", nil, exitUsage, "", `stdin line 2: "backup.windowsazure.com" is not an IP address`},
		{"bad argument", "", []string{"20.4.3.900"}, exitUsage, "", `argument "20.4.3.900" is not an IP address`},
		{"no input", "", nil, exitUsage, "", "no IP addresses given"},
		{"bad format", "", []string{"-o", "yaml", "20.4.3.9"}, exitUsage, "", `-o: unknown output format "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"servicetags", "lookup", "--service-tags", stOld}, tt.args...)
			code, out, errOut := runCLI(t, tt.stdin, args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.out, tt.err)
			}
			if code != exitOK && out != "" {
				t.Errorf("stdout on error: %q", out)
			}
		})
	}
}

func TestServiceTagsUpdateThenCachedLookup(t *testing.T) {
	cache := isolatedCache(t)
	code, _, errOut := runCLI(t, "", "servicetags", "lookup", "20.4.1.7")
	if code != exitFailure || !strings.Contains(errOut, "servicetags update --cloud public") {
		t.Fatalf("lookup without a cache: exit %d, %q", code, errOut)
	}
	code, out, errOut := runCLI(t, "", "servicetags", "update", "--source", stOld, "-o", "json")
	if code != exitOK || !strings.Contains(out, `"status": "updated"`) || !strings.Contains(out, `"change_number": 7`) {
		t.Fatalf("update --source FILE: exit %d, %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(cache, "ServiceTags_Public.json")); err != nil {
		t.Fatalf("not cached under XDG_CACHE_HOME: %v", err)
	}
	code, out, _ = runCLI(t, "", "servicetags", "lookup", "-o", "csv", "20.4.1.7")
	if code != exitOK || !strings.Contains(out, "AzureBackup.WestEurope") {
		t.Fatalf("lookup from the cache: exit %d, %s", code, out)
	}

	// Failures keep the cache and say how old it is, in one line.
	bad := filepath.Join(testenv.TempDir(t), "ServiceTags_Public_bad.json")
	if err := os.WriteFile(bad, []byte(`{"changeNumber":9,"cloud":"Public","values":[{"name":"X","properties":{"addressPrefixes":["10.0.0.300/24"]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad file", []string{"--source", bad}, exitUsage, `tag "X": bad prefix "10.0.0.300/24"`},
		{"offline", []string{"--source", "https://127.0.0.1:1/ServiceTags_Public_20250908.json", "--timeout", "3s"}, exitFailure, "GET https://127.0.0.1:1/"},
		{"older", []string{"--source", stOld, "--cloud", "china"}, exitFailure, "is the Public feed, not the China feed of --cloud china"},
		{"unknown cloud", []string{"--cloud", "mars"}, exitUsage, `unknown cloud "mars"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"servicetags", "update"}, tc.args...)...)
			if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and one line with %q", code, out, errOut, tc.code, tc.want)
			}
			if tc.code == exitFailure && tc.name == "offline" && !strings.Contains(errOut, "kept the cached copy") {
				t.Errorf("no cached-copy age in %q", errOut)
			}
		})
	}
	if code, out, _ := runCLI(t, "", "servicetags", "lookup", "-o", "csv", "20.4.1.7"); code != exitOK || !strings.Contains(out, "AzureBackup.WestEurope") {
		t.Fatalf("cache damaged by failed updates: exit %d, %s", code, out)
	}
	code, _, errOut = runCLI(t, "", "servicetags", "update", "--source", stNew)
	if code != exitOK {
		t.Fatalf("newer feed: exit %d, %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "servicetags", "update", "--source", stOld)
	if code != exitFailure || !strings.Contains(errOut, "changeNumber 7, older than the cached 8") {
		t.Fatalf("older feed: exit %d, %s", code, errOut)
	}
	if code, _, errOut = runCLI(t, "", "servicetags", "update", "--source", stOld, "--force"); code != exitOK {
		t.Fatalf("--force: exit %d, %s", code, errOut)
	}
}

func TestAgeText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "0m", 59 * time.Minute: "59m", 5*time.Hour + 10*time.Minute: "5h10m", 76 * time.Hour: "3d4h",
	} {
		if got := ageText(d); got != want {
			t.Errorf("ageText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestServiceTagsExport(t *testing.T) {
	isolatedCache(t)
	base := []string{"servicetags", "export", "--service-tags", stOld}
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"txt merged", []string{"--tag", "AzureBackup,Storage"}, exitOK, "20.4.1.0/24\n20.4.2.0/23\n20.60.0.0/16\n40.74.10.0/26\n2603:1020:206::/48\n", ""},
		{"ipv6 only", []string{"--tag", "AzureBackup", "--ipv6"}, exitOK, "2603:1020:206::/48\n", ""},
		{"region", []string{"--tag", "AzureBackup,AzureActiveDirectory", "--region", "westeurope", "--ipv4", "-f", "csv"}, exitOK,
			"cidr,family\n20.4.1.0/24,ipv4\n20.4.2.0/24,ipv4\n20.190.128.0/18,ipv4\n40.74.10.0/26,ipv4\n40.126.0.0/18,ipv4\n", "AzureActiveDirectory has no tag for region westeurope"},
		{"unknown tag", []string{"--tag", "azurebackup"}, exitUsage, "", `did you mean AzureBackup?`},
		{"no tag", nil, exitUsage, "", "--tag: required"},
		{"both families", []string{"--tag", "Storage", "--ipv4", "--ipv6"}, exitUsage, "", "exclude each other"},
		{"bad format", []string{"--tag", "Storage", "-f", "pf"}, exitUsage, "", `-f: unknown format "pf"`},
		{"-o json", []string{"--tag", "Storage", "-o", "json"}, exitOK, `"prefixes": [
    "20.4.3.0/24",
    "20.60.0.0/16"
  ]`, ""},
		{"-o table", []string{"--tag", "Storage", "-o", "table"}, exitOK, "│ 20.60.0.0/16 │ ipv4   │", ""},
		{"-o txt", []string{"--tag", "Storage", "-o", "txt"}, exitUsage, "", `-o: unknown output format "txt"`},
		{"-o and -f disagree", []string{"--tag", "Storage", "-o", "csv", "-f", "nft"}, exitUsage, "", "disagree"},
		{"bad name", []string{"--tag", "Storage", "--name", "a;b"}, exitUsage, "", `--name: "a;b" is not a rule name`},
		{"windows", []string{"--tag", "Storage", "-f", "windows-firewall"}, exitOK,
			`New-NetFirewallRule -DisplayName "egressprobe-servicetags 1/1" -Direction Outbound -Action Allow -Protocol TCP -RemotePort 443 -RemoteAddress @("20.4.3.0/24","20.60.0.0/16")`, ""},
		{"iptables", []string{"--tag", "Storage", "-f", "iptables", "--port", "8443"}, exitOK,
			"ipset add egressprobe-servicetags-v4 20.60.0.0/16 -exist\niptables -A OUTPUT -p tcp --dport 8443 -m set --match-set egressprobe-servicetags-v4 dst -j ACCEPT\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append(base, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.code, tt.out, tt.err)
			}
		})
	}
}

// TestServiceTagsExportNftLoads has nft itself check the generated file.
func TestServiceTagsExportNftLoads(t *testing.T) {
	isolatedCache(t)
	nft, err := exec.LookPath("nft")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nft missing in CI (Debian package nftables)")
		}
		t.Skip("nft not installed (Debian package nftables)")
	}
	code, out, errOut := runCLI(t, "", "servicetags", "export", "--service-tags", stOld, "--tag", "AzureBackup,Storage,AzureActiveDirectory", "-f", "nft")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	file := filepath.Join(testenv.TempDir(t), "st.nft")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	// -c only parses and checks; it changes no ruleset. Checking needs
	// CAP_NET_ADMIN for the kernel's cache, so a non-root run skips.
	res, err := exec.Command(nft, "-c", "-f", file).CombinedOutput()
	if err != nil && strings.Contains(string(res), "Operation not permitted") && os.Getenv("CI") != "true" {
		t.Skipf("nft -c needs root here: %s", res)
	}
	if err != nil {
		t.Fatalf("nft -c -f rejects the export: %v\n%s\n%s", err, res, out)
	}
}

func TestServiceTagsDiff(t *testing.T) {
	isolatedCache(t)
	code, out, errOut := runCLI(t, "", "servicetags", "diff", stOld, stNew, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		Old  int64 `json:"old_change_number"`
		New  int64 `json:"new_change_number"`
		Tags []struct {
			Tag     string   `json:"tag"`
			Added   []string `json:"added"`
			Removed []string `json:"removed"`
		} `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if d.Old != 7 || d.New != 8 || len(d.Tags) != 4 || d.Tags[3].Tag != "Retired" || d.Tags[3].Added == nil ||
		len(d.Tags[3].Removed) != 1 || d.Tags[1].Tag != "AzureBackup.NorthEurope" || d.Tags[1].Added[0] != "40.69.0.0/26" {
		t.Errorf("diff JSON: %s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{stOld, stNew, "--tag", "Retired", "-o", "csv"}, exitOK, "tag,change,prefix\nRetired,removed,198.51.100.0/24\n"},
		{[]string{stOld, stNew, "--tag", "Nope"}, exitUsage, `tag "Nope" is in neither feed`},
		{[]string{stOld, "missing.json"}, exitUsage, "missing.json"},
		{[]string{stOld}, exitUsage, "accepts 2 arg(s)"},
	} {
		code, out, errOut := runCLI(t, "", append([]string{"servicetags", "diff"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("diff %v: exit %d, %q %q; want %d, %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
	}
}

func TestServiceTagsNSGRules(t *testing.T) {
	code, out, errOut := runCLI(t, "", "servicetags", "nsg-rules", "--nsg", "backup-nsg", "--resource-group", "rg-backup")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 commands:\n%s", out)
	}
	names, prios := map[string]bool{}, map[string]bool{}
	for i, l := range lines {
		f := strings.Fields(l)
		flag := func(name string) string {
			i := slices.Index(f, name)
			if i < 0 || i+1 >= len(f) {
				t.Fatalf("%s missing in %q", name, l)
			}
			return f[i+1]
		}
		if !strings.HasPrefix(l, "az network nsg rule create ") || flag("--nsg-name") != "backup-nsg" || flag("--resource-group") != "rg-backup" ||
			flag("--direction") != "Outbound" || flag("--protocol") != "Tcp" || flag("--destination-port-ranges") != "443" ||
			flag("--access") != "Allow" || flag("--destination-address-prefixes") != nsgTags[i] {
			t.Errorf("command %d: %s", i, l)
		}
		names[flag("--name")], prios[flag("--priority")] = true, true
	}
	if len(names) != 3 || len(prios) != 3 {
		t.Errorf("names or priorities not distinct: %v %v", names, prios)
	}
	for _, args := range [][]string{{"--nsg", "n"}, {"--nsg", "n;rm", "--resource-group", "g"}, {"--nsg", "n", "--resource-group", "g", "--priority", "4090"}} {
		if code, _, _ := runCLI(t, "", append([]string{"servicetags", "nsg-rules"}, args...)...); code != exitUsage {
			t.Errorf("nsg-rules %v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, out, _ := runCLI(t, "", "servicetags", "nsg-rules", "--nsg", "n", "--resource-group", "g", "--priority", "200", "-o", "json"); code != exitOK ||
		!strings.Contains(out, `"priority": 220`) || !strings.Contains(out, `"destination_service_tag": "AzureActiveDirectory"`) {
		t.Errorf("-o json: %s", out)
	}
}
