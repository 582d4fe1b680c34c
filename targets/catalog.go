package targets

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Clouds.
const (
	CloudPublic = "public"
	CloudChina  = "china" // Azure operated by 21Vianet
	CloudUSGov  = "usgov"
)

// Service-tag names used as expectations.
const (
	TagAzureBackup = "AzureBackup"
	TagStorage     = "Storage"
	TagAAD         = "AzureActiveDirectory"
)

// Roles of catalog endpoints.
const (
	RoleSignIn  = "sign-in"
	RoleBackup  = "backup-service"
	RoleStorage = "storage"
	RoleNCSI    = "ncsi"
	RoleCustom  = "custom"
)

// Where the catalog entries are documented.
const (
	// The FQDN lists per cloud (public and US Gov in the page, China in the
	// docs.azure.cn edition of the same page).
	docMARS      = "https://learn.microsoft.com/azure/backup/install-mars-agent#verify-internet-access"
	docMARSChina = "https://docs.azure.cn/en-us/backup/install-mars-agent"
	// "Set up proxy server for Recovery Services vault with private endpoint"
	// lists the sign-in hosts (login.microsoftonline.com, login.windows.net,
	// login.microsoft.com) next to *.backup.windowsazure.com and the Storage zones.
	docSignIn = "https://learn.microsoft.com/azure/backup/private-endpoints#set-up-proxy-server-for-recovery-services-vault-with-private-endpoint"
	// The Microsoft Entra endpoints of the sovereign clouds.
	docSignInChina = "https://learn.microsoft.com/azure/china/resources-developer-guide#check-endpoints-in-azure"
	docSignInUSGov = "https://learn.microsoft.com/azure/azure-government/compare-azure-government-global-azure#guidance-for-developers"
	// The pod host names pod01-<service>.<geo>.backup.windowsazure.<tld>: the
	// services are those a vault's private endpoint gets records for ("Step 1:
	// Get required DNS entries"); the public form is what Microsoft's SAP HANA
	// pre-registration script probes (pod01-prot1.<geo>...).
	docPods = "https://learn.microsoft.com/azure/backup/private-endpoints#step-1-get-required-dns-entries"
	docFab  = "https://aka.ms/scriptforpermsonhana"
	docGeo  = "https://learn.microsoft.com/azure/backup/scripts/geo-code-list"
	// NCSI: what Windows fetches and expects.
	docNCSI = "https://learn.microsoft.com/troubleshoot/windows-client/networking/internet-explorer-edge-open-connect-corporate-public-network"
)

// Family is a wildcard (or, for NCSI, exact) host pattern of a catalog.
type Family struct {
	Pattern string   // "*.windowsazure.com", or an exact host such as "www.msftncsi.com"
	Cloud   string   // CloudPublic, CloudChina, CloudUSGov
	Tags    []string // tags expected of a member the user adds (--member); nil: not judged by tag
	Doc     string
}

// Wildcard reports whether the family is a wildcard ("*.zone").
func (f Family) Wildcard() bool { return strings.HasPrefix(f.Pattern, "*.") }

// Zone is the pattern without its "*." ("windowsazure.com").
func (f Family) Zone() string { return strings.TrimPrefix(f.Pattern, "*.") }

// Matches reports whether host falls under the family: a subdomain of a
// wildcard's zone (not the zone itself: "*.x" does not match "x"), or the exact
// host of a non-wildcard family.
func (f Family) Matches(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if f.Wildcard() {
		return strings.HasSuffix(host, "."+f.Zone())
	}
	return host == f.Pattern
}

// member is a fixed catalog host: it needs no region and no user input.
type member struct {
	host, role, doc string
	tags            []string
}

type cloudDef struct {
	name     string
	families []Family
	members  []member // fixed members; each must fall under one of families
	regions  []Region
	backup   string // zone of the Backup pods: "backup.windowsazure.com"
	storage  string // storage endpoint suffix: "core.windows.net"
}

var (
	tagsAAD     = []string{TagAAD}
	tagsBackup  = []string{TagAzureBackup}
	tagsStorage = []string{TagStorage}
)

// ncsiFamilies are the same in every cloud: Windows' own connectivity probes.
var ncsiFamilies = []Family{
	{Pattern: "www.msftconnecttest.com", Doc: docNCSI},
	{Pattern: "www.msftncsi.com", Doc: docNCSI},
}

// The families are exactly the FQDN lists of the MARS network requirements.
// Fixed members are the sign-in hosts; Backup pods and Storage accounts depend on
// the vault's region and on the user's accounts, and are added by Catalog.
func clouds() []cloudDef {
	return []cloudDef{
		{
			name: CloudPublic,
			families: []Family{
				{Pattern: "*.microsoft.com", Doc: docMARS},
				{Pattern: "*.windowsazure.com", Tags: tagsBackup, Doc: docMARS},
				{Pattern: "*.microsoftonline.com", Tags: tagsAAD, Doc: docMARS},
				{Pattern: "*.windows.net", Tags: tagsAAD, Doc: docMARS},
				{Pattern: "*.blob.core.windows.net", Tags: tagsStorage, Doc: docMARS},
				{Pattern: "*.queue.core.windows.net", Tags: tagsStorage, Doc: docMARS},
				{Pattern: "*.blob.storage.azure.net", Tags: tagsStorage, Doc: docMARS},
			},
			members: []member{
				{"login.microsoftonline.com", RoleSignIn, docSignIn, tagsAAD},
				{"login.windows.net", RoleSignIn, docSignIn, tagsAAD},
				{"login.microsoft.com", RoleSignIn, docSignIn, tagsAAD},
			},
			regions: publicRegions,
			backup:  "backup.windowsazure.com",
			storage: "core.windows.net",
		},
		{
			name: CloudUSGov,
			families: []Family{
				{Pattern: "*.microsoft.com", Doc: docMARS},
				{Pattern: "*.windowsazure.us", Tags: tagsBackup, Doc: docMARS},
				{Pattern: "*.microsoftonline.us", Tags: tagsAAD, Doc: docMARS},
				{Pattern: "*.windows.net", Doc: docMARS},
				{Pattern: "*.usgovcloudapi.net", Tags: tagsStorage, Doc: docMARS},
				{Pattern: "*.blob.core.windows.net", Tags: tagsStorage, Doc: docMARS},
				{Pattern: "*.queue.core.windows.net", Tags: tagsStorage, Doc: docMARS},
				{Pattern: "*.blob.storage.azure.net", Tags: tagsStorage, Doc: docMARS},
			},
			members: []member{
				{"login.microsoftonline.us", RoleSignIn, docSignInUSGov, tagsAAD},
			},
			regions: usgovRegions,
			backup:  "backup.windowsazure.us",
			storage: "core.usgovcloudapi.net",
		},
		{
			name: CloudChina,
			families: []Family{
				{Pattern: "*.azure.cn", Doc: docMARSChina},
				{Pattern: "*.partner.microsoftonline.cn", Tags: tagsAAD, Doc: docMARSChina},
				{Pattern: "*.chinacloudapi.cn", Doc: docMARSChina},
				{Pattern: "*.blob.core.chinacloudapi.cn", Tags: tagsStorage, Doc: docMARSChina},
				{Pattern: "*.queue.core.chinacloudapi.cn", Tags: tagsStorage, Doc: docMARSChina},
				{Pattern: "*.blob.storage.chinacloudapi.cn", Tags: tagsStorage, Doc: docMARSChina},
				// Older documented families, still in the China page.
				{Pattern: "*.windowsazure.cn", Tags: tagsBackup, Doc: docMARSChina},
				{Pattern: "*.microsoftonline.cn", Tags: tagsAAD, Doc: docMARSChina},
			},
			members: []member{
				{"login.partner.microsoftonline.cn", RoleSignIn, docSignInChina, tagsAAD},
				{"login.chinacloudapi.cn", RoleSignIn, docSignInChina, tagsAAD},
			},
			regions: chinaRegions,
			backup:  "backup.windowsazure.cn",
			storage: "core.chinacloudapi.cn",
		},
	}
}

// cloudAliases accepts the names Azure tools use for the same clouds.
var cloudAliases = map[string]string{
	"public": CloudPublic, "azurecloud": CloudPublic, "global": CloudPublic,
	"china": CloudChina, "azurechinacloud": CloudChina, "21vianet": CloudChina, "mooncake": CloudChina,
	"usgov": CloudUSGov, "azureusgovernment": CloudUSGov, "azuregovernment": CloudUSGov, "fairfax": CloudUSGov,
}

// CloudNames are the canonical cloud names, in catalog order.
func CloudNames() []string { return []string{CloudPublic, CloudChina, CloudUSGov} }

// CanonicalCloud maps a cloud name or alias ("AzureChinaCloud") to its
// canonical name, or returns an error listing the valid ones.
func CanonicalCloud(name string) (string, error) {
	c, err := lookupCloud(name)
	return c.name, err
}

func lookupCloud(name string) (cloudDef, error) {
	canon, ok := cloudAliases[normRegion(name)]
	if ok {
		for _, c := range clouds() {
			if c.name == canon {
				return c, nil
			}
		}
	}
	return cloudDef{}, fmt.Errorf("unknown cloud %q; valid clouds: %s", name, strings.Join(CloudNames(), ", "))
}

// Families lists a cloud's families in catalog order, NCSI last.
func Families(cloud string) ([]Family, error) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return nil, err
	}
	return c.allFamilies(), nil
}

func (c cloudDef) allFamilies() []Family {
	out := make([]Family, 0, len(c.families)+len(ncsiFamilies))
	for _, f := range append(append([]Family(nil), c.families...), ncsiFamilies...) {
		f.Cloud = c.name
		out = append(out, f)
	}
	return out
}

// FamilyOf finds the most specific family of cloud that host falls under
// ("x.blob.core.windows.net" is in "*.blob.core.windows.net", not "*.windows.net").
func FamilyOf(cloud, host string) (Family, bool) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return Family{}, false
	}
	return c.familyOf(host)
}

func (c cloudDef) familyOf(host string) (Family, bool) {
	var best Family
	found := false
	for _, f := range c.allFamilies() {
		if f.Matches(host) && (!found || len(f.Pattern) > len(best.Pattern)) {
			best, found = f, true
		}
	}
	return best, found
}

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
	// private-endpoint FQDNs; they need Region.
	Vaults []string
}

// podServices are the Backup service pods a vault has in its region, each as
// pod01-<service>.<geo>.<backup zone>. prot1, id1 and rec2 are the ones seen
// answering under these public names in Microsoft's material (the HANA
// script probes prot1; registration errors name pod01-id1.<geo>; restore uses
// rec2); the private-endpoint page lists all of vaultServices.
var podServices = []string{"id1", "prot1", "rec2"}

// vaultServices are the per-vault names "<vaultId>-ab-pod01-<service>" a private
// endpoint creates records for (docPods).
var vaultServices = []string{"fc1", "fab1", "prot1", "rec2", "ecs1", "id1", "tel1", "wbcm1"}

var (
	storageAccountRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	vaultIDRE        = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Catalog returns the endpoints to probe for a cloud: the fixed sign-in
// members, the region's Backup pods and Storage account when opts.Region is
// set, the user's members, storage accounts and vaults, and the NCSI probes.
// The order is the catalog's family order; duplicates are dropped.
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
		b.add(m.host, m.role, m.doc, m.tags, SourceCatalog)
	}
	if region != nil && region.Geo != "" {
		for _, svc := range podServices {
			b.add("pod01-"+svc+"."+region.Geo+"."+c.backup, RoleBackup, docPods, tagsBackup, SourceCatalog)
		}
	}
	if region != nil && region.FabricAccount != "" {
		b.addStorage(region.FabricAccount, docFab, SourceCatalog)
	}
	for _, name := range opts.StorageAccounts {
		n := strings.ToLower(strings.TrimSpace(name))
		if !storageAccountRE.MatchString(n) {
			return nil, fmt.Errorf("--storage-account %q: a storage account name is 3 to 24 lower-case letters and digits (the NAME in NAME.blob.%s)", name, c.storage)
		}
		b.addStorage(n, "", "--storage-account")
	}
	if len(opts.Vaults) > 0 && (region == nil || region.Geo == "") {
		return nil, fmt.Errorf("--vault needs --region with a documented Azure Backup geo code (see %s)", docGeo)
	}
	for _, id := range opts.Vaults {
		if !vaultIDRE.MatchString(id) {
			return nil, fmt.Errorf("--vault %q: give the vault ID, the number before \"-ab-pod01-\" in the vault's private endpoint DNS records", id)
		}
		for _, svc := range vaultServices {
			b.add(id+"-ab-pod01-"+svc+"."+region.Geo+"."+c.backup, RoleBackup, docPods, tagsBackup, "--vault")
		}
	}
	for _, m := range opts.Members {
		host, err := ParseHost(m)
		if err != nil {
			return nil, fmt.Errorf("--member %q: %w", m, err)
		}
		f, ok := c.familyOf(host)
		if !ok {
			b.out = append(b.out, Endpoint{Host: host, Port: 443, Scheme: SchemeHTTPS, Family: FamilyCustom,
				Role: RoleCustom, ExpectedTags: []string{}, Source: "--member"})
			continue
		}
		b.add(host, roleOf(f), "", f.Tags, "--member")
	}
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
func (b *builder) add(host, role, doc string, tags []string, source string) {
	f, _ := b.c.familyOf(host)
	b.out = append(b.out, Endpoint{
		Host: host, Port: 443, Scheme: SchemeHTTPS,
		Family: f.Pattern, Cloud: b.c.name, Role: role,
		ExpectedTags: regionalTags(tags, b.region),
		Source:       source, Doc: doc,
	})
}

func (b *builder) addStorage(account, doc, source string) {
	for _, svc := range []string{"blob", "queue"} {
		b.add(account+"."+svc+"."+b.c.storage, RoleStorage, doc, tagsStorage, source)
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

// ncsiEndpoints are Windows' Network Connectivity Status Indicator probes:
// plain HTTP on port 80, a fixed body, and a DNS name with fixed addresses.
// They sit on a CDN, so they are judged by name, not by service tag.
func ncsiEndpoints(cloud string) []Endpoint {
	mk := func(host, family, scheme, path, body, role string, addrs ...netip.Addr) Endpoint {
		port := 80
		if scheme == SchemeDNS {
			port = 0
		}
		return Endpoint{Host: host, Port: port, Scheme: scheme, Path: path, Family: family, Cloud: cloud,
			Role: role, ExpectedTags: []string{}, ExpectBody: body, ExpectAddrs: addrs, JudgeByName: true,
			Source: SourceCatalog, Doc: docNCSI}
	}
	const ct, ncsi = "www.msftconnecttest.com", "www.msftncsi.com"
	return []Endpoint{
		mk(ct, ct, SchemeHTTP, "/connecttest.txt", "Microsoft Connect Test", RoleNCSI),
		mk("ipv6.msftconnecttest.com", ct, SchemeHTTP, "/connecttest.txt", "Microsoft Connect Test", RoleNCSI+"-ipv6"),
		mk(ncsi, ncsi, SchemeHTTP, "/ncsi.txt", "Microsoft NCSI", RoleNCSI),
		mk("ipv6.msftncsi.com", ncsi, SchemeHTTP, "/ncsi.txt", "Microsoft NCSI", RoleNCSI+"-ipv6"),
		mk("dns.msftncsi.com", ncsi, SchemeDNS, "", "", RoleNCSI+"-dns",
			netip.MustParseAddr("131.107.255.255"), netip.MustParseAddr("fd3e:4f5a:5b81::1")),
	}
}

// Uncovered lists the families of cloud that none of eps falls under: the
// rules a run cannot confirm until the user names a member (--member,
// --storage-account, --region).
func Uncovered(cloud string, eps []Endpoint) ([]Family, error) {
	fams, err := Families(cloud)
	if err != nil {
		return nil, err
	}
	var out []Family
	for _, f := range fams {
		covered := false
		for _, e := range eps {
			if e.Family == f.Pattern {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out, nil
}
