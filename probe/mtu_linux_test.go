package probe

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// A handshake that stalls with full-size segments and completes with the
// segment size clamped is tcp_mtu_blackhole, keeping the clamped handshake's
// view of the server, within the probe's timeout; a server that stays silent
// either way stays tls_timeout, saying the clamped retry stalled too.
func TestRunMTUBlackhole(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	cert := l.tls.CA.Leaf(t, []string{l.tls.Host}, nil, testnet.LeafOptions{})
	hole := testnet.TLSSmallSegmentsOnly(t, testnet.LoopbackIP(120), cert, ClampedMSS)
	never := l.tls.Serve(t, testnet.LoopbackIP(121), testnet.TLSNeverSpeaks)
	target := func(a netip.AddrPort) Target {
		return Target{Host: a.Addr().String(), Port: a.Port(), TLS: TLSOptions{ServerName: l.tls.Host, Roots: l.tls.CA.Pool}, Timeout: 2 * time.Second}
	}
	obs := Run(context.Background(), []Target{target(hole), target(never)}, RunOptions{})
	h, n := obs[0], obs[1]
	if h.Outcome != TCPMTUBlackhole || h.TLS.MSSRetry == nil || h.TLS.MSSRetry.Outcome != OK || h.TLS.Version == "" || !strings.Contains(h.Error, "path-MTU blackhole") {
		t.Errorf("blackhole: %s (%s), retry %+v, version %q; want tcp_mtu_blackhole after an ok clamped retry", h.Outcome, h.Error, h.TLS.MSSRetry, h.TLS.Version)
	}
	if n.Outcome != TLSTimeout || n.TLS.MSSRetry == nil || !strings.Contains(n.Error, "stalled too") {
		t.Errorf("silent server: %s (%s), retry %+v; want tls_timeout saying the clamped retry stalled too", n.Outcome, n.Error, n.TLS.MSSRetry)
	}
	for _, o := range obs {
		if o.Elapsed > o.Target.Timeout+testSlack {
			t.Errorf("%s took %v, more than its timeout %v", o.IP, o.Elapsed, o.Target.Timeout)
		}
	}
}
