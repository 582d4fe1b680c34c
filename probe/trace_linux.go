package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// traceMethod: a TCP connect per hop with its TTL set and IP_RECVERR on,
// so the kernel hands the ICMP time-exceeded (or unreachable) of the router
// where the SYN died to the socket's error queue, offender address included.
// No raw socket: the same trace runs with and without root or CAP_NET_RAW.
const traceMethod = TraceMethodTCPSYN

// probeHops sends one SYN for each TTL from first to last, all at once, and
// waits at most HopWait for their answers. Sockets are made in the calling
// goroutine (so on its thread's network namespace) and waited on with poll.
func probeHops(ctx context.Context, dst netip.AddrPort, first, last int) ([]Hop, error) {
	type probe struct {
		fd    int
		start time.Time
		hop   Hop
		done  bool
	}
	probes := make([]probe, 0, last-first+1)
	defer func() {
		for _, p := range probes {
			_ = unix.Close(p.fd)
		}
	}()
	for ttl := first; ttl <= last; ttl++ {
		fd, err := hopSocket(dst, ttl)
		if err != nil {
			return nil, err
		}
		probes = append(probes, probe{fd: fd, start: time.Now(), hop: Hop{TTL: ttl}})
		if err := unix.Connect(fd, sockaddr(dst)); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			probes[len(probes)-1].done = true // no route, no local address: nothing left this host
			if first == ttl {
				return nil, fmt.Errorf("trace to %s: connect: %w", dst, err)
			}
		}
	}
	deadline := time.Now().Add(HopWait)
	fds := make([]unix.PollFd, len(probes))
	for ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		n := 0
		for i := range probes {
			fds[i] = unix.PollFd{Fd: int32(probes[i].fd), Events: unix.POLLOUT}
			if probes[i].done {
				fds[i].Fd = -1 // poll ignores it
			} else {
				n++
			}
		}
		if n == 0 {
			break
		}
		// Short polls, so that a cancelled run stops a trace at once.
		if _, err := unix.Poll(fds, int(min(left, 100*time.Millisecond)/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			return nil, fmt.Errorf("trace to %s: poll: %w", dst, err)
		}
		for i := range probes {
			if p := &probes[i]; !p.done && fds[i].Revents != 0 {
				p.done = true
				p.hop = hopAnswer(p.fd, dst, p.hop.TTL, time.Since(p.start))
			}
		}
	}
	hops := make([]Hop, len(probes))
	for i := range probes {
		hops[i] = probes[i].hop
	}
	return hops, nil
}

// hopSocket is a non-blocking TCP socket whose packets carry ttl and whose
// ICMP errors are queued for reading.
func hopSocket(dst netip.AddrPort, ttl int) (int, error) {
	af, level, ttlOpt, recverr := unix.AF_INET, unix.IPPROTO_IP, unix.IP_TTL, unix.IP_RECVERR
	if dst.Addr().Is6() {
		af, level, ttlOpt, recverr = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, unix.IPV6_RECVERR
	}
	fd, err := unix.Socket(af, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("trace to %s: socket: %w", dst, err)
	}
	for _, opt := range [][2]int{{ttlOpt, ttl}, {recverr, 1}} {
		if err := unix.SetsockoptInt(fd, level, opt[0], opt[1]); err != nil {
			_ = unix.Close(fd)
			return -1, fmt.Errorf("trace to %s: setsockopt: %w", dst, err)
		}
	}
	return fd, nil
}

func sockaddr(dst netip.AddrPort) unix.Sockaddr {
	if dst.Addr().Is6() {
		return &unix.SockaddrInet6{Port: int(dst.Port()), Addr: dst.Addr().As16()}
	}
	return &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}
}

// hopAnswer reads what answered a hop's SYN: an ICMP error in the error
// queue (checked first: a queued error can come while the connect still
// waits), else the connect's own result — connected or reset is the target.
func hopAnswer(fd int, dst netip.AddrPort, ttl int, took time.Duration) Hop {
	oob := make([]byte, 512)
	if _, oobn, _, _, err := unix.Recvmsg(fd, nil, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT); err == nil {
		if from, reply, ok := icmpOffender(oob[:oobn]); ok {
			return hopFrom(ttl, from, took, reply)
		}
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && (soerr == 0 || unix.Errno(soerr) == unix.ECONNREFUSED) {
		return hopFrom(ttl, dst.Addr(), took, ReplyTarget)
	}
	return Hop{TTL: ttl}
}

// icmpOffender parses an IP_RECVERR / IPV6_RECVERR control message: a struct
// sock_extended_err (errno u32, origin, type, code, pad u8, info, data u32)
// followed by the sockaddr of the router that sent the ICMP.
func icmpOffender(oob []byte) (netip.Addr, string, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return netip.Addr{}, "", false
	}
	for _, m := range msgs {
		d := m.Data
		if len(d) < 16+8 {
			continue
		}
		origin, typ := d[4], d[5]
		sa := d[16:]
		var (
			from  netip.Addr
			reply string
		)
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR && origin == unix.SO_EE_ORIGIN_ICMP:
			from = netip.AddrFrom4([4]byte(sa[4:8]))
			reply = map[byte]string{11: ReplyTimeExceeded, 3: ReplyUnreachable}[typ]
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR && origin == unix.SO_EE_ORIGIN_ICMP6 && len(sa) >= 24:
			from = netip.AddrFrom16([16]byte(sa[8:24]))
			reply = map[byte]string{3: ReplyTimeExceeded, 1: ReplyUnreachable}[typ]
		default:
			continue
		}
		if reply != "" && binary.NativeEndian.Uint16(sa[0:2]) != 0 {
			return from, reply, true
		}
	}
	return netip.Addr{}, "", false
}
