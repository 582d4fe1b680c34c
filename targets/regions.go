package targets

import (
	"fmt"
	"sort"
	"strings"
)

// Region is one Azure region a Recovery Services vault can live in.
type Region struct {
	Name    string // canonical: "westeurope" (the ARM location name)
	Display string // "West Europe"
	Tag     string // service-tag suffix: "WestEurope" as in "AzureBackup.WestEurope"
	Geo     string // Azure Backup geo code in pod host names: "we"; "" when undocumented
	// FabricAccount is the region's Azure Backup service storage account, which
	// Microsoft's own connectivity check probes; "" when not published.
	FabricAccount string
}

// The tables below join three sources:
//   - Name, Display and Tag: the regional AzureBackup.* / Storage.* tags and their
//     "region" property in the service-tag files (ServiceTags_Public_20250908.json,
//     ServiceTags_China_20260720.json, ServiceTags_AzureGovernment_20260720.json from
//     https://www.microsoft.com/download/details.aspx?id=56519, id=57062, id=57063);
//   - Geo: "Geo-code mapping", https://learn.microsoft.com/azure/backup/scripts/geo-code-list
//     (only the primary codes; the codes ending in "r" there name the paired region);
//   - FabricAccount: Check.ServiceConnectivity in Microsoft's SAP HANA pre-registration
//     script (https://aka.ms/scriptforpermsonhana), which probes
//     https://<account>.blob.core.<suffix>, .queue.core.<suffix> and
//     https://pod01-prot1.<geo>.backup.windowsazure.<tld> for each region.
//
// Regions whose tag exists but whose geo code Microsoft has not published get no
// backup pods; `targets list` names them so the user can add hosts with --member.
var publicRegions = []Region{
	{"australiacentral", "Australia Central", "AustraliaCentral", "acl", "aclpod01fab1wxsajyqyj"},
	{"australiacentral2", "Australia Central 2", "AustraliaCentral2", "acl2", "acl2pod01fab1wxsaa1ghw"},
	{"australiaeast", "Australia East", "AustraliaEast", "ae", "aepod01fab1wxsai4sv4"},
	{"australiasoutheast", "Australia Southeast", "AustraliaSoutheast", "ase", "asepod01fab1wxsatu7ut"},
	{"austriaeast", "Austria East", "AustriaEast", "", ""},
	{"brazilsouth", "Brazil South", "BrazilSouth", "brs", "brspod01fab1wxsaj8cwf"},
	{"brazilsoutheast", "Brazil Southeast", "BrazilSoutheast", "bse", ""},
	{"canadacentral", "Canada Central", "CanadaCentral", "cnc", "cncpod01fab1wxsakmklr"},
	{"canadaeast", "Canada East", "CanadaEast", "cne", "cnepod01fab1wxsald6z1"},
	{"centralindia", "Central India", "CentralIndia", "inc", "incpod01fab1wxsafouqx"},
	{"centralus", "Central US", "CentralUS", "cus", "cuspod01fab1wxsar4zyr"},
	{"centraluseuap", "Central US EUAP", "CentralUSEUAP", "ccy", ""},
	{"chilecentral", "Chile Central", "ChileCentral", "", ""},
	{"eastasia", "East Asia", "EastAsia", "ea", "eapod01fab1wxsaa7o8l"},
	{"eastus", "East US", "EastUS", "eus", "euspod01fab1wxsanhice"},
	{"eastus2", "East US 2", "EastUS2", "eus2", "eus2pod01fab1wxsadqy6r"},
	{"eastus2euap", "East US 2 EUAP", "EastUS2EUAP", "ecy", ""},
	{"francecentral", "France Central", "FranceCentral", "frc", "frcpod01fab1wxsat4ryw"},
	{"francesouth", "France South", "FranceSouth", "frs", "frspod01fab1wxsaxyjax"},
	{"germanynorth", "Germany North", "GermanyNorth", "gn", "gnpod01fab1wxsa9iii0"},
	{"germanywestcentral", "Germany West Central", "GermanyWestCentral", "gwc", "gwcpod01fab1wxsagzbp5"},
	{"indonesiacentral", "Indonesia Central", "IndonesiaCentral", "", ""},
	{"israelcentral", "Israel Central", "IsraelCentral", "", ""},
	{"israelnorthwest", "Israel Northwest", "IsraelNorthwest", "", ""},
	{"italynorth", "Italy North", "ItalyNorth", "", ""},
	{"japaneast", "Japan East", "JapanEast", "jpe", "jpepod01fab1wxsas2j8q"},
	{"japanwest", "Japan West", "JapanWest", "jpw", "jpwpod01fab1wxsaj9ksn"},
	{"jioindiacentral", "Jio India Central", "JioIndiaCentral", "jic", ""},
	{"jioindiawest", "Jio India West", "JioIndiaWest", "jiw", ""},
	{"koreacentral", "Korea Central", "KoreaCentral", "krc", "krcpod01fab1wxsa2m8aq"},
	{"koreasouth", "Korea South", "KoreaSouth", "krs", "krspod01fab1wxsak15a6"},
	{"malaysiasouth", "Malaysia South", "MalaysiaSouth", "", ""},
	{"malaysiawest", "Malaysia West", "MalaysiaWest", "", ""},
	{"mexicocentral", "Mexico Central", "MexicoCentral", "", ""},
	{"newzealandnorth", "New Zealand North", "NewZealandNorth", "", ""},
	{"northcentralus", "North Central US", "NorthCentralUS", "ncus", "ncuspod01fab1wxsac19bc"},
	{"northeurope", "North Europe", "NorthEurope", "ne", "nepod01fab1wxsag8ksw"},
	{"norwayeast", "Norway East", "NorwayEast", "nwe", "nwepod01fab1wxsa56atw"},
	{"norwaywest", "Norway West", "NorwayWest", "nww", "nwwpod01fab1wxsacnbvq"},
	{"polandcentral", "Poland Central", "PolandCentral", "", ""},
	{"qatarcentral", "Qatar Central", "QatarCentral", "", ""},
	{"southafricanorth", "South Africa North", "SouthAfricaNorth", "san", "sanpod01fab1wxsaqslgm"},
	{"southafricawest", "South Africa West", "SouthAfricaWest", "saw", "sawpod01fab1wxsaor9bk"},
	{"southcentralus", "South Central US", "SouthCentralUS", "scus", "scuspod01fab1wxsaojuir"},
	{"southcentralus2", "South Central US 2", "SouthCentralUS2", "", ""},
	{"southeastasia", "Southeast Asia", "SoutheastAsia", "sea", "seapod01fab1wxsapk732"},
	{"southeastus", "Southeast US", "SoutheastUS", "", ""},
	{"southeastus3", "Southeast US 3", "SoutheastUS3", "", ""},
	{"southindia", "South India", "SouthIndia", "ins", "inspod01fab1wxsajidjx"},
	{"spaincentral", "Spain Central", "SpainCentral", "", ""},
	{"swedencentral", "Sweden Central", "SwedenCentral", "sdc", ""},
	{"swedensouth", "Sweden South", "SwedenSouth", "sds", ""},
	{"switzerlandnorth", "Switzerland North", "SwitzerlandNorth", "szn", "sznpod01fab1wxsaoh61w"},
	{"switzerlandwest", "Switzerland West", "SwitzerlandWest", "szw", "szwpod01fab1wxsazdbvl"},
	{"taiwannorth", "Taiwan North", "TaiwanNorth", "", ""},
	{"taiwannorthwest", "Taiwan Northwest", "TaiwanNorthwest", "", ""},
	{"uaecentral", "UAE Central", "UAECentral", "uac", "uacpod01fab1wxsa97cxf"},
	{"uaenorth", "UAE North", "UAENorth", "uan", "uanpod01fab1wxsaozt5l"},
	{"uksouth", "UK South", "UKSouth", "uks", "ukspod01fab1wxsarr1fn"},
	{"ukwest", "UK West", "UKWest", "ukw", "ukwpod01fab1wxsajx51y"},
	{"westcentralus", "West Central US", "WestCentralUS", "wcus", "wcuspod01fab1wxsaqdfdu"},
	{"westeurope", "West Europe", "WestEurope", "we", "wepod01fab1wxsa4wq1d"},
	{"westindia", "West India", "WestIndia", "inw", "inwpod01fab1wxsakmfn8"},
	{"westus", "West US", "WestUS", "wus", "wuspod01fab1wxsa95jfo"},
	{"westus2", "West US 2", "WestUS2", "wus2", "wus2pod01fab1wxsata8kz"},
	{"westus3", "West US 3", "WestUS3", "wus3", ""},
}

var chinaRegions = []Region{
	{"chinaeast", "China East", "ChinaEast", "sha", "shapod01fab1wxsad4ak9"},
	{"chinaeast2", "China East 2", "ChinaEast2", "sha2", "sha2pod01fab1wxsai042v"},
	{"chinaeast3", "China East 3", "ChinaEast3", "", ""},
	{"chinanorth", "China North", "ChinaNorth", "bjb", "bjbpod01fab1wxsa93erj"},
	{"chinanorth2", "China North 2", "ChinaNorth2", "bjb2", "bjb2pod01fab1wxsa5pys4"},
	{"chinanorth3", "China North 3", "ChinaNorth3", "", ""},
}

var usgovRegions = []Region{
	{"usdodcentral", "USDoD Central", "USDoDCentral", "udc", "udcpod01fab1wxsahrru3"},
	{"usdodeast", "USDoD East", "USDoDEast", "ude", "udepod01fab1wxsaxxsyj"},
	{"usgovarizona", "USGov Arizona", "USGovArizona", "uga", "ugapod01fab1wxsasbss5"},
	{"usgovtexas", "USGov Texas", "USGovTexas", "ugt", "ugtpod01fab1wxsayj9k8"},
	{"usgovvirginia", "USGov Virginia", "USGovVirginia", "ugv", "ugvpod01fab1wxsa4lrr1"},
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
	return Region{}, fmt.Errorf("unknown region %q for cloud %s; valid regions: %s", name, c.name, strings.Join(names, ", "))
}
