package probe

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// This file reads what Windows' IcmpSendEcho2Ex and Icmp6SendEcho2
// (iphlpapi.dll) write into a reply buffer, and what each reply says about a
// hop. It is OS-neutral so that the Linux tests check it too;
// trace_windows.go makes the calls.

// The IP_STATUS values (ipexport.h) a trace tells apart. ICMPv6 reuses the
// numbers: IP_DEST_NO_ROUTE, IP_DEST_ADDR_UNREACHABLE, IP_DEST_PROHIBITED,
// IP_HOP_LIMIT_EXCEEDED.
const (
	ipSuccess             = 0
	ipStatusBase          = 11000
	ipDestNetUnreachable  = 11002
	ipDestHostUnreachable = 11003
	ipDestProtUnreachable = 11004
	ipDestPortUnreachable = 11005
	ipReqTimedOut         = 11010
	ipTTLExpiredTransit   = 11013
	ipDestUnreachable     = 11040 // ICMPv6, any other code
	ipTimeExceeded        = 11041 // ICMPv6, any other code
	ipStatusLast          = 11999
)

// Reply layouts for a 64-bit process (the only Windows build).
// ICMP_ECHO_REPLY: Address (IPAddr, the 4 bytes in network order) at 0,
// Status at 4, RoundTripTime at 8, DataSize and Reserved, the Data pointer
// at 16 and IP_OPTION_INFORMATION (Ttl, Tos, Flags, OptionsSize, 4 bytes of
// padding, the OptionsData pointer) at 24: 40 bytes.
// ICMPV6_ECHO_REPLY: IPV6_ADDRESS_EX, packed to 1 byte (sin6_port 0,
// sin6_flowinfo 2, sin6_addr 6–21, sin6_scope_id 22), then Status aligned to
// 28 and RoundTripTime at 32: 36 bytes.
const (
	echoReplySize  = 40
	echoReply6Size = 36
)

// echoPayloadSize is what each request carries (tracert sends 32 bytes too);
// the reply buffer holds a reply structure, the payload echoed or the packet
// an ICMP error quotes, and room for IP options.
const (
	echoPayloadSize = 32
	echoBufferSize  = echoReplySize + echoPayloadSize + 8 + 40 + 64
)

// echoReply is one parsed reply: who answered (invalid when no one did),
// the IP_STATUS, and the round trip in milliseconds.
type echoReply struct {
	From   netip.Addr
	Status uint32
	RTT    uint32
}

// parseEchoReply reads the first ICMP_ECHO_REPLY in buf, or with v6 the
// first ICMPV6_ECHO_REPLY. RoundTripTime follows Status in both.
func parseEchoReply(buf []byte, v6 bool) (echoReply, bool) {
	size, addrAt, addrLen, statusAt := echoReplySize, 0, 4, 4
	if v6 {
		size, addrAt, addrLen, statusAt = echoReply6Size, 6, 16, 28
	}
	if len(buf) < size {
		return echoReply{}, false
	}
	r := echoReply{Status: binary.LittleEndian.Uint32(buf[statusAt:]), RTT: binary.LittleEndian.Uint32(buf[statusAt+4:])}
	if from, _ := netip.AddrFromSlice(buf[addrAt : addrAt+addrLen]); !from.IsUnspecified() {
		r.From = from
	}
	return r, true
}

// isIPStatus reports whether a Windows error number is an IP_STATUS: what
// IcmpSendEcho2Ex leaves in GetLastError when no reply came (IP_REQ_TIMED_OUT).
func isIPStatus(errno uint32) bool { return errno >= ipStatusBase && errno <= ipStatusLast }

// echoHop is what a reply says about hop ttl of a trace to dst: a router's
// time exceeded, a router's (or the target's) unreachable, the target's echo
// reply, or nothing (a timeout, or a status naming no sender). took is the
// hop's own clock; the reply's RTT has only millisecond steps.
func echoHop(ttl int, dst netip.Addr, r echoReply, took time.Duration) Hop {
	if !r.From.IsValid() {
		return Hop{TTL: ttl}
	}
	switch {
	case r.Status == ipSuccess || r.From == dst:
		// An echo reply, or the target itself refusing the echo: it answered.
		return hopFrom(ttl, r.From, took, ReplyTarget)
	case r.Status == ipTTLExpiredTransit || r.Status == ipTimeExceeded:
		return hopFrom(ttl, r.From, took, ReplyTimeExceeded)
	case r.Status >= ipDestNetUnreachable && r.Status <= ipDestPortUnreachable || r.Status == ipDestUnreachable:
		return hopFrom(ttl, r.From, took, ReplyUnreachable)
	}
	return Hop{TTL: ttl}
}
