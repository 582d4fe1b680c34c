package targets

import (
	"net/netip"
)

// ncsiFamilies are the same in every cloud: Windows' own connectivity probes.
var ncsiFamilies = []Family{
	{Pattern: "www.msftconnecttest.com", Doc: docNCSI},
	{Pattern: "www.msftncsi.com", Doc: docNCSI},
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
