//go:build unix

package probe

import "syscall"

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
		return faultLocalPolicy
	}
	return faultOther
}
