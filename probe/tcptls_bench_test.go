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

// BenchmarkDialTCP measures DialTCP against a plain net.Dialer dial to a
// loopback listener in the same run: the prober's overhead is the ratio. Each
// side dials its own address: the TIME_WAIT sockets one side leaves make the
// kernel's port search for the same destination slower for the other.
func BenchmarkDialTCP(b *testing.B) {
	b.Run("DialTCP", func(b *testing.B) {
		addr := testnet.TCPSilent(b, testnet.LoopbackIP(501))
		benchProbe(b, func(ctx context.Context) (net.Conn, string) {
			conn, res := DialTCP(ctx, addr)
			return conn, res.Error
		})
	})
	b.Run("baseline net.Dialer", func(b *testing.B) {
		addr := testnet.TCPSilent(b, testnet.LoopbackIP(502))
		benchProbe(b, func(ctx context.Context) (net.Conn, string) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr.String())
			return conn, errText(err)
		})
	})
}

// BenchmarkHandshakeTLS measures a TCP connect plus HandshakeTLS (ECDSA leaf,
// TLS 1.3) against crypto/tls's own verifying handshake on the same server:
// the ratio is what judging the chain ourselves costs. The server's half of
// each handshake runs in this process too.
func BenchmarkHandshakeTLS(b *testing.B) {
	lab := testnet.NewTLSLab(b)
	opt := TLSOptions{ServerName: lab.Host, Roots: lab.CA.Pool}
	// The same key shares as HandshakeTLS offers, so the ratio isolates the
	// verification.
	cfg := &tls.Config{ServerName: lab.Host, RootCAs: lab.CA.Pool, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}}
	handshake := func(b *testing.B, ip int, tlsStep func(context.Context, net.Conn) string) func(context.Context) (net.Conn, string) {
		addr := lab.Serve(b, testnet.LoopbackIP(ip), testnet.TLSGood) // one server per side, as in BenchmarkDialTCP
		return func(ctx context.Context) (net.Conn, string) {
			raw, tr := DialTCP(ctx, addr)
			if !tr.OK() {
				return nil, tr.Error
			}
			return raw, tlsStep(ctx, raw)
		}
	}
	b.Run("HandshakeTLS", func(b *testing.B) {
		benchProbe(b, handshake(b, 503, func(ctx context.Context, raw net.Conn) string {
			_, res := HandshakeTLS(ctx, raw, opt)
			return res.Error
		}))
	})
	b.Run("baseline crypto/tls verify", func(b *testing.B) {
		benchProbe(b, handshake(b, 504, func(ctx context.Context, raw net.Conn) string {
			return errText(tls.Client(raw, cfg).HandshakeContext(ctx))
		}))
	})
}

// benchProbe runs probe b.N times, each under a fresh 5 s context, closing
// the conn it returns; a non-empty failure stops the benchmark. It reports
// allocations and this process's CPU time per op.
func benchProbe(b *testing.B, probe func(context.Context) (net.Conn, string)) {
	b.ReportAllocs()
	start := processCPU(b)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, failure := probe(ctx)
		cancel()
		if conn != nil {
			conn.Close()
		}
		if failure != "" {
			b.Fatal(failure)
		}
	}
	// CPU time (user+system, the in-process servers included) is steadier
	// than wall time on a shared machine.
	b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
