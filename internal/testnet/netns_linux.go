//go:build linux

package testnet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Netns is a network namespace created for one test and removed when it
// ends. Everything a test does in one stays in it: nothing leaves the machine.
type Netns struct {
	Name string
	path string
}

var netnsSeq atomic.Int64

// NewNetns creates a namespace, with its loopback up, removed at cleanup. It
// needs root, ip and nft: without them the test is skipped with a message, or
// fails when CI=true.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	NeedNetns(t)
	ns := &Netns{Name: fmt.Sprintf("egressprobe-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6, netnsSeq.Add(1))}
	ns.path = "/var/run/netns/" + ns.Name
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns.Name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.Name, err, out)
		}
	})
	ns.Run(t, "ip", "link", "set", "lo", "up")
	return ns
}

// NeedNetns skips the test (fails it when CI=true) unless it may create
// network namespaces: root, ip and nft.
func NeedNetns(t testing.TB) {
	t.Helper()
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root"
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing += " " + tool + " (apt-get install -y iproute2 nftables)"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("network-namespace test needs%s; CI must provide it", missing)
	}
	t.Skipf("network-namespace test needs %s; skipped (set CI=true to make this a failure)", strings.TrimSpace(missing))
}

// Run runs a command inside the namespace and fails the test on error.
func (ns *Netns) Run(t testing.TB, args ...string) { t.Helper(); ns.RunStdin(t, "", args...) }

// RunStdin runs a command inside the namespace with stdin (e.g. `nft -f -`).
func (ns *Netns) RunStdin(t testing.TB, stdin string, args ...string) {
	t.Helper()
	full := append([]string{"netns", "exec", ns.Name}, args...)
	cmd := exec.Command("ip", full...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(full, " "), err, out)
	}
}

// Command is cmd run inside the namespace (`ip netns exec NAME cmd...`).
func (ns *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// ResolvConf gives the processes Command starts a resolv.conf naming
// nameserver (port 53 in the namespace), for daemons that resolve with the
// system's resolver (tinyproxy): `ip netns exec` mounts the files of
// /etc/netns/NAME over /etc. Removed when the test ends.
func (ns *Netns) ResolvConf(t testing.TB, nameserver string) {
	t.Helper()
	dir := "/etc/netns/" + ns.Name
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(dir+"/resolv.conf", []byte("nameserver "+nameserver+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Do runs f on an OS thread moved into the namespace: sockets f creates (in
// its own goroutine, not in goroutines it starts) live there. The thread is
// never unlocked, so Go discards it when f returns rather than reusing a
// thread in the wrong namespace. f may call t.Fatal.
func (ns *Netns) Do(t testing.TB, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		err := fmt.Errorf("%s: the function stopped early (t.Fatal?)", ns.Name)
		defer func() { errc <- err }()
		runtime.LockOSThread()
		fd, oerr := unix.Open(ns.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if oerr != nil {
			err = fmt.Errorf("open %s: %w", ns.path, oerr)
			return
		}
		defer unix.Close(fd)
		if serr := unix.Setns(fd, unix.CLONE_NEWNET); serr != nil {
			err = fmt.Errorf("setns %s: %w", ns.path, serr)
			return
		}
		f()
		err = nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("in namespace %s: %v", ns.Name, err)
	}
}

// Listen opens a TCP listener on addr inside the namespace, closed when the
// test ends.
func (ns *Netns) Listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	ns.Do(t, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("listen on %s in namespace %s: %v", addr, ns.Name, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Router turns on IPv4 and IPv6 forwarding in the namespace.
func (ns *Netns) Router(t testing.TB) {
	t.Helper()
	ns.Run(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
}

// Link joins a and b with a veth pair, interface aIf in a and bIf in b, both
// up with the given addresses ("10.0.0.1/24", "2001:db8::1/64"; IPv6 without
// duplicate-address detection, so they are usable at once). The pair is made
// inside a, so its names never meet another test's in the root namespace.
func Link(t testing.TB, a *Netns, aIf string, aAddrs []string, b *Netns, bIf string, bAddrs []string) {
	t.Helper()
	a.Run(t, "ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	for _, side := range []struct {
		ns    *Netns
		iface string
		addrs []string
	}{{a, aIf, aAddrs}, {b, bIf, bAddrs}} {
		for _, addr := range side.addrs {
			args := []string{"ip", "addr", "add", addr, "dev", side.iface}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			side.ns.Run(t, args...)
		}
		side.ns.Run(t, "ip", "link", "set", side.iface, "up")
	}
}

// Chain is a client, n routers and a server in a row, each in its own
// namespace: link k joins node k and node k+1 (the client is node 0, the
// server node n+1) on 10.O.k.0/24 and 2001:db8:O:k::/64, the left node .1
// (::1) and the right node .2 (::2). Every node routes toward the server by
// default, routers and the server back toward the client over the link on
// their left, in both families.
type Chain struct {
	Client, Server *Netns
	Routers        []*Netns
	ServerAddr     netip.Addr   // 10.O.n.2
	ServerAddr6    netip.Addr   // 2001:db8:O:n::2
	RouterAddrs    []netip.Addr // each router's address on its client side (10.O.k.2 for router k+1)
	RouterAddrs6   []netip.Addr // the same in IPv6 (2001:db8:O:k::2), where its ICMPv6 comes from
}

// NewChain builds a dual-stack chain of routers between a client and a
// server on 10.octet.0.0/16 and 2001:db8:octet::/48 (octet in hex digits);
// interfaces are "left" and "right".
func NewChain(t testing.TB, octet, routers int) *Chain {
	t.Helper()
	nodes := make([]*Netns, routers+2)
	for i := range nodes {
		nodes[i] = NewNetns(t)
	}
	addr := func(link, side int) string { return fmt.Sprintf("10.%d.%d.%d", octet, link, side) }
	addr6 := func(link, side int) string { return fmt.Sprintf("2001:db8:%d:%d::%d", octet, link, side) }
	for k := 0; k <= routers; k++ {
		Link(t, nodes[k], "right", []string{addr(k, 1) + "/24", addr6(k, 1) + "/64"},
			nodes[k+1], "left", []string{addr(k, 2) + "/24", addr6(k, 2) + "/64"})
	}
	c := &Chain{Client: nodes[0], Server: nodes[routers+1], Routers: nodes[1 : routers+1],
		ServerAddr: netip.MustParseAddr(addr(routers, 2)), ServerAddr6: netip.MustParseAddr(addr6(routers, 2))}
	for p, ns := range nodes {
		switch {
		case p <= routers:
			ns.Run(t, "ip", "route", "add", "default", "via", addr(p, 2))
			ns.Run(t, "ip", "-6", "route", "add", "default", "via", addr6(p, 2))
		default:
			ns.Run(t, "ip", "route", "add", "default", "via", addr(p-1, 1))
			ns.Run(t, "ip", "-6", "route", "add", "default", "via", addr6(p-1, 1))
		}
		if p >= 1 && p <= routers {
			ns.Router(t)
			c.RouterAddrs = append(c.RouterAddrs, netip.MustParseAddr(addr(p-1, 2)))
			c.RouterAddrs6 = append(c.RouterAddrs6, netip.MustParseAddr(addr6(p-1, 2)))
			for k := 0; k < p-1; k++ {
				ns.Run(t, "ip", "route", "add", fmt.Sprintf("10.%d.%d.0/24", octet, k), "via", addr(p-1, 1))
				ns.Run(t, "ip", "-6", "route", "add", fmt.Sprintf("2001:db8:%d:%d::/64", octet, k), "via", addr6(p-1, 1))
			}
		}
	}
	return c
}
