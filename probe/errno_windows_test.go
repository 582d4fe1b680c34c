package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

// TestWindowsConnectErrorNumbers connects real Windows sockets to addresses
// that fail each in one way (.ci/wine/netns: routes in the test's own network
// namespace) and checks the error number the OS reports maps to the right
// fault, then that DialTCP, the TCP step itself, reports the outcome. Under
// Wine the numbers are the ones Wine's Winsock gives; the table also lists the
// Win32 codes a real Windows' ConnectEx reports.
func TestWindowsConnectErrorNumbers(t *testing.T) {
	ns := testenv.WineNetns(t)
	closed := testnet.TCPClosed(t, "127.0.0.1")
	taken := testnet.TCPSilent(t, "127.0.0.1")
	tests := []struct {
		name    string
		addr    string
		bind    netip.AddrPort // a local address to bind first
		fault   dialFault
		outcome Outcome
	}{
		{"refused", closed.String(), netip.AddrPort{}, faultRefused, TCPRefused},
		{"host unreachable", ns["unreachable"] + ":443", netip.AddrPort{}, faultHostUnreachable, TCPUnreachable},
		{"prohibited by this host", ns["prohibited"] + ":443", netip.AddrPort{}, faultLocalPolicy, TCPUnreachable},
		{"no route", ns["noroute"] + ":443", netip.AddrPort{}, faultNetUnreachable, TCPUnreachable},
		// The OS gives up after its SYN retries (one, ~3 s, in the
		// namespace) well before the 60 s deadline: the errno is the verdict.
		{"SYN dropped, the OS times out", ns["dropped"] + ":443", netip.AddrPort{}, faultTimeout, TCPTimeout},
		{"local port taken", closed.String(), taken, faultLocalResources, LocalResources},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := net.Dialer{}
			if tc.bind.IsValid() {
				d.LocalAddr = net.TCPAddrFromAddrPort(tc.bind)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := d.DialContext(ctx, "tcp", tc.addr)
			if err == nil {
				c.Close()
				t.Fatalf("connect to %s succeeded", tc.addr)
			}
			var errno syscall.Errno
			if !errors.As(err, &errno) {
				t.Fatalf("connect to %s: %v carries no Windows error number", tc.addr, err)
			}
			t.Logf("%s: error %d (%v)", tc.addr, uint32(errno), err)
			if got := classifyDial(ctx, err); got != tc.fault {
				t.Errorf("error %d classified as %s, want %s", uint32(errno), got.explain(), tc.fault.explain())
			}
			if tc.bind.IsValid() {
				return // DialTCP never binds
			}
			_, res := DialTCP(ctx, netip.MustParseAddrPort(tc.addr))
			if res.Outcome != tc.outcome || !strings.Contains(res.Error, tc.fault.explain()) {
				t.Errorf("DialTCP(%s) = %s %q, want %s with %q", tc.addr, res.Outcome, res.Error, tc.outcome, tc.fault.explain())
			}
		})
	}
}
