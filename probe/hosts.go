package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
)

// HostsResolver is the Resolver of a target answered by the hosts file: the
// agent, like every OS resolver, reads the hosts file before asking DNS.
const HostsResolver = "hosts"

// Hosts is a parsed hosts file: each name (lower case, no trailing dot) with
// its addresses in file order. The zero value is an empty file.
type Hosts struct {
	Path  string
	names map[string][]netip.Addr
}

// ReadHosts reads and parses the hosts file at path; a file that does not
// exist is an empty one (a minimal container has none).
func ReadHosts(path string) (*Hosts, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Hosts{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the hosts file: %w", err)
	}
	return ParseHosts(path, data), nil
}

// ParseHosts parses hosts-file text as the OS resolvers read it: "#" starts a
// comment, each line is an address and one or more names separated by
// blanks, IPv6 addresses may carry a zone (fe80::1%eth0). A line whose first
// field is not an address is skipped, as they skip it; a name on several
// lines gets every address, de-duplicated.
func ParseHosts(path string, data []byte) *Hosts {
	h := &Hosts{Path: path, names: map[string][]netip.Addr{}}
	for line := range bytes.Lines(data) {
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(string(line))
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		a = a.Unmap()
		for _, name := range fields[1:] {
			name = strings.ToLower(strings.TrimSuffix(name, "."))
			if name == "" || slices.Contains(h.names[name], a) {
				continue
			}
			h.names[name] = append(h.names[name], a)
		}
	}
	return h
}

// Lookup returns the file's addresses for name (any case, trailing dot or
// not); nil when it has none.
func (h *Hosts) Lookup(name string) []netip.Addr {
	if h == nil {
		return nil
	}
	return h.names[strings.ToLower(strings.TrimSuffix(name, "."))]
}

// ResolveHosts is the DNS step of a target answered by the hosts file: its
// addresses, judged as a resolver's answer is (0.0.0.0 is a block).
func ResolveHosts(host string, addrs []netip.Addr) DNSResult {
	res := DNSResult{Host: host, Server: HostsResolver, Addrs: addrs}
	res.Start = time.Now()
	res.Outcome = OK
	if len(addrs) == 0 {
		res.Outcome, res.Error = DNSNoData, fmt.Sprintf("the hosts file has no address for %s", host)
	}
	judgeBlocked(&res)
	res.Duration = time.Since(res.Start)
	return res
}

// judgeBlocked makes an answer holding the unspecified address (0.0.0.0 or
// ::) dns_blocked: it is how DNS filters (RPZ, Pi-hole, protective DNS
// services) and hosts-file block lists stop a name, and connecting to it
// would reach this host, not the service.
func judgeBlocked(res *DNSResult) {
	if res.Outcome != OK {
		return
	}
	for _, a := range res.Addrs {
		if !a.IsUnspecified() {
			continue
		}
		by := "resolver " + res.Server + " answers"
		if res.Server == HostsResolver {
			by = "this machine's hosts file maps it to"
		}
		res.Outcome, res.Warning = DNSBlocked, ""
		res.Error = fmt.Sprintf("%s is blocked by name: %s %s, how a DNS filter or block list stops a name; nothing was connected to", res.Host, by, a)
		return
	}
}
