package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// This file holds the classification every socket-level step shares: is an
// error a deadline, and what does a dial errno say about the path. It works on
// typed errors only (errors.Is/As on context errors, net.Error and
// syscall.Errno); errno numbers are mapped per OS in errno_unix.go and
// errno_windows.go, never by the text of a message, which differs between
// Windows and Unix and across Go releases.

// dialFault is what a failed connect says about the path to an address.
type dialFault uint8

const (
	faultOther           dialFault = iota // an error that names no path problem (e.g. a bad address)
	faultRefused                          // a TCP reset answered the SYN
	faultTimeout                          // nothing answered before the deadline
	faultCanceled                         // the run was stopped (Ctrl-C) before anything answered
	faultHostUnreachable                  // ICMP host/admin unreachable from a router or firewall
	faultNetUnreachable                   // no route, or an ICMP network unreachable
	faultLocalPolicy                      // this host's own firewall or policy refused the socket (EACCES/EPERM)
	faultLocalResources                   // this host is out of local ports or file descriptors
)

// outcome maps the fault onto the TCP step's vocabulary (the DNS step and the
// proxy dial name their own outcomes from the fault).
func (f dialFault) outcome() Outcome {
	switch f {
	case faultRefused:
		return TCPRefused
	case faultTimeout:
		return TCPTimeout
	case faultCanceled:
		return Cancelled
	case faultLocalResources:
		return LocalResources
	default:
		// Local policy (EACCES/EPERM) is "unreachable", not "refused": no
		// RST came from the path, this host's own firewall stopped the SYN
		// (a WFP rule on Windows, an nftables output drop on Linux).
		return TCPUnreachable
	}
}

// explain says, for a network team, what the fault means and what to do.
func (f dialFault) explain() string {
	switch f {
	case faultRefused:
		return "connection refused (RST): something actively rejected it — no service listens on that port, or a firewall rejects with a TCP reset"
	case faultTimeout:
		return "no answer (SYN dropped?): a firewall on the path silently drops the connection — ask for the port to this address to be allowed"
	case faultCanceled:
		return "cancelled before anything answered"
	case faultHostUnreachable:
		return "host unreachable (ICMP): a router or firewall on the path reports the address cannot be reached — look for a reject rule or a missing route"
	case faultNetUnreachable:
		return "network unreachable: this host has no route to the address (or a router says so) — check the routing table and default gateway"
	case faultLocalResources:
		return "this host is out of local ports or file descriptors, not a network problem: wait for sockets in TIME_WAIT to clear, " +
			"widen the ephemeral port range (Linux: net.ipv4.ip_local_port_range; Windows: netsh int ipv4 set dynamicport tcp), " +
			"raise the open-file limit (ulimit -n), or lower --concurrency"
	case faultLocalPolicy:
		return "permission denied on this host: a local firewall or security policy blocked the connection before it left — check the host firewall (Windows Defender Firewall, nftables/iptables output rules)"
	default:
		return "could not connect"
	}
}

// classifyDial names the fault behind a dial on ctx that failed with err.
// Cancellation and deadlines are checked first: a context or socket deadline
// is a timeout whatever errno came with it.
func classifyDial(ctx context.Context, err error) dialFault {
	if stopped(ctx, err) {
		return faultCanceled
	}
	if timedOut(err) {
		return faultTimeout
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return pathFault(err, errnoFault(errno))
	}
	return faultOther
}

// stopped reports whether a step on ctx that ended with err (nil for none)
// was cancelled from outside — Ctrl-C — rather than cut off by a deadline.
// Every step asks this one question and then ends Cancelled, not *_timeout:
// a socket call interrupted by cancellation fails like one past its deadline.
func stopped(ctx context.Context, err error) bool {
	return errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled)
}

// timedOut reports whether err is a deadline: the context's, a socket
// deadline set from it, or an errno the OS reports as a timeout (ETIMEDOUT,
// WSAETIMEDOUT).
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialError renders a dial failure naming the hop, the address and the fault:
// "tcp 127.0.0.1:9: connection refused (RST): ...". budget is how long the dial
// was allowed (0 when it had no deadline); err is kept for faults the table does
// not explain.
func dialError(hop string, addr netip.AddrPort, f dialFault, budget time.Duration, err error) string {
	switch {
	case f == faultOther:
		return fmt.Sprintf("%s %s: could not connect: %v", hop, addr, innermost(err))
	case f == faultLocalResources:
		// Which resource ran out is in the errno (ports or descriptors).
		return fmt.Sprintf("%s %s: %v: %s", hop, addr, innermost(err), f.explain())
	case f == faultTimeout && budget > 0:
		return fmt.Sprintf("%s %s: %s (waited %s)", hop, addr, f.explain(), budget.Round(time.Millisecond))
	default:
		return fmt.Sprintf("%s %s: %s", hop, addr, f.explain())
	}
}

// innermost strips the *net.OpError and *os.SyscallError wrappers whose text
// repeats the address we already print.
func innermost(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sc *os.SyscallError
	if errors.As(err, &sc) && sc.Err != nil {
		return fmt.Errorf("%s: %w", sc.Syscall, sc.Err)
	}
	return err
}

// budgetOf is how long ctx allows from start, 0 when it has no deadline.
func budgetOf(ctx context.Context, start time.Time) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return dl.Sub(start)
	}
	return 0
}
