package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"egressprobe/internal/quote"
)

// maxResolvers is how many nameservers the system resolver uses (glibc's
// MAXNS, Go's resolver alike): the rest are never asked, so not probed.
const maxResolvers = 3

// ErrNoResolvers means the system configuration names no usable resolver.
var ErrNoResolvers = errors.New("no DNS resolver configured")

// resolversFromFile reads a resolv.conf file (SystemResolvers on Unix).
func resolversFromFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the system resolvers: %w; give one with --resolver IP:PORT", err)
	}
	defer f.Close()
	servers, err := ParseResolvConf(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; give one with --resolver IP:PORT", path, err)
	}
	return servers, nil
}

// ParseResolvConf returns the resolvers named by "nameserver ADDR" lines of a
// resolv.conf, as "IP:53" ("[fe80::1%eth0]:53" for a zoned IPv6 address), in
// file order, de-duplicated, at most the 3 the system resolver uses. Comments
// ('#' or ';'), other options and unparsable addresses are skipped as glibc
// does; no usable line at all is ErrNoResolvers, naming what was skipped.
func ParseResolvConf(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	var servers, skipped []string
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil {
			skipped = append(skipped, "line "+strconv.Itoa(line)+": "+quote.Q(fields[1]))
			continue
		}
		s := netip.AddrPortFrom(a, 53).String()
		if !containsString(servers, s) && len(servers) < maxResolvers {
			servers = append(servers, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading resolv.conf: %w", err)
	}
	if len(servers) == 0 {
		if len(skipped) > 0 {
			return nil, fmt.Errorf("%w: no nameserver line with an IP address (skipped %s)", ErrNoResolvers, strings.Join(skipped, ", "))
		}
		return nil, fmt.Errorf("%w: no nameserver line", ErrNoResolvers)
	}
	return servers, nil
}

// adapterDNS is one network adapter's DNS servers, as Windows reports them
// (GetAdaptersAddresses); kept OS-neutral so the selection is tested on Linux.
type adapterDNS struct {
	Up      bool   // OperStatus is IfOperStatusUp
	IfIndex uint32 // the IPv6 interface index, the zone of a link-local server
	Servers []netip.Addr
}

// windowsPlaceholderDNS are the deprecated site-local addresses Windows lists
// on adapters with IPv6 but no configured IPv6 DNS server; nothing answers there.
var windowsPlaceholderDNS = [...]netip.Addr{
	netip.AddrFrom16([16]byte{0xfe, 0xc0, 0, 0, 0, 0, 0xff, 0xff, 15: 1}),
	netip.AddrFrom16([16]byte{0xfe, 0xc0, 0, 0, 0, 0, 0xff, 0xff, 15: 2}),
	netip.AddrFrom16([16]byte{0xfe, 0xc0, 0, 0, 0, 0, 0xff, 0xff, 15: 3}),
}

// selectAdapterResolvers picks the resolvers Windows would use: the DNS
// servers of adapters that are up, in adapter order, de-duplicated, without
// the unspecified address or Windows' fec0:0:0:ffff::1-3 placeholders; a
// link-local IPv6 server gets its adapter's zone.
func selectAdapterResolvers(adapters []adapterDNS) ([]string, error) {
	var out []string
	for _, ad := range adapters {
		if !ad.Up {
			continue
		}
		for _, a := range ad.Servers {
			a = a.Unmap()
			if !a.IsValid() || a.IsUnspecified() || a == windowsPlaceholderDNS[0] || a == windowsPlaceholderDNS[1] || a == windowsPlaceholderDNS[2] {
				continue
			}
			if a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "" {
				a = a.WithZone(strconv.FormatUint(uint64(ad.IfIndex), 10))
			}
			if s := netip.AddrPortFrom(a, 53).String(); !containsString(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no network adapter that is up has a DNS server; give one with --resolver IP:PORT", ErrNoResolvers)
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
