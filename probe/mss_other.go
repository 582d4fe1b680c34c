//go:build !linux

package probe

import "net"

// clampedDialer is nil: Windows lets a program read TCP_MAXSEG but not set it
// for a connect, so the path-MTU retry is Linux-only (the stall says how to
// check by hand).
func clampedDialer(int) *net.Dialer { return nil }
