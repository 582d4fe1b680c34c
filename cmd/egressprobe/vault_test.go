package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"egressprobe/internal/testnet"
	"egressprobe/probe"
	"egressprobe/report"
)

// vaultLab serves the public catalog of a region without pods (Austria East:
// its geo code comes only from the Landing Zones maps) on loopback, so that a
// check --vault run's exit status depends on the vault's names alone: the
// sign-in and download hosts answer TLS on 127.0.93.1:443, NCSI and the
// certificate authorities as Windows expects on port 80. The vault's records are whatever zone says. Ports 80
// and 443 are the catalog's, so this needs root.
func vaultLab(t *testing.T, vaultNames func(zone testnet.DNSZone, names []string)) (resolver, caFile string) {
	t.Helper()
	listen := catalogListen(t)
	l := newLab(t)
	hosts := []string{"login.microsoft.com", "download.microsoft.com", "login.microsoftonline.com", "loginex.microsoftonline.com",
		"login.windows.net", "graph.windows.net", "login.microsoftonline-p.com"}
	cert := l.ca.Leaf(t, hosts, nil, testnet.LeafOptions{})
	testnet.ServeHTTPOn(t, listen("127.0.93.1:443"), testnet.NCSI("ok"), &cert)
	l.serveNCSI(t, listen, "127.0.93.8")
	l.serveAuthorities(t, listen, "127.0.93.9", "public")
	for _, h := range hosts {
		l.zone[h] = testnet.DNSName{A: a("127.0.93.1")}
	}
	var names []string
	for _, svc := range []string{"fc1", "fab1", "prot1", "rec2", "ecs1", "id1", "tel1", "wbcm1"} {
		names = append(names, vaultID+"-ab-pod01-"+svc+".privatelink.aue.backup.windowsazure.com")
	}
	vaultNames(l.zone, names)
	return l.start(t), l.caFile
}

const vaultID = "1132794570626989392"

// TestCheckVault runs check --vault (and --private-endpoint) end to end for
// the three DNS answers a vault's private-endpoint names can get: none (no
// private endpoint, or a resolver without the private zone), a private one
// (the endpoint in use), and a public one through a CNAME (the zone not linked
// to the resolver's network).
func TestCheckVault(t *testing.T) {
	zoneFix := "privatelink.aue.backup.windowsazure.com"
	tests := []struct {
		name            string
		records         func(zone testnet.DNSZone, names []string)
		privateEndpoint bool
		code            int
		status          probe.Outcome
		warning         string // a warning code every vault result has
		fix             bool   // what_to_open names the private zone and Azure DNS
		info            int
	}{
		{"nxdomain", func(testnet.DNSZone, []string) {}, false, 0, "privatelink_absent", "", false, 8},
		{"nxdomain, private endpoint stated", func(testnet.DNSZone, []string) {}, true, 1, "dns_nxdomain", "", true, 0},
		{"private answer", privateRecords, false, 0, "ok", "private_endpoint", false, 0},
		{"private answer, private endpoint stated", privateRecords, true, 0, "ok", "private_endpoint", false, 0},
		{"public answer", publicRecords, false, 0, "ok", "privatelink_public", true, 0},
		{"public answer, private endpoint stated", publicRecords, true, 1, "dns_unexpected", "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolver, caFile := vaultLab(t, tt.records)
			args := []string{"check", "--region", "Austria East", "--vault", vaultID, "--resolver", resolver, "--ca-file", caFile,
				"--proxy", "none", "--timeout", "5s", "--no-wildcard-check", "-o", "json"}
			if tt.privateEndpoint {
				args = append(args, "--private-endpoint")
			}
			r := runBinary(t, nil, args...)
			rep := decodeReport(t, r.stdout)

			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", r.code, tt.code, r.stderr)
			}
			mode := map[bool]string{false: "optional", true: "required"}[tt.privateEndpoint]
			var vault []report.Result
			for _, res := range rep.Results {
				if !strings.HasPrefix(res.Host, vaultID) {
					if res.Status != "ok" {
						t.Errorf("lab host %s: %s %s", res.Host, res.Status, res.Error)
					}
					continue
				}
				vault = append(vault, res)
				if res.Status != tt.status || res.PrivateLink != mode || res.Evidence != "documented" || res.Scheme != "dns" ||
					(tt.warning != "" && !slices.ContainsFunc(res.Warnings, func(w report.Warning) bool { return w.Code == tt.warning })) {
					t.Errorf("%s: status %q private_link %q evidence %q scheme %q warnings %+v (%s)",
						res.Host, res.Status, res.PrivateLink, res.Evidence, res.Scheme, res.Warnings, res.Error)
				}
			}
			if len(vault) != 8 {
				t.Errorf("%d vault results, want 8", len(vault))
			}
			if rep.Summary.Info != tt.info || rep.Summary.Failed != tt.code*8 {
				t.Errorf("summary %+v, want info %d, failed %d", rep.Summary, tt.info, tt.code*8)
			}
			fix := slices.ContainsFunc(rep.Open, func(a report.Action) bool {
				return a.Hop == "dns" && strings.Contains(a.Change, "168.63.129.16") && strings.Contains(a.Change+strings.Join(a.Hosts, " "), zoneFix)
			})
			if fix != tt.fix {
				t.Errorf("what_to_open %+v: DNS fix for %s present %v, want %v", rep.Open, zoneFix, fix, tt.fix)
			}
			if tt.status == "privatelink_absent" && (len(rep.Open) != 0 || !strings.Contains(vault[0].Error, "no private endpoint")) {
				t.Errorf("an expected NXDOMAIN asks for nothing: open %+v, error %q", rep.Open, vault[0].Error)
			}
			if tt.status == "dns_unexpected" && !strings.Contains(vault[0].Error, "public address 20.38.1.1") {
				t.Errorf("error %q does not name the public address", vault[0].Error)
			}
		})
	}
}

// privateRecords answers each vault name with an address of the vault's
// virtual network, as its private DNS zone does.
func privateRecords(zone testnet.DNSZone, names []string) {
	for i, n := range names {
		zone[n] = testnet.DNSName{A: a("10.12.0." + strconv.Itoa(15+i))}
	}
}

// publicRecords answers each vault name through a CNAME with a public
// address: a resolver that forwards the privatelink zone to public DNS.
func publicRecords(zone testnet.DNSZone, names []string) {
	for _, n := range names {
		zone[n] = testnet.DNSName{CNAME: "aue-backup.cloudapp.lab.test"}
	}
	zone["aue-backup.cloudapp.lab.test"] = testnet.DNSName{A: a("20.38.1.1")}
}

// --vault's and --private-endpoint's bad input: one line on stderr, exit 2.
func TestCheckVaultUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--region", "westeurope", "--vault", "contoso-vault"}, `--vault "contoso-vault": a vault ID is the number before "-ab-pod01-"`},
		{[]string{"--region", "westeurope", "--vault", vaultID + "-ab-pod01-fc1.privatelink.we.backup.windowsazure.com"}, "give only the number before \"-ab-pod01-\": --vault " + vaultID},
		{[]string{"--region", "westeurope", "--private-endpoint"}, "--private-endpoint says the vault uses a private endpoint: name the vault with --vault ID"},
		{[]string{"--vault", vaultID}, "--vault needs --region"},
		{[]string{"--private-endpoint", "example.com"}, "--private-endpoint add to the built-in catalog"},
	}
	for _, tt := range tests {
		r := runBinary(t, nil, append([]string{"check", "--resolver", "127.0.0.1:1"}, tt.args...)...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
}
