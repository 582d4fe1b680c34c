package targets

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
