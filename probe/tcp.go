package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// TCPResult is one TCP connect to one address.
// Outcome: ok | tcp_refused | tcp_timeout | tcp_unreachable | local_resources | cancelled.
type TCPResult struct {
	Step
	Addr netip.AddrPort `json:"addr"`
}

// DialTCP connects to addr within ctx's deadline and tells apart a reset
// (tcp_refused), silence (tcp_timeout) and an ICMP/no-route/local-policy
// failure (tcp_unreachable), and this host running out of ports or file
// descriptors (local_resources). The conn is nil unless the outcome is ok; the
// caller closes it.
func DialTCP(ctx context.Context, addr netip.AddrPort) (net.Conn, TCPResult) {
	res := TCPResult{Addr: addr}
	res.Start = time.Now()
	switch {
	case !addr.Addr().IsValid():
		// The zero AddrPort would dial the unspecified address, i.e. this host.
		res.Outcome, res.Error = TCPUnreachable, fmt.Sprintf("tcp %s: no IP address to connect to (the DNS step gave none)", addr)
		return nil, res
	case addr.Addr().IsUnspecified():
		res.Outcome, res.Error = TCPUnreachable, fmt.Sprintf("tcp %s: %s is not an address to connect to (it reaches this host)", addr, addr.Addr())
		return nil, res
	}
	// Keep-alive probes are pointless on a connection that lives for one
	// probe, and turning them off saves the setsockopt calls. No local
	// address: DialTCP with one (even the zero AddrPort) binds to 0.0.0.0:0
	// before connecting, which takes a port of its own per connection, while
	// connect alone lets a port in TIME_WAIT to one destination serve another.
	d := net.Dialer{KeepAlive: -1}
	c, err := d.DialContext(ctx, "tcp", addr.String())
	res.Duration = time.Since(res.Start)
	if err == nil {
		res.Outcome = OK
		return c, res
	}
	f := classifyDial(ctx, err)
	res.Outcome = f.outcome()
	res.Error = dialError("tcp", addr, f, budgetOf(ctx, res.Start), err)
	return nil, res
}
