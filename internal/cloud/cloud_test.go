package cloud

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"public": Public, "PUBLIC": Public, "AzureCloud": Public, "Public": Public, "global": Public, "AzurePublicCloud": Public,
		"china": China, "China": China, "AzureChinaCloud": China, "Azure China Cloud": China, "mooncake": China, "21Vianet": China,
		"usgov": USGov, "AzureUSGovernment": USGov, "AzureGovernment": USGov, "fairfax": USGov, "azure-us-government": USGov,
		"germany": Germany, "AzureGermany": Germany, "AzureGermanCloud": Germany, " blackforest ": Germany,
	} {
		c, err := Parse(in)
		if err != nil || c.ID != want {
			t.Errorf("Parse(%q) = %q, %v; want %s", in, c.ID, err, want)
		}
	}
	for _, bad := range []string{"", "mars", "azure"} {
		_, err := Parse(bad)
		if err == nil || !strings.Contains(err.Error(), "use one of public, china, usgov, germany") || !strings.Contains(err.Error(), "mooncake") {
			t.Errorf("Parse(%q) error = %v, want one listing the valid names", bad, err)
		}
	}
	for bad, want := range map[string]string{"mooncak": "mooncake", "AzureChinaClod": "AzureChinaCloud", "pubilc": "public"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "did you mean "+want+"?") {
			t.Errorf("Parse(%q) error = %v, want a suggestion of %s", bad, err, want)
		}
	}
}

// Every name of every cloud finds that cloud and no other: no alias is
// shared, and each feed name parses to its own cloud.
func TestNamesAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, c := range All() {
		for _, n := range c.names() {
			if other, dup := seen[norm(n)]; dup && other != c.ID {
				t.Errorf("%q names both %s and %s", n, other, c.ID)
			}
			seen[norm(n)] = c.ID
			if got, err := Parse(n); err != nil || got.ID != c.ID {
				t.Errorf("Parse(%q) = %q, %v; want %s", n, got.ID, err, c.ID)
			}
		}
	}
}

func TestIDs(t *testing.T) {
	if got := strings.Join(IDs(true), ","); got != "public,china,usgov" {
		t.Errorf("catalog clouds = %s", got)
	}
	if got := strings.Join(IDs(false), ","); got != "public,china,usgov,germany" {
		t.Errorf("all clouds = %s", got)
	}
}
