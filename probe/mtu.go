package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ClampedMSS is the segment size the path-MTU retry asks the server for: its
// packets then fit a 1280-byte link (IPv6's minimum MTU), the tunnels and
// VPN links where blackholes live included (Azure's VPN gateways ask for
// 1350).
const ClampedMSS = 1200

// MSSRetry is the TLS handshake tried again, once, over a new connection
// whose segment size is clamped, after the first stalled: if it completes,
// big packets are lost on the path and the ICMP that would say so is dropped
// — a path-MTU blackhole.
type MSSRetry struct {
	MSS     int     `json:"mss"`
	Outcome Outcome `json:"outcome"` // the clamped handshake's
	Error   string  `json:"error,omitempty"`
	MS      float64 `json:"ms"`
}

// firstHandshakeShare is the part of what is left of the chain's budget the
// first handshake of a direct connection may take: the rest is the clamped
// retry's, so both fit in --timeout.
const firstHandshakeShare = 0.5

// handshakeDirect is the TLS step over a direct connection to addr: the
// handshake, and when it stalls, one retry with the segment size clamped
// (Linux; elsewhere the stall stays tls_timeout and says how to check by
// hand). A retry that completes turns the step into tcp_mtu_blackhole,
// keeping what the clamped handshake saw of the server.
func handshakeDirect(ctx context.Context, conn net.Conn, addr netip.AddrPort, opt TLSOptions) (net.Conn, TLSResult) {
	first, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); ok {
		first, cancel = context.WithDeadline(ctx, time.Now().Add(time.Duration(float64(time.Until(dl))*firstHandshakeShare)))
	}
	tc, tr := HandshakeTLS(first, conn, opt)
	cancel()
	if tr.OK() {
		return tc, tr
	}
	if tr.Outcome != TLSTimeout || ctx.Err() != nil {
		return nil, tr
	}
	d := clampedDialer(ClampedMSS)
	if d == nil {
		tr.Error += "; " + noClampHint
		return nil, tr
	}
	// A server that is only slow (busy, or on a loaded machine) stalls the
	// first handshake too. An unclamped attempt raced beside the clamped one
	// tells them apart: on a blackhole only the clamped one completes.
	controlCtx, stopControl := context.WithCancel(ctx)
	control := make(chan Outcome, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		r, _ := handshakeClamped(controlCtx, &net.Dialer{KeepAlive: -1}, addr, opt)
		control <- r.Outcome
	})
	retry, clamped := handshakeClamped(ctx, d, addr, opt)
	slow := completed(retry.Outcome) && controlCompleted(ctx, control)
	stopControl()
	wg.Wait() // no goroutine outlives the probe
	tr.MSSRetry = &retry
	if slow {
		retry.Error = "an unclamped handshake beside it completed too: the server is slow, not a path-MTU blackhole"
	}
	if !completed(retry.Outcome) || slow {
		tr.Duration = time.Since(tr.Start) // the step is both attempts
		tr.Error += fmt.Sprintf("; retried with the segment size clamped to %d bytes: %s", ClampedMSS, retry.Error)
		return nil, tr
	}
	stalled := tr
	tr = clamped
	tr.MSSRetry, tr.Start, tr.Duration = stalled.MSSRetry, stalled.Start, time.Since(stalled.Start)
	tr.Outcome = TCPMTUBlackhole
	icmp := `ICMP "fragmentation needed"`
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		icmp = `ICMPv6 "packet too big"`
	}
	tr.Error = fmt.Sprintf("%s: path-MTU blackhole: the handshake stalled with full-size packets and completed with the segment size clamped to %d bytes — a link toward this server has a smaller MTU and the %s that would say so is dropped",
		tlsHop(conn, opt.ServerName), ClampedMSS, icmp)
	return nil, tr
}

// controlCompleted waits for the unclamped control attempt, until the
// probe's deadline, and reports whether it got the server's whole flight. It
// waits that long because a busy server (or a loaded machine) may finish the
// clamped attempt well before the control: a shorter grace read such servers
// as blackholes. On a real blackhole the control never completes, so the
// verdict costs the rest of the budget, as the stall it explains would.
func controlCompleted(ctx context.Context, control <-chan Outcome) bool {
	select {
	case o := <-control:
		return completed(o)
	case <-ctx.Done():
		return false
	}
}

// completed reports whether a handshake got the server's whole flight: it
// succeeded, or failed only on what the flight said (the chain, the version).
func completed(o Outcome) bool {
	switch o {
	case OK, TLSUntrusted, TLSHostnameMismatch, TLSExpired, TLSOldVersion, TLSIntercepted:
		return true
	}
	return false
}

// noClampHint is what a stall says where the retry cannot run.
const noClampHint = "not retried with a clamped segment size, which needs Linux: check for a path-MTU blackhole by hand with ping -f -l 1472 (Windows) or ping -M do -s 1472 (Linux)"

// handshakeClamped connects to addr again with d (segment size clamped) and
// runs the handshake within ctx; the connection is closed before it returns.
func handshakeClamped(ctx context.Context, d *net.Dialer, addr netip.AddrPort, opt TLSOptions) (MSSRetry, TLSResult) {
	start := time.Now()
	retry := MSSRetry{MSS: ClampedMSS}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		retry.Outcome, retry.Error = classifyDial(ctx, err).outcome(), fmt.Sprintf("could not connect again: %v", innermost(err))
		retry.MS = Step{Duration: time.Since(start)}.MS()
		return retry, TLSResult{}
	}
	defer conn.Close()
	_, tr := HandshakeTLS(ctx, conn, opt)
	retry.Outcome, retry.MS = tr.Outcome, Step{Duration: time.Since(start)}.MS()
	if !completed(tr.Outcome) {
		retry.Error = "stalled too (" + string(tr.Outcome) + "), so it is not a path-MTU blackhole"
		if tr.Outcome != TLSTimeout {
			retry.Error = tr.Error
		}
	}
	return retry, tr
}
