package targets

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"egressprobe/internal/cloud"
	"egressprobe/internal/quote"
)

// The clouds with a built-in catalog, by their canonical names (every other
// name of a cloud is in internal/cloud's registry).
const (
	CloudPublic = cloud.Public
	CloudChina  = cloud.China // Azure operated by 21Vianet
	CloudUSGov  = cloud.USGov
)

// Service-tag names used as expectations.
const (
	TagAzureBackup = "AzureBackup"
	TagStorage     = "Storage"
	TagAAD         = "AzureActiveDirectory"
)

// Roles of catalog endpoints.
const (
	RoleSignIn   = "sign-in"
	RoleBackup   = "backup-service"
	RoleStorage  = "storage"
	RoleNCSI     = "ncsi"
	RoleDownload = "download"
	RoleVault    = "vault"
	RoleCustom   = "custom"
)

// Evidence says how a catalog entry is known.
const (
	// EvidenceDocumented: a Microsoft documentation page names the host.
	EvidenceDocumented = "documented"
	// EvidenceObserved: only Microsoft's support scripts, tools or examples use
	// it; Microsoft may rename or retire it without notice.
	EvidenceObserved = "observed"
)

// Where the catalog entries come from (dates: when they were last checked).
const (
	// The FQDN lists per cloud (public and US Gov in the page, China in the
	// docs.azure.cn edition of the same page, which since 2020 also lists
	// *.microsoft.com).
	docMARS      = "https://learn.microsoft.com/azure/backup/install-mars-agent#verify-internet-access"
	docMARSChina = "https://docs.azure.cn/en-us/backup/install-mars-agent"
	// "Set up proxy server for Recovery Services vault with private endpoint":
	// its table lists the sign-in hosts (login.microsoftonline.com,
	// login.windows.net, login.microsoft.com, loginex.microsoftonline.com,
	// login.microsoftonline-p.com, graph.windows.net, *.msftauth.net, ...) next
	// to *.backup.windowsazure.com and the Storage zones.
	docSignIn = "https://learn.microsoft.com/azure/backup/private-endpoints#set-up-proxy-server-for-recovery-services-vault-with-private-endpoint"
	// The private endpoints overview lists *.storage.azure.net and
	// *.login.microsoft.com among the names a vault's clients reach.
	docPEOverview = "https://learn.microsoft.com/azure/backup/private-endpoints-overview"
	// The Microsoft Entra endpoints of the sovereign clouds.
	docSignInChina = "https://learn.microsoft.com/azure/china/resources-developer-guide#check-endpoints-in-azure"
	docSignInUSGov = "https://learn.microsoft.com/azure/azure-government/compare-azure-government-global-azure#guidance-for-developers"
	// A vault's private-endpoint records <vaultId>-ab-pod01-<service> in the
	// zone privatelink.<geo>.backup.windowsazure.<tld> ("Step 1: Get required
	// DNS entries", sample output for eus).
	docPods = "https://learn.microsoft.com/azure/backup/private-endpoints#step-1-get-required-dns-entries"
	// The SAP HANA pre-registration script probes, per region, the fabric
	// storage account and pod01-prot1.<geo>.backup.windowsazure.<tld>.
	docFab = "https://aka.ms/scriptforpermsonhana"
	// The connectivity-check scripts of Microsoft's Japanese Azure Backup
	// support team probe pod01-manag1.jpe, pod01-prot1.jpe, pod01-id1.jpw and
	// download.microsoft.com.
	docSupport = "https://github.com/jpabrs-scem/blog"
	docGeo     = "https://learn.microsoft.com/azure/backup/scripts/geo-code-list"
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
	host, role, doc, evidence string
	tags                      []string
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

// downloadMember is where the agent and its updates are downloaded from, the
// same host in every cloud (under *.microsoft.com, which every cloud's list
// has). It sits on a CDN: no service tag to expect.
var downloadMember = member{"download.microsoft.com", RoleDownload, docSupport, EvidenceObserved, nil}

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
				// Also named by the private-endpoint pages.
				{Pattern: "*.microsoftonline-p.com", Tags: tagsAAD, Doc: docSignIn},
				{Pattern: "*.msftauth.net", Doc: docSignIn},
				{Pattern: "*.storage.azure.net", Tags: tagsStorage, Doc: docPEOverview},
				{Pattern: "*.login.microsoft.com", Tags: tagsAAD, Doc: docPEOverview},
			},
			members: []member{
				{"login.microsoftonline.com", RoleSignIn, docSignIn, EvidenceDocumented, tagsAAD},
				{"login.windows.net", RoleSignIn, docSignIn, EvidenceDocumented, tagsAAD},
				{"login.microsoft.com", RoleSignIn, docSignIn, EvidenceDocumented, tagsAAD},
				{"loginex.microsoftonline.com", RoleSignIn, docSignIn, EvidenceDocumented, tagsAAD},
				{"login.microsoftonline-p.com", RoleSignIn, docSignIn, EvidenceDocumented, tagsAAD},
				{"graph.windows.net", RoleSignIn, docSignIn, EvidenceDocumented, tagsAAD},
				downloadMember,
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
				{"login.microsoftonline.us", RoleSignIn, docSignInUSGov, EvidenceDocumented, tagsAAD},
				downloadMember,
			},
			regions: usgovRegions,
			backup:  "backup.windowsazure.us",
			storage: "core.usgovcloudapi.net",
		},
		{
			name: CloudChina,
			families: []Family{
				{Pattern: "*.microsoft.com", Doc: docMARSChina},
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
				{"login.partner.microsoftonline.cn", RoleSignIn, docSignInChina, EvidenceDocumented, tagsAAD},
				{"login.chinacloudapi.cn", RoleSignIn, docSignInChina, EvidenceDocumented, tagsAAD},
				downloadMember,
			},
			regions: chinaRegions,
			backup:  "backup.windowsazure.cn",
			storage: "core.chinacloudapi.cn",
		},
	}
}

// CloudNames are the canonical names of the clouds with a catalog, in
// catalog order.
func CloudNames() []string { return cloud.IDs(true) }

// CanonicalCloud maps any name of a cloud with a catalog ("AzureChinaCloud",
// "mooncake") to its canonical name, or returns an error listing the valid ones.
func CanonicalCloud(name string) (string, error) {
	c, err := lookupCloud(name)
	return c.name, err
}

func lookupCloud(name string) (cloudDef, error) {
	cl, err := cloud.Parse(name)
	if err != nil {
		return cloudDef{}, cloud.Unknown(name, CloudNames()) // the catalog clouds are the valid ones here
	}
	for _, c := range clouds() {
		if c.name == cl.ID {
			return c, nil
		}
	}
	return cloudDef{}, fmt.Errorf("cloud %s (%s) has no MARS catalog (Azure Germany closed in 2021); use one of %s", cl.ID, quote.Q(name), strings.Join(CloudNames(), ", "))
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

var (
	storageAccountRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	vaultIDRE        = regexp.MustCompile(`^[0-9]{1,20}$`)
)

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
	b.out = append(b.out, ncsiEndpoints(c.name)...)
	return b.sorted(), nil
}

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

// clip cuts long user input for an error message.
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
			Source: SourceCatalog, Doc: docNCSI, Evidence: EvidenceDocumented}
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
