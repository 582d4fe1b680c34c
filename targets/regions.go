package targets

import (
	"fmt"
	"sort"
	"strings"

	"egressprobe/internal/quote"
)

// Region is one Azure region a Recovery Services vault can live in.
type Region struct {
	Name    string // canonical: "westeurope" (the ARM location name)
	Display string // "West Europe"
	Tag     string // service-tag suffix: "WestEurope" as in "AzureBackup.WestEurope"
	// Geo is the Azure Backup geo code in pod host names and in the vault's
	// private DNS zone privatelink.<geo>.backup.windowsazure.<tld>: "we".
	Geo string
	// Pods: Microsoft's own connectivity check (the SAP HANA script) lists the
	// region, so its public pods pod01-<service>.<geo>... are catalog members.
	// A code known only from the Landing Zones maps (private DNS zones) says
	// nothing about public pod names.
	Pods bool
	// FabricAccount is the region's Azure Backup service storage account, which
	// the same script probes; "" when no source available here names it.
	FabricAccount string
	// Source is the testdata/sources file (without .txt) that Geo, Pods and
	// FabricAccount come from; TestRegionsMatchSources checks every row
	// against every file there.
	Source string
}

// Sources of the region tables, in the order they are preferred; each is
// kept as an extract in testdata/sources with its URL, version and date.
const (
	// Microsoft's SAP HANA pre-registration script (https://aka.ms/scriptforpermsonhana),
	// version 2.0.8.3: Check.ServiceConnectivity probes, per region,
	// https://<account>.blob.core.<suffix>, .queue.core.<suffix> and
	// https://pod01-prot1.<geo>.backup.windowsazure.<tld>.
	srcHANA2083 = "hana-script-2.0.8.3"
	// The same script, version 2.1.0.11 (2025-08): the regions it adds, as
	// issue #19 lists them; the account names were not available.
	srcHANA21011 = "hana-script-2.1.0.11"
	// Azure Landing Zones: azBackupGeoCodes in Azure/Enterprise-Scale
	// eslzArm/eslzArm.json, and the newer map of the AVM private DNS zones
	// module the Landing Zones accelerators deploy.
	srcESLZ = "alz-eslzArm-azBackupGeoCodes"
	srcAVM  = "alz-avm-private-link-dns-zones"
)

// The tables join the region's names from the service-tag files (the regional
// AzureBackup.* / Storage.* tags and their "region" property in
// ServiceTags_Public_20250908.json, ServiceTags_China_20260720.json,
// ServiceTags_AzureGovernment_20260720.json from
// https://www.microsoft.com/download/details.aspx?id=56519, id=57062, id=57063)
// with the Backup data of the sources above (Geo, Pods, FabricAccount, Source).
var publicRegions = []Region{
	{"australiacentral", "Australia Central", "AustraliaCentral", "acl", true, "aclpod01fab1wxsajyqyj", srcHANA2083},
	{"australiacentral2", "Australia Central 2", "AustraliaCentral2", "acl2", true, "acl2pod01fab1wxsaa1ghw", srcHANA2083},
	{"australiaeast", "Australia East", "AustraliaEast", "ae", true, "aepod01fab1wxsai4sv4", srcHANA2083},
	{"australiasoutheast", "Australia Southeast", "AustraliaSoutheast", "ase", true, "asepod01fab1wxsatu7ut", srcHANA2083},
	{"austriaeast", "Austria East", "AustriaEast", "aue", false, "", srcAVM},
	{"brazilsouth", "Brazil South", "BrazilSouth", "brs", true, "brspod01fab1wxsaj8cwf", srcHANA2083},
	{"brazilsoutheast", "Brazil Southeast", "BrazilSoutheast", "bse", true, "", srcHANA21011},
	{"canadacentral", "Canada Central", "CanadaCentral", "cnc", true, "cncpod01fab1wxsakmklr", srcHANA2083},
	{"canadaeast", "Canada East", "CanadaEast", "cne", true, "cnepod01fab1wxsald6z1", srcHANA2083},
	{"centralindia", "Central India", "CentralIndia", "inc", true, "incpod01fab1wxsafouqx", srcHANA2083},
	{"centralus", "Central US", "CentralUS", "cus", true, "cuspod01fab1wxsar4zyr", srcHANA2083},
	{"centraluseuap", "Central US EUAP", "CentralUSEUAP", "ccy", false, "", srcESLZ},
	{"chilecentral", "Chile Central", "ChileCentral", "clc", false, "", srcAVM},
	{"eastasia", "East Asia", "EastAsia", "ea", true, "eapod01fab1wxsaa7o8l", srcHANA2083},
	{"eastus", "East US", "EastUS", "eus", true, "euspod01fab1wxsanhice", srcHANA2083},
	{"eastus2", "East US 2", "EastUS2", "eus2", true, "eus2pod01fab1wxsadqy6r", srcHANA2083},
	{"eastus2euap", "East US 2 EUAP", "EastUS2EUAP", "ecy", false, "", srcESLZ},
	{"francecentral", "France Central", "FranceCentral", "frc", true, "frcpod01fab1wxsat4ryw", srcHANA2083},
	{"francesouth", "France South", "FranceSouth", "frs", true, "frspod01fab1wxsaxyjax", srcHANA2083},
	{"germanynorth", "Germany North", "GermanyNorth", "gn", true, "gnpod01fab1wxsa9iii0", srcHANA2083},
	{"germanywestcentral", "Germany West Central", "GermanyWestCentral", "gwc", true, "gwcpod01fab1wxsagzbp5", srcHANA2083},
	{"indonesiacentral", "Indonesia Central", "IndonesiaCentral", "idc", false, "", srcAVM},
	{"israelcentral", "Israel Central", "IsraelCentral", "ilc", true, "", srcHANA21011},
	{"israelnorthwest", "Israel Northwest", "IsraelNorthwest", "iln", false, "", srcAVM},
	{"italynorth", "Italy North", "ItalyNorth", "itn", true, "", srcHANA21011},
	{"japaneast", "Japan East", "JapanEast", "jpe", true, "jpepod01fab1wxsas2j8q", srcHANA2083},
	{"japanwest", "Japan West", "JapanWest", "jpw", true, "jpwpod01fab1wxsaj9ksn", srcHANA2083},
	{"jioindiacentral", "Jio India Central", "JioIndiaCentral", "jic", true, "", srcHANA21011},
	{"jioindiawest", "Jio India West", "JioIndiaWest", "jiw", true, "", srcHANA21011},
	{"koreacentral", "Korea Central", "KoreaCentral", "krc", true, "krcpod01fab1wxsa2m8aq", srcHANA2083},
	{"koreasouth", "Korea South", "KoreaSouth", "krs", true, "krspod01fab1wxsak15a6", srcHANA2083},
	{"malaysiasouth", "Malaysia South", "MalaysiaSouth", "mys", true, "", srcHANA21011},
	{"malaysiawest", "Malaysia West", "MalaysiaWest", "myw", false, "", srcAVM},
	{"mexicocentral", "Mexico Central", "MexicoCentral", "mxc", true, "", srcHANA21011},
	{"newzealandnorth", "New Zealand North", "NewZealandNorth", "nzn", true, "", srcHANA21011},
	{"northcentralus", "North Central US", "NorthCentralUS", "ncus", true, "ncuspod01fab1wxsac19bc", srcHANA2083},
	{"northeurope", "North Europe", "NorthEurope", "ne", true, "nepod01fab1wxsag8ksw", srcHANA2083},
	{"norwayeast", "Norway East", "NorwayEast", "nwe", true, "nwepod01fab1wxsa56atw", srcHANA2083},
	{"norwaywest", "Norway West", "NorwayWest", "nww", true, "nwwpod01fab1wxsacnbvq", srcHANA2083},
	{"polandcentral", "Poland Central", "PolandCentral", "plc", true, "", srcHANA21011},
	{"qatarcentral", "Qatar Central", "QatarCentral", "qac", true, "", srcHANA21011},
	{"southafricanorth", "South Africa North", "SouthAfricaNorth", "san", true, "sanpod01fab1wxsaqslgm", srcHANA2083},
	{"southafricawest", "South Africa West", "SouthAfricaWest", "saw", true, "sawpod01fab1wxsaor9bk", srcHANA2083},
	{"southcentralus", "South Central US", "SouthCentralUS", "scus", true, "scuspod01fab1wxsaojuir", srcHANA2083},
	{"southcentralus2", "South Central US 2", "SouthCentralUS2", "usc2", false, "", srcAVM},
	{"southeastasia", "Southeast Asia", "SoutheastAsia", "sea", true, "seapod01fab1wxsapk732", srcHANA2083},
	{"southeastus", "Southeast US", "SoutheastUS", "use", false, "", srcAVM},
	{"southeastus3", "Southeast US 3", "SoutheastUS3", "use3", false, "", srcAVM},
	{"southindia", "South India", "SouthIndia", "ins", true, "inspod01fab1wxsajidjx", srcHANA2083},
	{"spaincentral", "Spain Central", "SpainCentral", "spc", true, "", srcHANA21011},
	{"swedencentral", "Sweden Central", "SwedenCentral", "sdc", true, "", srcHANA21011},
	{"swedensouth", "Sweden South", "SwedenSouth", "sds", true, "", srcHANA21011},
	{"switzerlandnorth", "Switzerland North", "SwitzerlandNorth", "szn", true, "sznpod01fab1wxsaoh61w", srcHANA2083},
	{"switzerlandwest", "Switzerland West", "SwitzerlandWest", "szw", true, "szwpod01fab1wxsazdbvl", srcHANA2083},
	{"taiwannorth", "Taiwan North", "TaiwanNorth", "twn", true, "", srcHANA21011},
	{"taiwannorthwest", "Taiwan Northwest", "TaiwanNorthwest", "tnw", true, "", srcHANA21011},
	{"uaecentral", "UAE Central", "UAECentral", "uac", true, "uacpod01fab1wxsa97cxf", srcHANA2083},
	{"uaenorth", "UAE North", "UAENorth", "uan", true, "uanpod01fab1wxsaozt5l", srcHANA2083},
	{"uksouth", "UK South", "UKSouth", "uks", true, "ukspod01fab1wxsarr1fn", srcHANA2083},
	{"ukwest", "UK West", "UKWest", "ukw", true, "ukwpod01fab1wxsajx51y", srcHANA2083},
	{"westcentralus", "West Central US", "WestCentralUS", "wcus", true, "wcuspod01fab1wxsaqdfdu", srcHANA2083},
	{"westeurope", "West Europe", "WestEurope", "we", true, "wepod01fab1wxsa4wq1d", srcHANA2083},
	{"westindia", "West India", "WestIndia", "inw", true, "inwpod01fab1wxsakmfn8", srcHANA2083},
	{"westus", "West US", "WestUS", "wus", true, "wuspod01fab1wxsa95jfo", srcHANA2083},
	{"westus2", "West US 2", "WestUS2", "wus2", true, "wus2pod01fab1wxsata8kz", srcHANA2083},
	{"westus3", "West US 3", "WestUS3", "wus3", true, "", srcHANA21011},
}

var chinaRegions = []Region{
	{"chinaeast", "China East", "ChinaEast", "sha", true, "shapod01fab1wxsad4ak9", srcHANA2083},
	{"chinaeast2", "China East 2", "ChinaEast2", "sha2", true, "sha2pod01fab1wxsai042v", srcHANA2083},
	{"chinaeast3", "China East 3", "ChinaEast3", "sha3", true, "", srcHANA21011},
	{"chinanorth", "China North", "ChinaNorth", "bjb", true, "bjbpod01fab1wxsa93erj", srcHANA2083},
	{"chinanorth2", "China North 2", "ChinaNorth2", "bjb2", true, "bjb2pod01fab1wxsa5pys4", srcHANA2083},
	{"chinanorth3", "China North 3", "ChinaNorth3", "bjb3", true, "", srcHANA21011},
}

var usgovRegions = []Region{
	{"usdodcentral", "USDoD Central", "USDoDCentral", "udc", true, "udcpod01fab1wxsahrru3", srcHANA2083},
	{"usdodeast", "USDoD East", "USDoDEast", "ude", true, "udepod01fab1wxsaxxsyj", srcHANA2083},
	{"usgovarizona", "USGov Arizona", "USGovArizona", "uga", true, "ugapod01fab1wxsasbss5", srcHANA2083},
	{"usgovtexas", "USGov Texas", "USGovTexas", "ugt", true, "ugtpod01fab1wxsayj9k8", srcHANA2083},
	{"usgovvirginia", "USGov Virginia", "USGovVirginia", "ugv", true, "ugvpod01fab1wxsa4lrr1", srcHANA2083},
}

// normRegion folds "West Europe", "WestEurope", "west-europe" to "westeurope".
func normRegion(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r != ' ' && r != '-' && r != '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Regions lists the regions of a cloud, sorted by name.
func Regions(cloud string) ([]Region, error) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return nil, err
	}
	out := append([]Region(nil), c.regions...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LookupRegion finds a region of cloud by any common spelling of its name
// ("westeurope", "West Europe", "WestEurope"). An unknown region is an error
// that names the value and lists the valid ones.
func LookupRegion(cloud, name string) (Region, error) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return Region{}, err
	}
	n := normRegion(name)
	for _, r := range c.regions {
		if r.Name == n {
			return r, nil
		}
	}
	names := make([]string, len(c.regions))
	for i, r := range c.regions {
		names[i] = r.Name
	}
	hint := quote.DidYouMean(n, names)
	for _, other := range clouds() {
		for _, r := range other.regions {
			if hint == "" && r.Name == n {
				hint = fmt.Sprintf("; %s is a region of cloud %s: give --cloud %s", r.Name, other.name, other.name)
			}
		}
	}
	if hint == "" {
		// Not a slip of the fingers: a line of every region would bury the
		// error; say what a region name looks like instead.
		hint = fmt.Sprintf("; give the region's name as Azure writes it, e.g. %s (shell completion lists all %d)", c.regions[0].Name, len(c.regions))
	}
	return Region{}, fmt.Errorf("unknown region %s for cloud %s%s", quote.Q(name), c.name, hint)
}
