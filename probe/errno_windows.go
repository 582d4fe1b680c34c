//go:build windows

package probe

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// errnoFault maps a connect error code to a fault by its number. Windows
// reports a failed ConnectEx with Win32 codes (ERROR_CONNECTION_REFUSED, 1225)
// and a plain connect with Winsock codes (WSAECONNREFUSED, 10061); both are
// listed. Numbers: winerror.h / "Windows Sockets Error Codes" on learn.microsoft.com.
func errnoFault(e syscall.Errno) dialFault {
	switch e {
	case windows.WSAECONNREFUSED, windows.ERROR_CONNECTION_REFUSED, windows.ERROR_PORT_UNREACHABLE,
		windows.WSAECONNRESET, windows.ERROR_CONNECTION_ABORTED:
		return faultRefused
	case windows.WSAETIMEDOUT, windows.ERROR_SEM_TIMEOUT:
		return faultTimeout
	case windows.WSAEHOSTUNREACH, windows.ERROR_HOST_UNREACHABLE, windows.WSAEHOSTDOWN:
		return faultHostUnreachable
	case windows.WSAENETUNREACH, windows.ERROR_NETWORK_UNREACHABLE, windows.WSAENETDOWN,
		windows.WSAEADDRNOTAVAIL, windows.ERROR_PROTOCOL_UNREACHABLE:
		return faultNetUnreachable
	case windows.WSAEACCES, windows.ERROR_ACCESS_DENIED:
		// Windows Defender Firewall (WFP) blocking an outbound connect.
		return faultLocalPolicy
	}
	return faultOther
}
