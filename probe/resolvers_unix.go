//go:build !windows

package probe

// HostsPath is where this OS keeps its hosts file.
func HostsPath() string { return "/etc/hosts" }

// SystemResolvers returns the resolvers of /etc/resolv.conf as "IP:PORT".
func SystemResolvers() ([]string, error) {
	return resolversFromFile("/etc/resolv.conf")
}
