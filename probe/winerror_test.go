package probe

import "testing"

// TestWindowsErrorFault checks the Windows table on every OS, by number: the
// Winsock and the Win32 spelling of each condition map alike.
func TestWindowsErrorFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code uint32
		want dialFault
	}{
		{10061, faultRefused}, {1225, faultRefused}, {1234, faultRefused}, {10054, faultRefused}, {1236, faultRefused},
		{10060, faultTimeout}, {121, faultTimeout},
		{10065, faultHostUnreachable}, {1232, faultHostUnreachable}, {10064, faultHostUnreachable},
		{10051, faultNetUnreachable}, {1231, faultNetUnreachable}, {10050, faultNetUnreachable}, {10049, faultNetUnreachable}, {1233, faultNetUnreachable},
		{10013, faultLocalPolicy}, {5, faultLocalPolicy},
		{10048, faultLocalResources}, {10055, faultLocalResources}, {10024, faultLocalResources},
		{0, faultOther}, {10022, faultOther}, // WSAEINVAL: a bug, not a path problem
	}
	for _, tc := range tests {
		if got := windowsErrorFault(tc.code); got != tc.want {
			t.Errorf("windowsErrorFault(%d) = %d (%s), want %d (%s)", tc.code, got, got.outcome(), tc.want, tc.want.outcome())
		}
	}
}
