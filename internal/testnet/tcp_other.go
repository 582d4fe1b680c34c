//go:build !linux

package testnet

import (
	"net/netip"
	"testing"
)

// TCPBlackhole needs Linux's accept-queue overflow behaviour; elsewhere the
// test that wants a silent drop is skipped.
func TCPBlackhole(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	t.Skip("testnet: a loopback SYN blackhole needs Linux (accept-queue overflow drops SYNs)")
	return netip.AddrPort{}
}
