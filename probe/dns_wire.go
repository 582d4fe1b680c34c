package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"egressprobe/internal/quote"
)

// This file is the wire of the DNS step: packing queries, exchanging them
// over UDP (retransmitting) and TCP (for truncated answers), and accepting
// only the replies that answer what was asked.

// exchangeQuery is one question of an exchange and how it ended: resp set,
// err set, or truncated (answered over TCP next).
type exchangeQuery struct {
	qtype     uint16
	noEDNS    bool // ask without EDNS0 (the resolver answered FORMERR to it)
	id        uint16
	wire      []byte
	resp      *dns.Msg
	err       error
	truncated bool
}

func (x *exchangeQuery) done() bool { return x.resp != nil || x.err != nil || x.truncated }

// wireBufs recycles the buffers an exchange packs its two queries into and
// reads UDP answers into, at thousands of resolutions a second. They stay
// small (5 KiB): the pool keeps one per resolution in flight, hundreds at
// --concurrency 200; a TCP answer, rare, gets a buffer of its own size.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 2*512+udpReadSize); return &b }}

// exchange sends the queries for name over UDP at once, waits for all
// answers (retransmitting every udpRetransmit), then asks over TCP for those
// that came back truncated. It reports whether TCP was used. Every query ends
// with resp or err set.
func exchange(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, qs []*exchangeQuery) bool {
	bp := wireBufs.Get().(*[]byte)
	defer func() {
		for _, x := range qs {
			x.wire = nil // it points into the buffer going back to the pool
		}
		wireBufs.Put(bp)
	}()
	buf := *bp
	for i, x := range qs {
		x.id = uint16(rand.Uint32()) // runtime ChaCha8: unpredictable, and no syscall or allocation as dns.Id has
		if i > 0 && x.id == qs[0].id {
			x.id++ // the IDs tell the answers apart on the shared socket
		}
		wire, err := packQuery(buf[i*512:(i+1)*512], x.id, name, x.qtype, !x.noEDNS)
		if err != nil {
			x.err = fmt.Errorf("query for %s: %w", quote.Q(name), err)
			continue
		}
		x.wire = wire
	}
	exchangeUDP(ctx, server, deadline, name, qs, buf[2*512:])
	truncated := false
	for _, x := range qs {
		truncated = truncated || x.truncated
	}
	if truncated {
		exchangeTCP(ctx, server, deadline, name, qs)
	}
	return truncated
}

// ednsOPT is the OPT pseudo-record every query carries: root owner, type
// OPT (41), UDP size 1232, no extended rcode, version 0, no DO bit, no options.
var ednsOPT = [11]byte{0, 0, 41, ednsUDPSize >> 8, ednsUDPSize & 0xff, 0, 0, 0, 0, 0, 0}

// packQuery writes a recursive query for (name, qtype), with EDNS0 when edns,
// into buf (512 bytes is enough for any name). Packing by hand rather than through a
// dns.Msg saves a third of a resolution's allocations.
func packQuery(buf []byte, id uint16, name string, qtype uint16, edns bool) ([]byte, error) {
	buf = buf[:512]
	binary.BigEndian.PutUint16(buf[0:], id)
	binary.BigEndian.PutUint16(buf[2:], 1<<8) // RD
	binary.BigEndian.PutUint16(buf[4:], 1)    // QDCOUNT
	binary.BigEndian.PutUint32(buf[6:], 0)    // ANCOUNT, NSCOUNT
	binary.BigEndian.PutUint16(buf[10:], 0)   // ARCOUNT
	off, err := dns.PackDomainName(name, buf, 12, nil, false)
	if err != nil {
		return nil, err
	}
	if off+4+len(ednsOPT) > len(buf) {
		return nil, errors.New("name too long for a query")
	}
	binary.BigEndian.PutUint16(buf[off:], qtype)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	if edns {
		binary.BigEndian.PutUint16(buf[10:], 1) // ARCOUNT: the OPT record
		off += copy(buf[off:], ednsOPT[:])
	}
	return buf[:off], nil
}

// watch makes conn's I/O fail at once when ctx is cancelled before its deadline.
func watch(ctx context.Context, conn net.Conn, deadline time.Time) (stop func() bool) {
	_ = conn.SetDeadline(deadline)
	if ctx.Done() == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func failPending(qs []*exchangeQuery, err error) {
	for _, x := range qs {
		if !x.done() {
			x.err = err
		}
	}
}

func pending(qs []*exchangeQuery) int {
	n := 0
	for _, x := range qs {
		if !x.done() {
			n++
		}
	}
	return n
}

func exchangeUDP(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, qs []*exchangeQuery, rbuf []byte) {
	if pending(qs) == 0 {
		return
	}
	// A connected socket: only the resolver's datagrams reach it, and an ICMP
	// port unreachable surfaces as ECONNREFUSED on read (Linux).
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		failPending(qs, err)
		return
	}
	defer conn.Close()
	defer watch(ctx, conn, deadline)()
	send := func() error {
		for _, x := range qs {
			if !x.done() {
				if _, err := conn.Write(x.wire); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := send(); err != nil {
		failPending(qs, err)
		return
	}
	resend := time.Now().Add(udpRetransmit)
	for pending(qs) > 0 {
		_ = conn.SetReadDeadline(earliest(deadline, resend))
		n, err := conn.Read(rbuf)
		if err != nil {
			if timedOut(err) && ctx.Err() == nil && time.Now().Before(deadline) {
				if err := send(); err != nil {
					failPending(qs, err)
					return
				}
				resend = time.Now().Add(udpRetransmit)
				continue
			}
			failPending(qs, err)
			return
		}
		if n == len(rbuf) && n >= 12 {
			// The datagram filled the buffer: the read may have cut it
			// (a resolver ignoring the EDNS size). Truncated it is: the
			// TC bit sends its query to TCP.
			rbuf[2] |= 1 << 1
		}
		if !acceptReply(qs, name, rbuf[:n], true) {
			return
		}
	}
}

func exchangeTCP(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, qs []*exchangeQuery) {
	var todo []*exchangeQuery
	for _, x := range qs {
		if x.truncated {
			x.truncated = false
			todo = append(todo, x)
		}
	}
	for pending(todo) > 0 {
		answered, err := exchangeTCPConn(ctx, server, deadline, name, todo)
		// A server that answers one query per connection closes (or resets)
		// it after that answer: ask again on a new connection for the rest.
		// Each round answers at least one query, so this loop ends.
		if err != nil && answered == 0 {
			failPending(todo, err)
			return
		}
	}
}

// exchangeTCPConn asks the pending queries on one TCP connection, pipelined
// (RFC 7766: all questions in one write, answers in any order). It returns
// how many answers it read before a read error.
func exchangeTCPConn(ctx context.Context, server netip.AddrPort, deadline time.Time, name string, todo []*exchangeQuery) (int, error) {
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	defer watch(ctx, conn, deadline)()
	out := make([]byte, 0, 2*(2+512))
	for _, x := range todo {
		if !x.done() {
			out = binary.BigEndian.AppendUint16(out, uint16(len(x.wire)))
			out = append(out, x.wire...)
		}
	}
	if _, err := conn.Write(out); err != nil {
		return 0, err
	}
	answered := 0
	var size [2]byte
	for pending(todo) > 0 {
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return answered, fmt.Errorf("reading the TCP answer: %w", err)
		}
		wire := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(conn, wire); err != nil {
			return answered, fmt.Errorf("reading the TCP answer: %w", err)
		}
		answered++
		if !acceptReply(todo, name, wire, false) {
			break // every query has its error
		}
	}
	return answered, nil
}

// errWrongID is an answer to a question we did not ask on this socket.
var errWrongID = errors.New("the resolver answered with a query ID that was not asked (a broken resolver or a middlebox rewriting DNS)")

// acceptReply matches one wire reply to its query. It returns false when the
// reply ends the exchange for every pending query (garbage, unknown ID).
func acceptReply(qs []*exchangeQuery, name string, wire []byte, udp bool) bool {
	m := new(dns.Msg)
	uerr := m.Unpack(wire)
	var x *exchangeQuery
	for _, q := range qs {
		if q.wire != nil && q.id == m.Id {
			x = q
		}
	}
	switch {
	case uerr != nil && len(wire) >= 12 && x != nil && !x.done() && m.Truncated && udp:
		// A truncated datagram may not even unpack; its header is enough.
		x.truncated = true
		return true
	case uerr != nil:
		failPending(qs, fmt.Errorf("the resolver sent a malformed answer (%d bytes): %w", len(wire), uerr))
		return false
	case x == nil:
		failPending(qs, fmt.Errorf("%w (ID %d)", errWrongID, m.Id))
		return false
	case x.done():
		return true // a duplicate answer to a retransmitted query
	}
	switch {
	case !m.Response:
		x.err = errors.New("the resolver sent a query instead of an answer")
	case len(m.Question) == 0 && m.Rcode != dns.RcodeSuccess:
		x.resp = m // an error answer may omit the question
	case len(m.Question) != 1 || m.Question[0].Qtype != x.qtype || !strings.EqualFold(m.Question[0].Name, name):
		x.err = fmt.Errorf("the resolver answered another question than the %s query asked", dns.TypeToString[x.qtype])
	case m.Truncated && udp:
		x.truncated = true
	default:
		x.resp = m
	}
	return true
}
