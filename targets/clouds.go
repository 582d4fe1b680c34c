package targets

import (
	"fmt"
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

// member is a fixed catalog host: it needs no region and no user input.
type member struct {
	host, role, doc, evidence string
	tags                      []string
}

type cloudDef struct {
	name     string
	families []Family
	members  []member // fixed members; each must fall under one of families
	// authorities are the certificate authorities' hosts on port 80, in
	// FamilyAuthorities.
	authorities []authority
	regions     []Region
	backup      string // zone of the Backup pods: "backup.windowsazure.com"
	storage     string // storage endpoint suffix: "core.windows.net"
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
			authorities: globalAuthorities,
			regions:     publicRegions,
			backup:      "backup.windowsazure.com",
			storage:     "core.windows.net",
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
			authorities: globalAuthorities,
			regions:     usgovRegions,
			backup:      "backup.windowsazure.us",
			storage:     "core.usgovcloudapi.net",
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
			authorities: chinaAuthorities,
			regions:     chinaRegions,
			backup:      "backup.windowsazure.cn",
			storage:     "core.chinacloudapi.cn",
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
