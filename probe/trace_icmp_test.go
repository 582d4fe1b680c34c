package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// echoReplyBytes lays out an ICMP_ECHO_REPLY of a 64-bit process as
// ipexport.h declares it, with a pointer-sized Data and Options after it.
func echoReplyBytes(from netip.Addr, status, rtt uint32) []byte {
	b := make([]byte, echoBufferSize)
	copy(b[0:4], from.AsSlice())
	binary.LittleEndian.PutUint32(b[4:], status)
	binary.LittleEndian.PutUint32(b[8:], rtt)
	binary.LittleEndian.PutUint16(b[12:], 32) // DataSize
	binary.LittleEndian.PutUint64(b[16:], 0xdeadbeefcafe)
	b[24] = 64 // Options.Ttl
	return b
}

// echoReply6Bytes lays out an ICMPV6_ECHO_REPLY: the packed
// IPV6_ADDRESS_EX (port, flow info, address, scope id), then Status at 28.
func echoReply6Bytes(from netip.Addr, status, rtt uint32) []byte {
	b := make([]byte, echoBufferSize)
	binary.LittleEndian.PutUint32(b[2:], 0x12345) // sin6_flowinfo, unaligned
	copy(b[6:22], from.AsSlice())
	binary.LittleEndian.PutUint32(b[22:], 7) // sin6_scope_id
	binary.LittleEndian.PutUint32(b[28:], status)
	binary.LittleEndian.PutUint32(b[32:], rtt)
	return b
}

// The reply layouts and what each status says about a hop: a router's time
// exceeded, a router's unreachable, the target's echo reply (or the target
// refusing it), and nothing for a timeout or a reply naming no sender.
func TestEchoReplies(t *testing.T) {
	dst, router := netip.MustParseAddr("10.0.3.2"), netip.MustParseAddr("10.0.1.2")
	dst6, router6 := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8:1::2")
	none := netip.Addr{}
	tests := []struct {
		name   string
		buf    []byte
		dst    netip.Addr
		v6     bool
		from   netip.Addr
		status uint32
		reply  string
	}{
		{"echo reply", echoReplyBytes(dst, ipSuccess, 3), dst, false, dst, ipSuccess, ReplyTarget},
		{"time exceeded", echoReplyBytes(router, ipTTLExpiredTransit, 1), dst, false, router, ipTTLExpiredTransit, ReplyTimeExceeded},
		{"host unreachable", echoReplyBytes(router, ipDestHostUnreachable, 1), dst, false, router, ipDestHostUnreachable, ReplyUnreachable},
		{"net unreachable", echoReplyBytes(router, ipDestNetUnreachable, 1), dst, false, router, ipDestNetUnreachable, ReplyUnreachable},
		{"the target refuses", echoReplyBytes(dst, ipDestProtUnreachable, 1), dst, false, dst, ipDestProtUnreachable, ReplyTarget},
		{"timed out", echoReplyBytes(netip.IPv4Unspecified(), ipReqTimedOut, 0), dst, false, none, ipReqTimedOut, ""},
		{"IPv6 echo reply", echoReply6Bytes(dst6, ipSuccess, 2), dst6, true, dst6, ipSuccess, ReplyTarget},
		{"IPv6 hop limit exceeded", echoReply6Bytes(router6, ipTTLExpiredTransit, 1), dst6, true, router6, ipTTLExpiredTransit, ReplyTimeExceeded},
		{"IPv6 time exceeded, other code", echoReply6Bytes(router6, ipTimeExceeded, 1), dst6, true, router6, ipTimeExceeded, ReplyTimeExceeded},
		{"IPv6 prohibited", echoReply6Bytes(router6, ipDestProtUnreachable, 1), dst6, true, router6, ipDestProtUnreachable, ReplyUnreachable},
		{"IPv6 unreachable, other code", echoReply6Bytes(router6, ipDestUnreachable, 1), dst6, true, router6, ipDestUnreachable, ReplyUnreachable},
		{"IPv6 timed out", echoReply6Bytes(netip.IPv6Unspecified(), ipReqTimedOut, 0), dst6, true, none, ipReqTimedOut, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := parseEchoReply(tc.buf, tc.v6)
			if !ok || r.From != tc.from || r.Status != tc.status {
				t.Fatalf("parsed %+v (ok %v), want from %v, status %d", r, ok, tc.from, tc.status)
			}
			h := echoHop(3, tc.dst, r, 1500*time.Microsecond)
			if h.TTL != 3 || h.Reply != tc.reply || (h.Addr == nil) != (tc.reply == "") || (h.Addr != nil && *h.Addr != tc.from) {
				t.Errorf("hop %+v, want reply %q from %v", h, tc.reply, tc.from)
			}
			if h.MS != nil && *h.MS != 1.5 {
				t.Errorf("hop ms %v, want the hop's own clock, 1.5", *h.MS)
			}
		})
	}
	if _, ok := parseEchoReply(make([]byte, echoReplySize-1), false); ok {
		t.Error("parsed a buffer shorter than ICMP_ECHO_REPLY")
	}
	if _, ok := parseEchoReply(make([]byte, echoReply6Size-1), true); ok {
		t.Error("parsed a buffer shorter than ICMPV6_ECHO_REPLY")
	}
	if !isIPStatus(ipReqTimedOut) || isIPStatus(10060) {
		t.Error("isIPStatus: IP_REQ_TIMED_OUT is one, WSAETIMEDOUT is not")
	}
}
