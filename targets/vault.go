package targets

import (
	"fmt"
	"regexp"
	"strings"

	"egressprobe/internal/quote"
)

// vaultServices are the per-vault records "<vaultId>-ab-pod01-<service>" a
// private endpoint creates (docPods). Microsoft adds services without notice
// (a prot1i record exists), so the list can miss one: --member adds it.
var vaultServices = []string{"fc1", "fab1", "prot1", "rec2", "ecs1", "id1", "tel1", "wbcm1"}

// PrivateLink modes of an Endpoint: how a vault's private-endpoint name is
// judged.
const (
	// PrivateLinkOptional (--vault): NXDOMAIN is expected when the vault has no
	// private endpoint or the resolver does not use the private DNS zone.
	PrivateLinkOptional = "optional"
	// PrivateLinkRequired (--vault with --private-endpoint): the name must
	// resolve to a private address.
	PrivateLinkRequired = "required"
)

var vaultIDRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// addVaults adds each vault's private-endpoint names
// <id>-ab-pod01-<service>.privatelink.<geo>.<backup zone>. They exist only in
// the vault's private DNS zone (there is no public CNAME to it), so they are
// resolved, not connected to: the DNS answer is the verdict.
func (b *builder) addVaults(opts Options) error {
	if opts.PrivateEndpoint && len(opts.Vaults) == 0 {
		return fmt.Errorf("--private-endpoint says the vault uses a private endpoint: name the vault with --vault ID")
	}
	if len(opts.Vaults) > 0 && (b.region == nil || b.region.Geo == "") {
		return fmt.Errorf("--vault needs --region with a documented Azure Backup geo code (see %s)", docGeo)
	}
	mode := PrivateLinkOptional
	if opts.PrivateEndpoint {
		mode = PrivateLinkRequired
	}
	for _, id := range opts.Vaults {
		if err := checkVaultID(id); err != nil {
			return err
		}
		for _, svc := range vaultServices {
			b.add(id+"-ab-pod01-"+svc+".privatelink."+b.region.Geo+"."+b.c.backup, RoleVault, docPods, EvidenceDocumented, tagsBackup, "--vault")
			e := &b.out[len(b.out)-1]
			e.Scheme, e.Port, e.PrivateLink = SchemeDNS, 0, mode
		}
	}
	return nil
}

// checkVaultID explains a bad vault ID; the common mistakes are a whole
// record name and the vault's name.
func checkVaultID(id string) error {
	if vaultIDRE.MatchString(id) {
		return nil
	}
	hint := "the number before \"-ab-pod01-\" in the vault's private-endpoint DNS records, e.g. 1132794570626989392"
	if i := strings.Index(id, "-ab-pod01-"); i > 0 && vaultIDRE.MatchString(id[:i]) {
		hint = "give only the number before \"-ab-pod01-\": --vault " + id[:i]
	}
	return fmt.Errorf("--vault %s: a vault ID is %s", quote.Q(id), hint)
}
