package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// TCPResult is one TCP connect to one address.
// Outcome: ok | tcp_refused | tcp_timeout | tcp_unreachable.
type TCPResult struct {
	Step
	Addr netip.AddrPort `json:"addr"`
}

// DialTCP connects to addr within ctx's deadline and tells apart a reset
// (tcp_refused), silence (tcp_timeout) and an ICMP/no-route/local-policy
// failure (tcp_unreachable). The conn is nil unless the outcome is ok; the
// caller closes it.
func DialTCP(ctx context.Context, addr netip.AddrPort) (net.Conn, TCPResult) {
	res := TCPResult{Addr: addr}
	res.Start = time.Now()
	if !addr.Addr().IsValid() {
		// The zero AddrPort would dial the unspecified address, i.e. this host.
		res.Outcome, res.Error = TCPUnreachable, fmt.Sprintf("tcp %s: no IP address to connect to (the DNS step gave none)", addr)
		return nil, res
	}
	// Keep-alive probes are pointless on a connection that lives for one
	// probe, and turning them off saves the setsockopt calls.
	d := net.Dialer{KeepAlive: -1}
	c, err := d.DialTCP(ctx, "tcp", netip.AddrPort{}, addr)
	res.Duration = time.Since(res.Start)
	if err == nil {
		res.Outcome = OK
		return c, res
	}
	f := classifyDial(err)
	res.Outcome = f.outcome()
	res.Error = dialError("tcp", addr, f, budgetOf(ctx, res.Start), err)
	return nil, res
}
