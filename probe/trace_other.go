//go:build !linux && !windows

package probe

import (
	"context"
	"errors"
	"net/netip"
)

// traceMethod: none on this OS (egressprobe ships for Linux and Windows); a
// trace here says what to run by hand.
const traceMethod = TraceMethodNone

func probeHops(context.Context, netip.AddrPort, int, int) ([]Hop, error) {
	return nil, errors.New("tracing is implemented on Linux and Windows only: run traceroute -n HOST")
}
