//go:build !windows

package probe

// SystemResolvers returns the resolvers of /etc/resolv.conf as "IP:PORT".
func SystemResolvers() ([]string, error) {
	return resolversFromFile("/etc/resolv.conf")
}
