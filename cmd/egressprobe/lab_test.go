package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"

	"egressprobe/internal/testnet"
)

// lab is a loopback world: a resolver, a CA, and TLS servers for names.
type lab struct {
	ca     *testnet.CA
	caFile string
	zone   testnet.DNSZone
	dns    *testnet.DNSServer
}

func newLab(t *testing.T) *lab {
	ca := testnet.NewCA(t, "egressprobe e2e root")
	return &lab{ca: ca, caFile: ca.WritePEM(t), zone: testnet.DNSZone{}}
}

// https serves a TLS web server for names on ip at an ephemeral port.
func (l *lab) https(t *testing.T, ip string, names ...string) netip.AddrPort {
	cert := l.ca.Leaf(t, names, nil, testnet.LeafOptions{})
	return testnet.ServeHTTP(t, ip, testnet.NCSI("ok"), &cert)
}

// httpsIP serves a TLS web server on ip at an ephemeral port whose leaf names
// ip itself, for targets given as IP literals (no DNS).
func (l *lab) httpsIP(t *testing.T, ip string) netip.AddrPort {
	cert := l.ca.Leaf(t, nil, []net.IP{net.ParseIP(ip)}, testnet.LeafOptions{})
	return testnet.ServeHTTP(t, ip, testnet.NCSI("ok"), &cert)
}

// silentTargets serves n TCP servers that accept and never speak, on
// 127.0.subnet.1 to .n, named mute<i>.lab.test, and returns them as
// command-line targets "name:port".
func (l *lab) silentTargets(t *testing.T, subnet, n int) []string {
	var out []string
	for i := range n {
		ip := fmt.Sprintf("127.0.%d.%d", subnet, i+1)
		addr := testnet.TCPSilent(t, ip)
		host := fmt.Sprintf("mute%d.lab.test", i)
		l.zone[host] = testnet.DNSName{A: a(ip)}
		out = append(out, fmt.Sprintf("%s:%d", host, addr.Port()))
	}
	return out
}

func (l *lab) start(t *testing.T) string {
	l.dns = testnet.NewDNSServer(t, l.zone)
	return l.dns.Addr
}

// catalogListen is for tests that serve catalog hosts on their own ports 80
// and 443, which needs root (not on Windows, where any user may listen on
// them): it skips (fails in CI) without, and returns a listen that closes with
// the test.
func catalogListen(t *testing.T) func(addr string) net.Listener {
	t.Helper()
	if runtime.GOOS != "windows" && os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root to listen on ports 80 and 443 (CI runs as root)")
		}
		t.Skip("needs root to listen on ports 80 and 443")
	}
	return func(addr string) net.Listener {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen %s: %v", addr, err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}
}

// serveNCSI answers Windows' NCSI probes as Microsoft's servers do, on ip:80
// and [::1]:80, and puts the NCSI names in the lab's zone.
func (l *lab) serveNCSI(t *testing.T, listen func(string) net.Listener, ip string) {
	ncsi := http.NewServeMux()
	ncsi.Handle("/connecttest.txt", testnet.NCSI(testnet.NCSIBody))
	ncsi.Handle("/ncsi.txt", testnet.NCSI("Microsoft NCSI"))
	testnet.ServeHTTPOn(t, listen(ip+":80"), ncsi, nil)
	testnet.ServeHTTPOn(t, listen("[::1]:80"), ncsi, nil)
	l.zone["www.msftconnecttest.com"] = testnet.DNSName{A: a(ip)}
	l.zone["www.msftncsi.com"] = testnet.DNSName{A: a(ip)}
	l.zone["ipv6.msftconnecttest.com"] = testnet.DNSName{AAAA: a("::1")}
	l.zone["ipv6.msftncsi.com"] = testnet.DNSName{AAAA: a("::1")}
	l.zone["dns.msftncsi.com"] = testnet.DNSName{A: a("131.107.255.255")}
}

func a(ips ...string) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		out = append(out, netip.MustParseAddr(ip))
	}
	return out
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
