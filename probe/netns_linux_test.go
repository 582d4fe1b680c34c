package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netnsRules make one loopback port per firewall behaviour inside the test's
// own network namespace: on the input hook, as a remote firewall would act,
// and one on the output hook, as this host's own firewall would.
const netnsRules = `
table inet egressprobe_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 7001 reject with tcp reset
		tcp dport 7002 drop
		meta nfproto ipv4 tcp dport 7003 reject with icmp type host-unreachable
		tcp dport 7004 reject with icmpx type admin-prohibited
		meta nfproto ipv4 tcp dport 7005 reject with icmp type net-unreachable
	}
	chain output {
		type filter hook output priority 0; policy accept;
		tcp dport 7006 drop
	}
}
`

// TestDialTCPNetns checks DialTCP against a real nftables firewall: reset,
// drop and ICMP rejects each give their outcome, and an address with no route
// gives tcp_unreachable. Everything happens in a namespace the test creates
// (nothing leaves the machine) and removes.
func TestDialTCPNetns(t *testing.T) {
	ns := newNetns(t)
	ns.run(t, "ip", "link", "set", "lo", "up")
	ns.run(t, "nft", "-f", "-").stdin(netnsRules)

	lo := netip.MustParseAddr("127.0.0.1")
	// Services listen behind the reset and drop rules: the firewall, not a
	// closed port, must be what the probe sees.
	for _, port := range []uint16{7001, 7002, 7003} {
		ns.listen(t, netip.AddrPortFrom(lo, port))
	}
	tests := []struct {
		name   string
		addr   netip.AddrPort
		want   Outcome
		errHas string
	}{
		{"closed port", netip.AddrPortFrom(lo, 8003), TCPRefused, "connection refused (RST)"},
		{"reject with tcp reset", netip.AddrPortFrom(lo, 7001), TCPRefused, "connection refused (RST)"},
		{"drop", netip.AddrPortFrom(lo, 7002), TCPTimeout, "silently drops"},
		{"reject with icmp host-unreachable", netip.AddrPortFrom(lo, 7003), TCPUnreachable, "host unreachable (ICMP)"},
		{"reject with icmpx admin-prohibited", netip.AddrPortFrom(lo, 7004), TCPUnreachable, "host unreachable (ICMP)"},
		{"reject with icmp net-unreachable", netip.AddrPortFrom(lo, 7005), TCPUnreachable, "network unreachable"},
		// This host's own output drop: Linux hands EPERM to the first SYN
		// but TCP retries, so the dial times out like a path drop. (EPERM
		// and EACCES themselves, e.g. from a cgroup connect hook or Windows
		// Firewall's WSAEACCES, map to tcp_unreachable, "local policy".)
		{"local output drop", netip.AddrPortFrom(lo, 7006), TCPTimeout, "silently drops"},
		{"no route", netip.MustParseAddrPort("198.51.100.7:443"), TCPUnreachable, "network unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res TCPResult
			ns.do(t, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				defer cancel()
				var conn net.Conn
				conn, res = DialTCP(ctx, tc.addr)
				if conn != nil {
					conn.Close()
				}
			})
			t.Logf("%s: %s", res.Outcome, res.Error)
			if res.Outcome != tc.want || !strings.Contains(res.Error, tc.errHas) {
				t.Errorf("DialTCP(%s) = %s (%s), want %s with %q", tc.addr, res.Outcome, res.Error, tc.want, tc.errHas)
			}
		})
	}
	// The listener behind the reset rule is reachable once the rule goes:
	// the refusal above was the firewall's.
	ns.run(t, "nft", "delete", "table", "inet", "egressprobe_test")
	ns.do(t, func() {
		conn, res := DialTCP(context.Background(), netip.AddrPortFrom(lo, 7001))
		if !res.OK() {
			t.Errorf("without the firewall, DialTCP = %s (%s), want ok", res.Outcome, res.Error)
			return
		}
		conn.Close()
	})
}

// netns is a network namespace created for one test.
type netns struct {
	name string
	path string
}

// newNetns creates a namespace removed at cleanup. It needs root, ip and nft:
// without them the test is skipped, or fails when CI=true.
func newNetns(t *testing.T) *netns {
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
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("network-namespace firewall test needs%s; CI must provide it", missing)
		}
		t.Skipf("network-namespace firewall test needs %s; skipped (set CI=true to make this a failure)", strings.TrimSpace(missing))
	}
	ns := &netns{name: fmt.Sprintf("egressprobe-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	ns.path = "/var/run/netns/" + ns.name
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns.name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.name, err, out)
		}
	})
	return ns
}

// nsCmd is a command to run inside the namespace.
type nsCmd struct {
	t    *testing.T
	args []string
}

// run runs a command inside the namespace now, or at stdin when it needs
// input; it fails the test on error.
func (ns *netns) run(t *testing.T, args ...string) nsCmd {
	t.Helper()
	c := nsCmd{t: t, args: append([]string{"netns", "exec", ns.name}, args...)}
	if args[len(args)-1] != "-" {
		c.exec("")
	}
	return c
}

func (c nsCmd) stdin(in string) { c.t.Helper(); c.exec(in) }

func (c nsCmd) exec(in string) {
	c.t.Helper()
	cmd := exec.Command("ip", c.args...)
	cmd.Stdin = strings.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("ip %s: %v: %s", strings.Join(c.args, " "), err, out)
	}
}

// do runs f on an OS thread moved into the namespace: sockets f creates live
// there. The thread is never unlocked, so Go discards it when f returns
// rather than reusing a thread in the wrong namespace.
func (ns *netns) do(t *testing.T, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(ns.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open %s: %w", ns.path, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.path, err)
			return
		}
		f()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("entering namespace %s: %v", ns.name, err)
	}
}

// listen opens a listener on addr inside the namespace until the test ends.
// It never accepts: the kernel completes handshakes into its backlog, which is
// all a connect needs.
func (ns *netns) listen(t *testing.T, addr netip.AddrPort) {
	t.Helper()
	var ln net.Listener
	var err error
	ns.do(t, func() { ln, err = net.Listen("tcp", addr.String()) })
	if err != nil {
		t.Fatalf("listen on %s in namespace %s: %v", addr, ns.name, err)
	}
	t.Cleanup(func() { ln.Close() })
}

// TestDialTCPOutOfPorts gives a namespace of its own two ephemeral ports.
// With both held by connections to one server, a connection to another
// server still gets a port (connect alone shares a port between
// destinations; a bind before connect, as DialTCP once did, takes one of its
// own and fails with EADDRINUSE), and a third connection to the first server
// is local_resources: this host's problem, not the firewall's.
func TestDialTCPOutOfPorts(t *testing.T) {
	ns := newNetns(t)
	ns.run(t, "ip", "link", "set", "lo", "up")
	ns.run(t, "sh", "-c", "echo 40000 40001 > /proc/sys/net/ipv4/ip_local_port_range")
	first, second := netip.MustParseAddrPort("127.0.0.1:7001"), netip.MustParseAddrPort("127.0.0.1:7002")
	ns.listen(t, first)
	ns.listen(t, second)

	dial := func(addr netip.AddrPort) TCPResult {
		var res TCPResult
		ns.do(t, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var conn net.Conn
			conn, res = DialTCP(ctx, addr)
			if conn != nil {
				t.Cleanup(func() { conn.Close() })
			}
		})
		t.Logf("DialTCP(%s) = %s %s", addr, res.Outcome, res.Error)
		return res
	}
	for range 2 {
		if res := dial(first); !res.OK() {
			t.Fatalf("DialTCP(%s) with ports free = %s (%s), want ok", first, res.Outcome, res.Error)
		}
	}
	if res := dial(second); !res.OK() {
		t.Errorf("DialTCP(%s) with both ports held by connections to %s = %s (%s), want ok: the dial must not bind before connect",
			second, first, res.Outcome, res.Error)
	}
	res := dial(first)
	if res.Outcome != LocalResources || !strings.Contains(res.Error, "out of local ports") {
		t.Errorf("DialTCP(%s) with every port to it in use = %s (%s), want local_resources saying this host is out of local ports", first, res.Outcome, res.Error)
	}
}
