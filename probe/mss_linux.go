package probe

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// clampedDialer dials with TCP_MAXSEG set before the connect, so that the SYN
// announces mss and the server sends no bigger segment.
func clampedDialer(mss int) *net.Dialer {
	return &net.Dialer{KeepAlive: -1, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, mss)
		}); err != nil {
			return err
		}
		return serr
	}}
}
