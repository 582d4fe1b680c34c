//go:build unix

package probe

import (
	"errors"
	"net"
	"syscall"
)

// errnoFault maps a connect errno to a fault by its number on this OS
// (syscall's constants are the per-OS numbers).
func errnoFault(e syscall.Errno) dialFault {
	switch e {
	case syscall.ECONNREFUSED, syscall.ECONNRESET:
		// An ICMP port-unreachable also arrives as ECONNREFUSED on Linux:
		// either way something on the path answered "no".
		return faultRefused
	case syscall.ETIMEDOUT:
		return faultTimeout
	case syscall.EHOSTUNREACH, syscall.EHOSTDOWN:
		// Linux reports ICMP host-unreachable and admin-prohibited
		// (packet filtered, code 13) alike as EHOSTUNREACH.
		return faultHostUnreachable
	case syscall.ENETUNREACH, syscall.ENETDOWN:
		return faultNetUnreachable
	case syscall.EADDRNOTAVAIL, syscall.EADDRINUSE, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS:
		// connect(2) says EADDRNOTAVAIL when every ephemeral port is taken
		// (bind says EADDRINUSE); EMFILE/ENFILE: no file descriptor left.
		return faultLocalResources
	case syscall.EACCES, syscall.EPERM:
		// EACCES can be the path's too (ICMPv6 prohibited): pathFault.
		return faultLocalPolicy
	}
	return faultOther
}

// pathFault corrects f for the one errno that means either this host or the
// path: Linux reports an ICMPv6 "administratively prohibited" (also "source
// address failed policy", "reject route") from a router or firewall as
// EACCES, the errno of a prohibit route on this host. Asking for the route —
// a UDP connect, which sends nothing — tells them apart: a prohibit route
// fails it with EACCES too. (ICMPv4 admin-prohibited arrives as EHOSTUNREACH.)
func pathFault(err error, f dialFault) dialFault {
	var op *net.OpError
	if f != faultLocalPolicy || !errors.Is(err, syscall.EACCES) || !errors.As(err, &op) {
		return f
	}
	ta, ok := op.Addr.(*net.TCPAddr)
	if !ok || ta.IP.To4() != nil {
		return f
	}
	c, rerr := net.DialUDP("udp6", nil, &net.UDPAddr{IP: ta.IP, Port: ta.Port, Zone: ta.Zone})
	if rerr != nil {
		return f
	}
	_ = c.Close()
	return faultHostUnreachable
}
