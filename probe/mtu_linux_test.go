package probe

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"sync"
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
	slow := stallFirstConn(t, testnet.LoopbackIP(122), cert)
	target := func(a netip.AddrPort) Target {
		return Target{Host: a.Addr().String(), Port: a.Port(), TLS: TLSOptions{ServerName: l.tls.Host, Roots: l.tls.CA.Pool}, Timeout: 4 * time.Second}
	}
	obs := Run(context.Background(), []Target{target(hole), target(never), target(slow)}, RunOptions{})
	h, n, sl := obs[0], obs[1], obs[2]
	if h.Outcome != TCPMTUBlackhole || h.TLS.MSSRetry == nil || h.TLS.MSSRetry.Outcome != OK || h.TLS.Version == "" || !strings.Contains(h.Error, "path-MTU blackhole") {
		t.Errorf("blackhole: %s (%s), retry %+v, version %q; want tcp_mtu_blackhole after an ok clamped retry", h.Outcome, h.Error, h.TLS.MSSRetry, h.TLS.Version)
	}
	if n.Outcome != TLSTimeout || n.TLS.MSSRetry == nil || !strings.Contains(n.Error, "stalled too") {
		t.Errorf("silent server: %s (%s), retry %+v; want tls_timeout saying the clamped retry stalled too", n.Outcome, n.Error, n.TLS.MSSRetry)
	}
	// A server slow only at first is not a blackhole: the unclamped attempt
	// raced beside the clamped one completes too.
	if sl.Outcome != TLSTimeout || sl.TLS.MSSRetry == nil || !strings.Contains(sl.Error, "the server is slow, not a path-MTU blackhole") {
		t.Errorf("slow server: %s (%s), retry %+v; want tls_timeout saying the server is slow", sl.Outcome, sl.Error, sl.TLS.MSSRetry)
	}
	for _, o := range obs {
		if o.Elapsed > o.Target.Timeout+testSlack {
			t.Errorf("%s took %v, more than its timeout %v", o.IP, o.Elapsed, o.Target.Timeout)
		}
	}
}

// stallFirstConn serves TLS on ip but holds its first connection silent, as a
// server too busy to answer at first: every later connection, clamped or
// not, gets its handshake at once.
func stallFirstConn(t *testing.T, ip string, cert tls.Certificate) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			if n > 0 {
				go func() { _ = tls.Server(c, cfg).Handshake() }()
			}
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}
