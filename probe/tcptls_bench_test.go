//go:build unix

package probe

import (
	"context"
	"crypto/tls"
	"net"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// BenchmarkDialTCP measures DialTCP against a plain net.Dialer dial to the
// same loopback listener in the same run: the prober's overhead is the ratio.
func BenchmarkDialTCP(b *testing.B) {
	addr := testnet.TCPSilent(b, testnet.LoopbackIP(501))
	b.Run("DialTCP", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn, res := DialTCP(ctx, addr)
			cancel()
			if !res.OK() {
				b.Fatal(res.Error)
			}
			conn.Close()
		}
	})
	b.Run("baseline net.Dialer", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr.String())
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			conn.Close()
		}
	})
}

// BenchmarkHandshakeTLS measures a TCP connect plus HandshakeTLS (ECDSA leaf,
// TLS 1.3) against crypto/tls's own verifying handshake on the same server:
// the ratio is what judging the chain ourselves costs. The server's half of
// each handshake runs in this process too.
func BenchmarkHandshakeTLS(b *testing.B) {
	lab := testnet.NewTLSLab(b)
	addr := lab.Serve(b, testnet.LoopbackIP(502), testnet.TLSGood)
	opt := TLSOptions{ServerName: lab.Host, Roots: lab.CA.Pool}
	b.Run("HandshakeTLS", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			raw, tr := DialTCP(ctx, addr)
			if !tr.OK() {
				b.Fatal(tr.Error)
			}
			_, res := HandshakeTLS(ctx, raw, opt)
			cancel()
			if !res.OK() {
				b.Fatal(res.Error)
			}
			raw.Close()
		}
	})
	b.Run("baseline crypto/tls verify", func(b *testing.B) {
		b.ReportAllocs()
		// The same key shares as HandshakeTLS offers, so the ratio isolates
		// the verification.
		cfg := &tls.Config{ServerName: lab.Host, RootCAs: lab.CA.Pool, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}}
		defer reportCPU(b)()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			raw, tr := DialTCP(ctx, addr)
			if !tr.OK() {
				b.Fatal(tr.Error)
			}
			err := tls.Client(raw, cfg).HandshakeContext(ctx)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			raw.Close()
		}
	})
}

// reportCPU starts measuring this process's CPU time (user+system, servers
// included) and returns the func that reports it per op as cpu-ns/op: on a
// shared machine CPU time is steadier than wall time.
func reportCPU(b *testing.B) func() {
	start := processCPU(b)
	return func() { b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op") }
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
