package testnet

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// wsaEOPNOTSUPP is what opening any UDP socket returns to a Go ≥ 1.24 Windows
// binary under Wine 8: Go sets SIO_UDP_NETRESET on every UDP socket and Wine
// 8 does not know that ioctl ("wsaioctl: winapi error #10045"). Real Windows
// never returns it there; Linux has no errno of that number.
const wsaEOPNOTSUPP = syscall.Errno(10045)

// ListenUDP opens a UDP socket on addr ("127.0.0.1:0"). Where no UDP socket
// can be opened at all (Windows under Wine 8) the test is skipped, saying
// why: the UDP code is the same on every OS and runs in the Linux tests.
func ListenUDP(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatalf("testnet: UDP address %q: %v", addr, err)
	}
	pc, err := net.ListenUDP("udp", a)
	if errors.Is(err, wsaEOPNOTSUPP) {
		t.Skip("testnet: no UDP socket opens under Wine 8 (it lacks SIO_UDP_NETRESET, which Go sets on every UDP socket); the Linux tests run this")
	}
	if err != nil {
		t.Fatalf("testnet: UDP listen on %s: %v", addr, err)
	}
	return pc
}
