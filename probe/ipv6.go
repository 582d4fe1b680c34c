package probe

import (
	"fmt"
	"net"
	"net/netip"
)

// IPv6Reach is whether this host can reach IPv6 at all, decided once per run
// (DetectIPv6) and given to Run, which skips IPv6 addresses when it cannot:
// most servers that run the agent are IPv4-only, and the agent never uses an
// AAAA answer there, so a failed connect to it is not the firewall's.
type IPv6Reach struct {
	Available bool   `json:"available"`
	Detail    string `json:"detail"` // the source address and interface, or why there is none
}

// ipv6RouteProbe is the global address whose route DetectIPv6 asks for: an
// address in Microsoft's Azure space, as the agent's endpoints are. Any
// global address would do; a host with only a default route has one for all.
var ipv6RouteProbe = netip.MustParseAddrPort("[2603:1000::1]:443")

// DetectIPv6 finds out, without sending a packet, whether this host has a
// global IPv6 address on an up interface and a route to the IPv6 internet:
// a UDP "connect" only looks the route up and picks the source address (on
// Windows as on Linux); it sends nothing.
func DetectIPv6() IPv6Reach {
	ifs, err := net.Interfaces()
	if err != nil {
		return IPv6Reach{Detail: fmt.Sprintf("cannot list the network interfaces: %v", err)}
	}
	global := map[netip.Addr]string{} // address → interface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if pfx, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(pfx.IP); ok && ip.Is6() && !ip.Is4In6() && ip.IsGlobalUnicast() {
					global[ip] = ifc.Name
				}
			}
		}
	}
	if len(global) == 0 {
		return IPv6Reach{Detail: "no global IPv6 address on an up interface"}
	}
	c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(ipv6RouteProbe))
	if err != nil {
		return IPv6Reach{Detail: fmt.Sprintf("a global IPv6 address but no route to the IPv6 internet (%v)", innermost(err))}
	}
	defer c.Close()
	src := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	ifc, ok := global[src]
	if !ok {
		return IPv6Reach{Detail: fmt.Sprintf("a route to the IPv6 internet but only from %s, not a global address on an up interface", src)}
	}
	return IPv6Reach{Available: true, Detail: fmt.Sprintf("%s on %s, with a route to the IPv6 internet", src, ifc)}
}

// skipsIPv6 reports whether Run skips addr: an IPv6 address other than
// loopback, on a host that has no IPv6 (reach non-nil and not available).
func skipsIPv6(reach *IPv6Reach, addr netip.Addr) bool {
	return reach != nil && !reach.Available && addr.Is6() && !addr.Is4In6() && !addr.IsLoopback()
}
