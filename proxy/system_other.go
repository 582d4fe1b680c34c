//go:build !windows

package proxy

// ReadSystem returns the OS proxy settings: none outside Windows, where the
// environment is the convention.
func ReadSystem() (System, error) { return System{}, nil }
