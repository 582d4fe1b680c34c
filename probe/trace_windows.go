//go:build windows

package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// traceMethod: ICMP echo requests with their TTL set, through
// IcmpSendEcho2Ex / Icmp6SendEcho2, as tracert sends them: Windows gives a
// program without admin rights no way to send a TCP SYN with a TTL of its
// own choosing (raw sockets need admin and cannot send TCP at all), while the
// ICMP API needs no rights. TraceTCP says so in the result's Note.
const traceMethod = TraceMethodICMPEcho

// x/sys/windows does not wrap the ICMP API.
var (
	iphlpapi            = windows.NewLazySystemDLL("iphlpapi.dll")
	procIcmpCreateFile  = iphlpapi.NewProc("IcmpCreateFile")
	procIcmp6CreateFile = iphlpapi.NewProc("Icmp6CreateFile")
	procIcmpCloseHandle = iphlpapi.NewProc("IcmpCloseHandle")
	procIcmpSendEcho2Ex = iphlpapi.NewProc("IcmpSendEcho2Ex")
	procIcmp6SendEcho2  = iphlpapi.NewProc("Icmp6SendEcho2")
)

// ipOptionInformation is IP_OPTION_INFORMATION in a 64-bit process.
type ipOptionInformation struct {
	TTL, TOS, Flags, OptionsSize uint8
	_                            [4]byte
	OptionsData                  uintptr
}

// probeHops sends one echo request for each TTL from first to last, all at
// once, each waiting at most HopWait (less when ctx's deadline is nearer).
// IcmpSendEcho2Ex called without an event is synchronous and cannot be
// interrupted, so each hop has its goroutine and its own timeout, and all
// have returned before probeHops does: a cancelled run waits at most
// HopWait.
func probeHops(ctx context.Context, dst netip.AddrPort, first, last int) ([]Hop, error) {
	wait := HopWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if wait <= 0 || ctx.Err() != nil {
		return nil, nil
	}
	h, err := icmpHandle(dst.Addr())
	if err != nil {
		return nil, fmt.Errorf("trace to %s: %w", dst.Addr(), err)
	}
	defer procIcmpCloseHandle.Call(uintptr(h))

	hops := make([]Hop, last-first+1)
	errs := make([]error, len(hops))
	var wg sync.WaitGroup
	for i := range hops {
		wg.Go(func() { hops[i], errs[i] = echoHopTTL(h, dst.Addr(), first+i, wait) })
	}
	wg.Wait()
	if errs[0] != nil {
		// Nothing left this host even at TTL 1 (no route, no ICMP API): the
		// trace cannot say anything about the path.
		return nil, fmt.Errorf("trace to %s: %w", dst.Addr(), errs[0])
	}
	return hops, nil
}

// icmpHandle opens the ICMP API for addr's family (TraceTCP unmaps
// IPv4-mapped addresses: Is6 is IPv6 proper).
func icmpHandle(addr netip.Addr) (windows.Handle, error) {
	proc := procIcmpCreateFile
	if addr.Is6() {
		proc = procIcmp6CreateFile
	}
	if err := proc.Find(); err != nil {
		return 0, fmt.Errorf("%s: %w", proc.Name, err)
	}
	r, _, err := proc.Call()
	if h := windows.Handle(r); h != windows.InvalidHandle {
		return h, nil
	}
	return 0, fmt.Errorf("%s: %w", proc.Name, err)
}

// echoHopTTL sends one echo request to dst with ttl and waits up to wait for
// the reply. An error means the request never left (no route from here, the
// API refused it); a timeout is a silent hop, not an error.
func echoHopTTL(h windows.Handle, dst netip.Addr, ttl int, wait time.Duration) (Hop, error) {
	opts := ipOptionInformation{TTL: uint8(ttl)}
	var data [echoPayloadSize]byte
	copy(data[:], "egressprobe trace")
	buf := make([]byte, echoBufferSize)
	payload, timeout := uintptr(unsafe.Pointer(&data[0])), uintptr(max(wait.Milliseconds(), 1))
	start := time.Now()
	var n uintptr
	var callErr error
	if dst.Is6() {
		src := windows.RawSockaddrInet6{Family: windows.AF_INET6}
		to := windows.RawSockaddrInet6{Family: windows.AF_INET6, Addr: dst.As16()}
		n, _, callErr = procIcmp6SendEcho2.Call(uintptr(h), 0, 0, 0, uintptr(unsafe.Pointer(&src)), uintptr(unsafe.Pointer(&to)),
			payload, echoPayloadSize, uintptr(unsafe.Pointer(&opts)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), timeout)
	} else {
		// IPAddr: the four bytes in network order, read as a native uint32.
		to := binary.NativeEndian.Uint32(dst.AsSlice())
		n, _, callErr = procIcmpSendEcho2Ex.Call(uintptr(h), 0, 0, 0, 0, uintptr(to),
			payload, echoPayloadSize, uintptr(unsafe.Pointer(&opts)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), timeout)
	}
	took := time.Since(start)
	r, ok := parseEchoReply(buf, dst.Is6())
	var errno syscall.Errno
	status := errors.As(callErr, &errno) && isIPStatus(uint32(errno))
	switch {
	case ok && r.From.IsValid() && (n > 0 || status && r.Status == uint32(errno)):
		// A reply (an error reply may come with its status in
		// GetLastError too).
		return echoHop(ttl, dst, r, took), nil
	case n > 0 || status && uint32(errno) == ipReqTimedOut:
		return Hop{TTL: ttl}, nil
	case status:
		return Hop{TTL: ttl}, fmt.Errorf("the echo request with TTL %d did not leave this host: IP status %d", ttl, uint32(errno))
	}
	return Hop{TTL: ttl}, fmt.Errorf("the echo request with TTL %d: %w", ttl, callErr)
}
