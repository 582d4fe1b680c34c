//go:build windows

package probe

import "syscall"

// errnoFault maps a connect error code to a fault by its number; the table is
// OS-neutral (winerror.go) so that Linux CI tests it too.
func errnoFault(e syscall.Errno) dialFault { return windowsErrorFault(uint32(e)) }

// pathFault keeps f: Windows' WSAEACCES is this host's own firewall (WFP).
func pathFault(_ error, f dialFault) dialFault { return f }
