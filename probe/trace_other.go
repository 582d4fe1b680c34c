//go:build !linux

package probe

import (
	"context"
	"errors"
	"net/netip"
)

// traceMethod: none yet. Windows' way without admin rights is ICMP echo with
// a TTL through IcmpSendEcho2 (as tracert does); it is not implemented, so a
// trace here says what to run by hand.
const traceMethod = TraceMethodNone

func probeHops(context.Context, netip.AddrPort, int, int) ([]Hop, error) {
	return nil, errors.New("tracing is not implemented on this OS yet (Linux only): run tracert -d HOST, or in PowerShell Test-NetConnection HOST -Port 443 -TraceRoute")
}
