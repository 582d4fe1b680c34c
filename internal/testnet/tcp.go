package testnet

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// LoopbackIP returns a distinct loopback address for each n: 127.x.y.z spread
// over 127/8 on Linux and Windows, where the whole block answers, and
// 127.0.0.1 elsewhere (macOS configures only that one).
func LoopbackIP(n int) string {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		return "127.0.0.1"
	}
	n++ // never 127.0.0.0
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// TCPClosed returns an address on ip where nothing listens: a connect there
// draws a TCP reset (tcp_refused).
func TCPClosed(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("testnet: closed port on %s: %v", ip, err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	if err := ln.Close(); err != nil {
		t.Fatalf("testnet: closed port on %s: %v", ip, err)
	}
	return addr
}

// TCPSilent accepts connections and never writes a byte, as a server or
// middlebox that completes the TCP handshake and then stalls.
func TCPSilent(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, drain)
}

// TCPDribble accepts and writes data one byte every interval, never reading:
// each read makes progress, so only an overall deadline stops a client.
func TCPDribble(t testing.TB, ip string, data []byte, every time.Duration) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) {
		for _, b := range data {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(every)
		}
		drain(c)
	})
}

// drain reads and discards until the peer closes, holding the connection open.
func drain(c net.Conn) {
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
