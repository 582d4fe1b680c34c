package probe

// Windows error numbers a failed connect reports, from winerror.h and
// "Windows Sockets Error Codes" (learn.microsoft.com). They are plain numbers
// here, not x/sys/windows constants, so that the mapping builds and is tested
// on every OS; errno_windows.go applies it.
const (
	winErrorAccessDenied        = 5     // ERROR_ACCESS_DENIED
	winErrorSemTimeout          = 121   // ERROR_SEM_TIMEOUT
	winErrorConnectionRefused   = 1225  // ERROR_CONNECTION_REFUSED (ConnectEx)
	winErrorNetworkUnreachable  = 1231  // ERROR_NETWORK_UNREACHABLE
	winErrorHostUnreachable     = 1232  // ERROR_HOST_UNREACHABLE
	winErrorProtocolUnreachable = 1233  // ERROR_PROTOCOL_UNREACHABLE
	winErrorPortUnreachable     = 1234  // ERROR_PORT_UNREACHABLE
	winErrorConnectionAborted   = 1236  // ERROR_CONNECTION_ABORTED
	wsaEACCES                   = 10013 // WSAEACCES: Windows Defender Firewall (WFP) blocked the connect
	wsaEMFILE                   = 10024 // no socket handle left for this process
	wsaEADDRINUSE               = 10048 // bind: the local port is taken
	wsaEADDRNOTAVAIL            = 10049
	wsaENETDOWN                 = 10050
	wsaENETUNREACH              = 10051
	wsaECONNRESET               = 10054
	wsaENOBUFS                  = 10055 // what connect says when the dynamic port range is used up
	wsaETIMEDOUT                = 10060
	wsaECONNREFUSED             = 10061
	wsaEHOSTDOWN                = 10064
	wsaEHOSTUNREACH             = 10065
)

// windowsErrorFault maps a Windows connect error number to a fault. A failed
// ConnectEx (what Go uses) reports Win32 codes (ERROR_CONNECTION_REFUSED), a
// plain connect Winsock codes (WSAECONNREFUSED): both are listed.
func windowsErrorFault(code uint32) dialFault {
	switch code {
	case wsaECONNREFUSED, winErrorConnectionRefused, winErrorPortUnreachable, wsaECONNRESET, winErrorConnectionAborted:
		return faultRefused
	case wsaETIMEDOUT, winErrorSemTimeout:
		return faultTimeout
	case wsaEHOSTUNREACH, winErrorHostUnreachable, wsaEHOSTDOWN:
		return faultHostUnreachable
	case wsaENETUNREACH, winErrorNetworkUnreachable, wsaENETDOWN, wsaEADDRNOTAVAIL, winErrorProtocolUnreachable:
		return faultNetUnreachable
	case wsaEACCES, winErrorAccessDenied:
		return faultLocalPolicy
	case wsaEADDRINUSE, wsaENOBUFS, wsaEMFILE:
		// Unlike Unix, WSAEADDRNOTAVAIL on connect means the remote address
		// is not one (0.0.0.0): it stays with the unreachable ones above.
		return faultLocalResources
	}
	return faultOther
}
