package probe

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// TestDialTCP drives DialTCP against real loopback sockets, one per outcome
// reachable without root; tcp_unreachable needs routes and firewall rules and
// is covered in a network namespace (TestDialTCPNetns).
func TestDialTCP(t *testing.T) {
	t.Parallel()
	const budget = 300 * time.Millisecond
	tests := []struct {
		name   string
		server func(t *testing.T) netip.AddrPort
		want   Outcome
		errHas []string
	}{
		{"listening", func(t *testing.T) netip.AddrPort { return testnet.TCPSilent(t, testnet.LoopbackIP(101)) }, OK, nil},
		{"closed port", func(t *testing.T) netip.AddrPort { return testnet.TCPClosed(t, testnet.LoopbackIP(102)) }, TCPRefused,
			[]string{"connection refused (RST)", "actively rejected"}},
		{"SYN dropped", func(t *testing.T) netip.AddrPort { return testnet.TCPBlackhole(t, testnet.LoopbackIP(103)) }, TCPTimeout,
			[]string{"no answer", "silently drops", "waited 300ms"}},
		{"ipv6 closed port", func(t *testing.T) netip.AddrPort { return testnet.TCPClosed(t, "::1") }, TCPRefused,
			[]string{"[::1]:", "connection refused"}},
		{"invalid address", func(*testing.T) netip.AddrPort { return netip.AddrPort{} }, TCPUnreachable,
			[]string{"no IP address"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.server(t)
			ctx, cancel := context.WithTimeout(context.Background(), budget)
			defer cancel()
			conn, res := DialTCP(ctx, addr)
			if conn != nil {
				defer conn.Close()
			}
			if res.Outcome != tc.want {
				t.Fatalf("DialTCP(%s) = %s (%s), want %s", addr, res.Outcome, res.Error, tc.want)
			}
			if (conn != nil) != (tc.want == OK) {
				t.Errorf("DialTCP(%s): conn %v with outcome %s; want a conn exactly when ok", addr, conn, res.Outcome)
			}
			if res.Addr != addr {
				t.Errorf("result Addr = %s, want %s", res.Addr, addr)
			}
			if tc.want != OK && !strings.Contains(res.Error, "tcp "+addr.String()+": ") && addr.IsValid() {
				t.Errorf("error %q does not name the hop and address %s", res.Error, addr)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(res.Error, s) {
					t.Errorf("error %q lacks %q", res.Error, s)
				}
			}
			if addr.IsValid() && (res.Duration <= 0 || res.Start.IsZero()) {
				t.Errorf("timing not recorded: start %v duration %v", res.Start, res.Duration)
			}
			// A hang check, not a timing assertion: the dial must end near its budget.
			if res.Duration > 10*budget {
				t.Errorf("DialTCP took %v with a %v budget", res.Duration, budget)
			}
		})
	}
}

// TestDialTCPCancel checks that cancelling the context ends a dial that
// nothing answers, as Ctrl-C does, and says so.
func TestDialTCPCancel(t *testing.T) {
	t.Parallel()
	addr := testnet.TCPBlackhole(t, testnet.LoopbackIP(104))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	conn, res := DialTCP(ctx, addr)
	if conn != nil {
		conn.Close()
		t.Fatalf("DialTCP to a blackhole returned a connection")
	}
	if res.Outcome != Cancelled || !strings.Contains(res.Error, "cancelled") {
		t.Fatalf("cancelled dial = %s (%s), want %s saying cancelled", res.Outcome, res.Error, Cancelled)
	}
}
