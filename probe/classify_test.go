package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// TestClassifyRealErrors classifies errors produced by real sockets, never
// invented strings: the errno, the context and the socket-deadline paths.
func TestClassifyRealErrors(t *testing.T) {
	t.Parallel()
	closed := testnet.TCPClosed(t, testnet.LoopbackIP(201))
	hole := testnet.TCPBlackhole(t, testnet.LoopbackIP(202))
	silent := testnet.TCPSilent(t, testnet.LoopbackIP(203))

	tests := []struct {
		name    string
		err     error
		want    dialFault
		timeout bool
	}{
		{"connect to closed port", dialErr(closed.String(), time.Second), faultRefused, false},
		{"connect to blackhole, ctx deadline", dialErr(hole.String(), 100*time.Millisecond), faultTimeout, true},
		{"read past socket deadline", readPastDeadline(t, silent), faultTimeout, true},
		{"connect cancelled", dialCancelled(hole), faultCanceled, false},
		{"bind to a local port in use", bindTaken(silent, closed), faultLocalResources, false},
		{"connect to port 0", dialErr(net.JoinHostPort(testnet.LoopbackIP(204), "0"), time.Second), faultRefused, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("the socket operation unexpectedly succeeded")
			}
			if got := classifyDial(context.Background(), tc.err); got != tc.want {
				t.Errorf("classifyDial(%v) = %d (%s), want %d (%s)", tc.err, got, got.outcome(), tc.want, tc.want.outcome())
			}
			if got := timedOut(tc.err); got != tc.timeout {
				t.Errorf("timedOut(%v) = %v, want %v", tc.err, got, tc.timeout)
			}
		})
	}
	checkRefusedErrno(t, dialErr(closed.String(), time.Second))
}

// checkRefusedErrno: the refused error carries the errno through
// *net.OpError and *os.SyscallError; errors.As must reach it.
func checkRefusedErrno(t *testing.T, refused error) {
	t.Helper()
	var errno syscall.Errno
	if !errors.As(refused, &errno) || errnoFault(errno) != faultRefused {
		t.Errorf("refused dial error %v: errno %d not mapped to refused", refused, errno)
	}
	var sc *os.SyscallError
	if !errors.As(refused, &sc) || innermost(refused).Error() != sc.Syscall+": "+sc.Err.Error() {
		t.Errorf("innermost(%v) = %v, want the syscall and errno only", refused, innermost(refused))
	}
}

// dialErr is the error of a TCP dial to addr within d (nil if it connected).
func dialErr(addr string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var dd net.Dialer
	c, err := dd.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
	}
	return err
}

// readPastDeadline is the error of a read from a server that never speaks,
// past the socket's read deadline.
func readPastDeadline(t *testing.T, silent netip.AddrPort) error {
	c, err := net.Dial("tcp", silent.String())
	if err != nil {
		t.Fatalf("dial silent server: %v", err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	return err
}

// bindTaken is the error of a dial bound to a local port that is taken: the
// EADDRINUSE an explicit bind gets when the ports run out (WSAEADDRINUSE on
// Windows).
func bindTaken(local, remote netip.AddrPort) error {
	var dd net.Dialer
	dd.LocalAddr = net.TCPAddrFromAddrPort(local)
	c, err := dd.Dial("tcp", remote.String())
	if err == nil {
		c.Close()
	}
	return err
}

// dialCancelled is the error of a dial to a blackhole cancelled on the way.
func dialCancelled(hole netip.AddrPort) error {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	var dd net.Dialer
	_, err := dd.DialContext(ctx, "tcp", hole.String())
	return err
}

// TestDialFaultVocabulary checks every fault maps into the TCP outcomes (or
// local_resources, cancelled) and has an explanation.
func TestDialFaultVocabulary(t *testing.T) {
	t.Parallel()
	want := map[dialFault]Outcome{
		faultOther: TCPUnreachable, faultRefused: TCPRefused, faultTimeout: TCPTimeout, faultCanceled: Cancelled,
		faultHostUnreachable: TCPUnreachable, faultNetUnreachable: TCPUnreachable, faultLocalPolicy: TCPUnreachable,
		faultLocalResources: LocalResources,
	}
	for f, o := range want {
		if f.outcome() != o {
			t.Errorf("fault %d outcome = %s, want %s", f, f.outcome(), o)
		}
		if f.explain() == "" {
			t.Errorf("fault %d has no explanation", f)
		}
	}
}
