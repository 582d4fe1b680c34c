package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func TestTargetsList(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"default public", []string{"targets", "list"},
			[]string{"cloud public (no --region", "https://login.microsoftonline.com", "http://www.msftncsi.com/ncsi.txt", "*.windowsazure.com ", "Sources:"},
			[]string{"backup.windowsazure.com"}},
		{"china region", []string{"targets", "list", "--cloud", "AzureChinaCloud", "--region", "China East 2"},
			[]string{"cloud china, region China East 2 (Backup geo code sha2)", "https://pod01-prot1.sha2.backup.windowsazure.cn", "Storage.ChinaEast2", "login.partner.microsoftonline.cn"},
			[]string{"login.microsoftonline.com"}},
		{"user additions", []string{"targets", "list", "--region", "westeurope", "--storage-account", "contoso1", "--member", "app.contoso.example", "--vault", "42"},
			[]string{"contoso1.blob.core.windows.net", "--storage-account", "app.contoso.example", "dns:42-ab-pod01-wbcm1.privatelink.we.backup.windowsazure.com",
				"--vault: documented", "pod01-manag1.we.backup.windowsazure.com", "catalog: observed"},
			// The public form of a vault's names does not exist; rec2 is no MARS name.
			[]string{"42-ab-pod01-wbcm1.we.", "pod01-rec2.we"}},
		// No source shows public pods for the EUAP test regions.
		{"test region", []string{"targets", "list", "--region", "centraluseuap"},
			[]string{"Backup geo code ccy for --vault; no public pod names published"},
			[]string{"pod01-prot1.ccy", "pod01-id1.ccy", "pod01-manag1.ccy"}},
		{"new region", []string{"targets", "list", "--region", "italynorth"},
			[]string{"Backup geo code itn)", "https://pod01-prot1.itn.backup.windowsazure.com"},
			[]string{"no published"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestTargetsListJSONAndCSV(t *testing.T) {
	code, out, errOut := runCLI(t, "", "targets", "list", "--cloud", "usgov", "--region", "usgovtexas", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Cloud     string `json:"cloud"`
		Endpoints []struct {
			Host         string   `json:"host"`
			ExpectedTags []string `json:"expected_tags"`
			Evidence     string   `json:"evidence"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	found := false
	for _, e := range got.Endpoints {
		if e.Host == "pod01-prot1.ugt.backup.windowsazure.us" && strings.Join(e.ExpectedTags, ",") == "AzureBackup.USGovTexas" && e.Evidence == "observed" {
			found = true
		}
	}
	if got.Cloud != "usgov" || !found {
		t.Errorf("json: %+v", got)
	}

	code, out, _ = runCLI(t, "", "targets", "list", "-o", "CSV")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(rows) < 2 || rows[0][0] != "family" {
		t.Errorf("csv: exit %d, err %v, rows %v", code, err, rows)
	}
}

func TestTargetsListUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown cloud", []string{"--cloud", "mars"}, `--cloud: unknown cloud "mars"; use one of public, china, usgov`},
		{"unknown region", []string{"--region", "Atlantis"}, `--region: unknown region "Atlantis" for cloud public; give the region's name as Azure writes it`},
		{"region of other cloud", []string{"--cloud", "china", "--region", "westeurope"}, `unknown region "westeurope" for cloud china`},
		{"bad format", []string{"-o", "yaml"}, `-o: unknown output format "yaml"; use one of table, json, csv`},
		{"bad member", []string{"--member", "*.windows.net"}, `--member "*.windows.net"`},
		{"bad storage account", []string{"--storage-account", "Bad_Name"}, `--storage-account "Bad_Name"`},
		{"vault without region", []string{"--vault", "42"}, "--vault needs --region"},
		{"bad vault id", []string{"--region", "westeurope", "--vault", "my-vault"}, `--vault "my-vault": a vault ID is the number before "-ab-pod01-"`},
		{"private endpoint without vault", []string{"--region", "westeurope", "--private-endpoint"}, "--private-endpoint says the vault uses a private endpoint: name the vault with --vault ID"},
		{"positional argument", []string{"extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"targets", "list"}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stderr %q: want one line containing %q", errOut, tt.want)
			}
		})
	}
	if code, _, errOut := runCLI(t, "", "targets"); code != exitUsage || !strings.Contains(errOut, "needs a subcommand") {
		t.Errorf("bare targets: exit %d, stderr %q", code, errOut)
	}
}
