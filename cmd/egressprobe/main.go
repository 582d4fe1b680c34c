// Command egressprobe tells a network team which hop blocks an agent's way to Azure:
// DNS, TCP, proxy or TLS, per endpoint and per IP.
//
// This package is the only place that reads flags, the environment, os.Stdout,
// signals and the real clock, and the only one that decides the exit code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C / SIGTERM cancel the context: long runs return what finished.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], systemStreams())
	stop()
	os.Exit(code)
}
