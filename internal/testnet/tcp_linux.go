package testnet

import (
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TCPBlackhole returns an address on ip (IPv4) where SYNs are silently
// dropped, as behind a firewall "drop" rule, without root: a listener with a
// backlog of 0 whose accept queue is filled and never drained makes the Linux
// kernel drop further SYNs (counted as ListenOverflows).
func TCPBlackhole(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		t.Fatalf("testnet: blackhole needs an IPv4 address, got %q", ip)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("testnet: blackhole socket: %v", err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: a.As4()}); err != nil {
		t.Fatalf("testnet: blackhole bind %s: %v", ip, err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatalf("testnet: blackhole listen: %v", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatalf("testnet: blackhole getsockname: %v", err)
	}
	addr := netip.AddrPortFrom(a, uint16(sa.(*unix.SockaddrInet4).Port))
	// Fill the accept queue until a connect times out: the first connects
	// complete into the queue, then the kernel starts dropping SYNs.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Fatalf("testnet: blackhole %s still accepts connections after 8 fills", addr)
	return addr
}

// TLSSmallSegmentsOnly is a loopback stand-in for a server behind a path-MTU
// blackhole: it serves TLS with cert only on connections whose segment size
// (TCP_MAXSEG as the server sees it) the client clamped to at most maxMSS,
// and on the others reads the ClientHello and stays silent, as a server whose
// big packets are lost on the way seems to its client.
func TLSSmallSegmentsOnly(t testing.TB, ip string, cert tls.Certificate, maxMSS int) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) {
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			return
		}
		mss := 0
		_ = rc.Control(func(fd uintptr) { mss, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG) })
		if mss > maxMSS {
			_, _ = io.Copy(io.Discard, c) // until the client gives up or the test ends
			return
		}
		_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
	})
}
