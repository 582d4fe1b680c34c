package targets

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// TestAuthoritiesPerCloud: each cloud's catalog has the certificate
// authorities' hosts its chains name — China the .cn hosts (and the
// revocation of their DigiCert root), public and US Gov the others — all on
// plain HTTP port 80, judged by their answer, documented with a source.
func TestAuthoritiesPerCloud(t *testing.T) {
	global := []string{"cacerts.digicert.com", "cacerts.geotrust.com", "caissuers.microsoft.com", "www.microsoft.com",
		"ctldl.windowsupdate.com", "crl3.digicert.com", "crl4.digicert.com", "ocsp.digicert.com", "oneocsp.microsoft.com"}
	want := map[string][]string{
		CloudPublic: global,
		CloudUSGov:  global,
		CloudChina: {"cacerts.digicert.cn", "ctldl.windowsupdate.com", "crl.digicert.cn", "crl3.digicert.com",
			"ocsp.digicert.cn", "ocsp.digicert.com"},
	}
	for _, cloud := range CloudNames() {
		t.Run(cloud, func(t *testing.T) {
			eps, err := Catalog(cloud, Options{Region: map[string]string{CloudPublic: "westeurope", CloudUSGov: "usgovvirginia", CloudChina: "chinaeast2"}[cloud]})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range eps {
				if e.Family != FamilyAuthorities {
					continue
				}
				got = append(got, e.Host)
				if e.Port != 80 || e.Scheme != SchemeHTTP || !strings.HasPrefix(e.Path, "/") || e.Expect == "" || e.Cloud != cloud ||
					e.Source != SourceCatalog || e.Evidence != EvidenceDocumented || !strings.HasPrefix(e.Doc, "https://") ||
					len(e.ExpectedTags) != 0 || !e.JudgeByName {
					t.Errorf("%s: %+v", e.Host, e)
				}
				if cn := strings.HasSuffix(e.Host, ".cn"); cn && cloud != CloudChina {
					t.Errorf("%s: a China host in the %s catalog", e.Host, cloud)
				}
				// What is fetched decides how the answer is judged.
				want := map[string]string{".crt": ExpectDER, ".crl": ExpectDER, ".cab": ExpectCab, "": ExpectAnswer}[path.Ext(e.Path)]
				if e.Expect != want {
					t.Errorf("%s%s: expect %q, want %q", e.Host, e.Path, e.Expect, want)
				}
				if e.Role == RoleOCSP && e.Expect != ExpectAnswer {
					t.Errorf("%s: an OCSP responder's base URL is judged by any answer, not %q", e.Host, e.Expect)
				}
			}
			if !slices.Equal(got, want[cloud]) {
				t.Errorf("hosts:\n got %v\nwant %v", got, want[cloud])
			}
			fams, err := Families(cloud)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(fams, func(f Family) bool { return f.Pattern == FamilyAuthorities }); i < 0 || fams[i].Wildcard() || fams[i].Doc != docCA {
				t.Errorf("families %v: no %q family with its source", fams, FamilyAuthorities)
			}
			uncovered, err := Uncovered(cloud, eps)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(uncovered, func(f Family) bool { return f.Pattern == FamilyAuthorities }) {
				t.Error("the authorities' family is listed as uncovered")
			}
		})
	}
}

// The root list is the file Windows fetches, at the path it fetches.
func TestAuthoritiesRootList(t *testing.T) {
	eps, err := Catalog(CloudPublic, Options{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(eps, func(e Endpoint) bool { return e.Host == "ctldl.windowsupdate.com" })
	if i < 0 || eps[i].URL() != "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab" ||
		eps[i].Role != RoleRootList || eps[i].Expect != ExpectCab {
		t.Errorf("root list endpoint %+v", eps)
	}
}

// A host the user names that is one of the authorities is probed as the
// catalog probes it; a --member under *.microsoft.com stays an HTTPS member
// of that wildcard (the authorities are no zone to fall under).
func TestAuthoritiesUserHosts(t *testing.T) {
	eps := []Endpoint{{Host: "crl3.digicert.com", Port: 443, Scheme: SchemeHTTPS, Family: FamilyCustom, Source: SourceCLI}}
	if err := AsCatalog(CloudPublic, "", eps); err != nil {
		t.Fatal(err)
	}
	if e := eps[0]; e.Port != 80 || e.Scheme != SchemeHTTP || e.Family != FamilyAuthorities || !e.Catalogued || e.Source != SourceCLI {
		t.Errorf("named crl3.digicert.com: %+v", e)
	}
	cat, err := Catalog(CloudPublic, Options{Members: []string{"oneocsp.microsoft.com"}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cat, func(e Endpoint) bool { return e.Host == "oneocsp.microsoft.com" && e.Source == "--member" })
	if i < 0 || cat[i].Family != "*.microsoft.com" || cat[i].Port != 443 {
		t.Errorf("--member oneocsp.microsoft.com: %+v", cat)
	}
}
