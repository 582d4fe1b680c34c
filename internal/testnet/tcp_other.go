//go:build !linux

package testnet

import (
	"net/netip"
	"runtime"
	"testing"

	"egressprobe/internal/testenv"
)

// TCPBlackhole returns an address where SYNs are silently dropped. Linux makes
// one on ip (tcp_linux.go). A Windows test under .ci/wine/exec gets one from
// its network namespace instead, not on ip: 203.0.113.1 is routed into
// loopback, where nothing answers. Elsewhere the test is skipped.
func TCPBlackhole(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	if runtime.GOOS == "windows" {
		a, err := netip.ParseAddr(testenv.WineNetns(t)["dropped"])
		if err != nil {
			t.Fatalf("testnet: blackhole: the Wine namespace names no dropped address: %v", err)
		}
		return netip.AddrPortFrom(a, 9)
	}
	t.Skip("testnet: a loopback SYN blackhole needs Linux (accept-queue overflow drops SYNs)")
	return netip.AddrPort{}
}
