package probe

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// HostsPath is where Windows keeps its hosts file:
// %SystemRoot%\System32\drivers\etc\hosts.
func HostsPath() string {
	return filepath.Join(cmp.Or(os.Getenv("SystemRoot"), `C:\Windows`), "System32", "drivers", "etc", "hosts")
}

// SystemResolvers returns the DNS servers of the adapters that are up, as
// "IP:PORT".
func SystemResolvers() ([]string, error) {
	adapters, err := adapterDNSServers()
	if err != nil {
		return nil, fmt.Errorf("reading the adapters' DNS servers: %w; give one with --resolver IP:PORT", err)
	}
	return selectAdapterResolvers(adapters)
}

// adapterDNSServers lists every adapter's DNS servers with
// GetAdaptersAddresses, growing the buffer as the call asks.
func adapterDNSServers() ([]adapterDNS, error) {
	const flags = windows.GAA_FLAG_SKIP_UNICAST | windows.GAA_FLAG_SKIP_ANYCAST |
		windows.GAA_FLAG_SKIP_MULTICAST | windows.GAA_FLAG_SKIP_FRIENDLY_NAME
	size := uint32(15000) // Microsoft's suggested first size
	for range 4 {
		buf := make([]byte, size)
		first := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, flags, 0, first, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
		var out []adapterDNS
		for aa := first; aa != nil; aa = aa.Next {
			ad := adapterDNS{Up: aa.OperStatus == windows.IfOperStatusUp, IfIndex: aa.Ipv6IfIndex}
			for s := aa.FirstDnsServerAddress; s != nil; s = s.Next {
				if a, ok := netip.AddrFromSlice(s.Address.IP()); ok {
					ad.Servers = append(ad.Servers, a)
				}
			}
			out = append(out, ad)
		}
		return out, nil
	}
	return nil, errors.New("GetAdaptersAddresses: the adapter list kept growing")
}
