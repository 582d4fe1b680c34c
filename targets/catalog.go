package targets

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"egressprobe/internal/quote"
)

// Options select what Catalog adds to a cloud's fixed members.
type Options struct {
	// Region of the Recovery Services vault: adds its Backup service pods and
	// the region's Backup storage account, and makes the regional tags
	// ("AzureBackup.WestEurope", "Storage.WestEurope") the expectation.
	Region string
	// Members are extra hosts; each is attributed to the catalog family it falls
	// under, else to FamilyCustom.
	Members []string
	// StorageAccounts are storage account names: NAME.blob.core.<suffix> and
	// NAME.queue.core.<suffix> of the cloud.
	StorageAccounts []string
	// Vaults are vault IDs, the number before "-ab-pod01-" in the vault's
	// private-endpoint records; they need Region.
	Vaults []string
	// PrivateEndpoint states that the vaults use a private endpoint: their
	// names must then resolve to private addresses (PrivateLinkRequired).
	PrivateEndpoint bool
}

// pod is a Backup service host of a region, pod01-<service>.<geo>.<backup zone>,
// and where it is seen. Microsoft documents only the wildcard; these are what
// its own tools probe (rec2, which examples show for file recovery from VM
// backups, is not a MARS name and is left out).
type pod struct{ service, doc string }

var podServices = []pod{
	{"manag1", docSupport}, // the support scripts' first Backup probe
	{"prot1", docFab},      // the HANA script's, per region
	{"id1", docSupport},    // registration (IdMgmtService); in examples for ea, wus, jpw
}

var storageAccountRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// Catalog returns the endpoints to probe for a cloud: the fixed members, the
// region's Backup pods and Storage account when opts.Region is set, the
// user's members, storage accounts and vaults, and the NCSI probes. The
// order is the catalog's family order; duplicates are dropped.
func Catalog(cloud string, opts Options) ([]Endpoint, error) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return nil, err
	}
	var region *Region
	if opts.Region != "" {
		r, err := LookupRegion(c.name, opts.Region)
		if err != nil {
			return nil, err
		}
		region = &r
	}
	b := builder{c: c, region: region}
	for _, m := range c.members {
		b.add(m.host, m.role, m.doc, m.evidence, m.tags, SourceCatalog)
	}
	if region != nil && region.Pods {
		for _, p := range podServices {
			b.add("pod01-"+p.service+"."+region.Geo+"."+c.backup, RoleBackup, p.doc, EvidenceObserved, tagsBackup, SourceCatalog)
		}
	}
	if region != nil && region.FabricAccount != "" {
		b.addStorage(region.FabricAccount, docFab, EvidenceObserved, SourceCatalog)
	}
	for _, name := range opts.StorageAccounts {
		n := strings.ToLower(strings.TrimSpace(name))
		if !storageAccountRE.MatchString(n) {
			return nil, fmt.Errorf("--storage-account %s: a storage account name is 3 to 24 lower-case letters and digits (the NAME in NAME.blob.%s)", quote.Q(name), c.storage)
		}
		b.addStorage(n, "", "", "--storage-account")
	}
	if err := b.addVaults(opts); err != nil {
		return nil, err
	}
	for _, m := range opts.Members {
		host, err := ParseHost(m)
		if err != nil {
			return nil, fmt.Errorf("--member %s: %w", quote.Q(m), err)
		}
		f, ok := c.familyOf(host)
		if !ok {
			b.out = append(b.out, Endpoint{Host: host, Port: 443, Scheme: SchemeHTTPS, Family: FamilyCustom,
				Role: RoleCustom, ExpectedTags: []string{}, Source: "--member"})
			continue
		}
		b.add(host, roleOf(f), "", "", f.Tags, "--member")
	}
	b.out = append(b.out, authorityEndpoints(c.name, c.authorities)...)
	b.out = append(b.out, ncsiEndpoints(c.name)...)
	return b.sorted(), nil
}

// roleOf guesses a user member's role from its family's tags.
func roleOf(f Family) string {
	switch {
	case len(f.Tags) == 0:
		return RoleCustom
	case f.Tags[0] == TagAzureBackup:
		return RoleBackup
	case f.Tags[0] == TagStorage:
		return RoleStorage
	default:
		return RoleSignIn
	}
}

type builder struct {
	c      cloudDef
	region *Region
	out    []Endpoint
}

// add appends an HTTPS/443 endpoint under the family host falls under, with
// tags made regional when a region is set.
func (b *builder) add(host, role, doc, evidence string, tags []string, source string) {
	f, _ := b.c.familyOf(host)
	b.out = append(b.out, Endpoint{
		Host: host, Port: 443, Scheme: SchemeHTTPS,
		Family: f.Pattern, Cloud: b.c.name, Role: role,
		ExpectedTags: regionalTags(tags, b.region),
		Source:       source, Doc: doc, Evidence: evidence,
	})
}

func (b *builder) addStorage(account, doc, evidence, source string) {
	for _, svc := range []string{"blob", "queue"} {
		b.add(account+"."+svc+"."+b.c.storage, RoleStorage, doc, evidence, tagsStorage, source)
	}
}

// regionalTags turns AzureBackup and Storage into their regional tags; other
// tags (AzureActiveDirectory) have no regional variant.
func regionalTags(tags []string, r *Region) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if r != nil && (t == TagAzureBackup || t == TagStorage) {
			t += "." + r.Tag
		}
		out = append(out, t)
	}
	return out
}

// sorted orders endpoints by family (catalog order, custom last), keeping the
// insertion order within a family, and drops duplicates.
func (b *builder) sorted() []Endpoint {
	rank := map[string]int{}
	for i, f := range b.c.allFamilies() {
		rank[f.Pattern] = i
	}
	rankOf := func(e Endpoint) int {
		if r, ok := rank[e.Family]; ok {
			return r
		}
		return len(rank)
	}
	seen := map[string]bool{}
	out := make([]Endpoint, 0, len(b.out))
	for _, e := range b.out {
		if !seen[e.key()] {
			seen[e.key()] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return rankOf(out[i]) < rankOf(out[j]) })
	return out
}
