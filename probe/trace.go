package probe

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// TraceWhen says which results Run traces (check --trace).
type TraceWhen uint8

const (
	TraceOff      TraceWhen = iota
	TraceTimeouts           // --trace=auto: only where a connect was silently dropped (tcp_timeout; a proxy that could not be reached)
	TraceFailures           // --trace: every result that failed after DNS
)

// Trace bounds: at most MaxHops hops, HopsAtOnce probed together, each
// answer awaited at most HopWait, and the trace ends after MaxSilentHops
// hops in a row without an answer. DefaultTraceTimeout bounds one trace
// (check --trace-timeout): enough for every window of 30 hops.
const (
	MaxHops             = 30
	HopsAtOnce          = 5
	HopWait             = time.Second
	MaxSilentHops       = 5
	DefaultTraceTimeout = MaxHops / HopsAtOnce * HopWait
)

// The replies a hop can give.
const (
	ReplyTimeExceeded = "time_exceeded" // a router on the way: the packet's TTL ran out there
	ReplyUnreachable  = "unreachable"   // a router or firewall answered ICMP destination unreachable: it stops the packet
	ReplyTarget       = "target"        // the target itself answered (SYN-ACK or RST)
)

// Hop is one TTL of a trace; Addr and MS are nil when nothing answered.
type Hop struct {
	TTL   int         `json:"ttl"`
	Addr  *netip.Addr `json:"addr"`
	MS    *float64    `json:"ms"`
	Reply string      `json:"reply,omitempty"` // one of the Reply* values; "" when nothing answered
}

// TraceResult is a TCP SYN trace with increasing TTL toward the port a probe
// used, or toward the proxy when the probe went through one.
type TraceResult struct {
	Method   string `json:"method"` // one of the TraceMethod* values (Note says what to run instead of "none")
	Target   string `json:"target"` // "IP:PORT" traced to
	ViaProxy bool   `json:"via_proxy"`
	Hops     []Hop  `json:"hops"`
	// LastResponding is the last hop that answered (nil: none did).
	LastResponding *Hop    `json:"last_responding"`
	Reached        bool    `json:"reached"` // the target answered
	Note           string  `json:"note,omitempty"`
	MS             float64 `json:"ms"`
}

// Verdict says where the packets went, for a table cell: "dies after hop 2
// (10.0.2.1)", "rejected at hop 2 (10.0.2.1)", "reached in 4 hops", or ""
// when nothing can be said.
func (t *TraceResult) Verdict() string {
	if t == nil || t.Method == TraceMethodNone {
		return ""
	}
	last := t.LastResponding
	switch {
	case t.Reached && last != nil:
		hops := "hops"
		if last.TTL == 1 {
			hops = "hop"
		}
		return fmt.Sprintf("trace reached %s in %d %s%s", t.Target, last.TTL, hops, t.kind())
	case last != nil && last.Reply == ReplyUnreachable:
		return fmt.Sprintf("rejected at hop %d (%s)%s", t.DeviceHop(), last.Addr, t.kind())
	case last != nil:
		return fmt.Sprintf("dies after hop %d (%s)%s", last.TTL, last.Addr, t.kind())
	case len(t.Hops) > 0:
		return "no hop answered the trace" + t.kind()
	}
	return ""
}

// kind marks a verdict that an ICMP echo trace gave: not the probe's port.
func (t *TraceResult) kind() string {
	if t.Method == TraceMethodICMPEcho {
		return " (ICMP echo trace)"
	}
	return ""
}

// DeviceHop is the hop number of the device that answered last: a router
// that rejects a packet answers the first TTL that gets through it — one
// more than its own hop, which its time-exceeded named — so the hop is the
// first at which the last answer's address was seen. 0 when nothing answered.
func (t *TraceResult) DeviceHop() int {
	last := t.LastResponding
	if last == nil {
		return 0
	}
	for _, h := range t.Hops {
		if h.Addr != nil && *h.Addr == *last.Addr {
			return h.TTL
		}
	}
	return last.TTL
}

// The methods a trace uses, one per OS.
const (
	TraceMethodTCPSYN   = "tcp-syn"   // Linux: TCP SYNs to the probe's port (trace_linux.go)
	TraceMethodICMPEcho = "icmp-echo" // Windows: ICMP echo requests, as tracert sends (trace_windows.go)
	TraceMethodNone     = "none"      // an OS this trace does not run on
)

// icmpCaveat is the note of an ICMP echo trace: it does not take the probe's
// path through a firewall that filters by port.
const icmpCaveat = "an ICMP echo trace, as tracert's (Windows gives a program without admin rights no other): " +
	"a firewall that filters by port may pass it where it drops TCP to the probe's port, or drop it where it passes that port, " +
	"so the hop where it stops is where ICMP stops; confirm with Test-NetConnection HOST -Port PORT -TraceRoute"

// TraceTCP traces the path to dst: TCP SYNs to dst's port with TTL 1, 2, …
// (HopsAtOnce at a time), each hop named by the ICMP time-exceeded its
// router sends back, until the target answers, a router rejects the SYN,
// MaxSilentHops hops in a row stay silent, MaxHops is reached, or ctx ends.
// The SYNs go where the probe's own did: the same port, so a firewall that
// drops it drops them at the same device. On Windows the packets are ICMP
// echo requests instead (Method says which, Note what that means).
func TraceTCP(ctx context.Context, dst netip.AddrPort) TraceResult {
	start := time.Now()
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	res := TraceResult{Method: traceMethod, Target: dst.String(), Hops: []Hop{}}
	if res.Method == TraceMethodICMPEcho {
		res.Note = icmpCaveat
	}
	silent := 0
trace:
	for ttl := 1; ttl <= MaxHops && ctx.Err() == nil; ttl += HopsAtOnce {
		hops, err := probeHops(ctx, dst, ttl, min(ttl+HopsAtOnce-1, MaxHops))
		if err != nil {
			res.Method, res.Note = TraceMethodNone, err.Error()
			break
		}
		for i := range hops {
			h := hops[i]
			res.Hops = append(res.Hops, h)
			if h.Reply == "" {
				silent++
				continue
			}
			silent = 0
			res.LastResponding = &h
			if h.Reply == ReplyTarget || h.Reply == ReplyUnreachable {
				res.Reached = h.Reply == ReplyTarget
				break trace
			}
		}
		if silent >= MaxSilentHops {
			break
		}
	}
	res.MS = Step{Duration: time.Since(start)}.MS()
	return res
}

// traces reports whether Run traces an observation that ended with o.
func (w TraceWhen) traces(o Outcome, direct bool) bool {
	switch {
	case w == TraceOff || o == OK || o == Cancelled || o == SkippedNoIPv6 || o == LocalResources || o.Step() == StepDNS:
		return false
	case w == TraceFailures:
		return true
	}
	return o == TCPTimeout || (!direct && (o == ProxyUnreachable || o == ProxyTimeout))
}

// hopFrom is a hop that replied from addr after took.
func hopFrom(ttl int, addr netip.Addr, took time.Duration, reply string) Hop {
	ms := Step{Duration: took}.MS()
	a := addr.Unmap()
	return Hop{TTL: ttl, Addr: &a, MS: &ms, Reply: reply}
}
