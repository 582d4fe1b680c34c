package testnet

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// NCSIBody is what www.msftconnecttest.com/connecttest.txt answers.
const NCSIBody = "Microsoft Connect Test"

// ServeHTTP serves h on ip (e.g. "127.0.0.1", "127.0.3.7", "::1") at an
// ephemeral port, over TLS when cert is non-nil, until the test ends.
func ServeHTTP(t testing.TB, ip string, h http.Handler, cert *tls.Certificate) netip.AddrPort {
	t.Helper()
	return ServeHTTPOn(t, listen(t, ip), h, cert)
}

// ServeHTTPOn serves h on ln, over TLS when cert is non-nil, until the test
// ends.
func ServeHTTPOn(t testing.TB, ln net.Listener, h http.Handler, cert *tls.Certificate) netip.AddrPort {
	t.Helper()
	addr := netip.MustParseAddrPort(ln.Addr().String())
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, SessionTicketsDisabled: true})
	}
	// Probes hang up right after the handshake: not worth a log line each.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return addr
}

// ListenSamePort opens one TCP listener on each of ips, all on one port (the
// addresses a name resolves to, serving the same port), closed at cleanup.
func ListenSamePort(t testing.TB, ips ...string) []net.Listener {
	t.Helper()
	for range 20 {
		first := listen(t, ips[0])
		port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		lns := []net.Listener{first}
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, port))
			if err != nil {
				break // taken on this address: try another port
			}
			t.Cleanup(func() { _ = ln.Close() })
			lns = append(lns, ln)
		}
		if len(lns) == len(ips) {
			return lns
		}
		for _, ln := range lns {
			_ = ln.Close()
		}
	}
	t.Fatalf("testnet: no port free on all of %v", ips)
	return nil
}

// NCSI answers every GET with 200 and body, as the NCSI servers do (body
// NCSIBody for the real thing, another string for a wrong-body server).
func NCSI(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, body)
	})
}

// CaptivePortal answers every GET with a 302 to location, as a hotel or
// guest-Wi-Fi portal does.
func CaptivePortal(location string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, http.StatusFound)
	})
}

// ForwardProxy is a plain-HTTP proxy for absolute-form requests
// ("GET http://host/path"): it demands Basic credentials user:password when
// user is non-empty (407 otherwise), rejects origin-form requests with 400, and
// answers the request itself with next, standing in for the origin. Got
// receives each absolute URL it was asked for.
func ForwardProxy(user, password string, next http.Handler, got chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "origin-form request sent to a proxy", http.StatusBadRequest)
			return
		}
		if user != "" {
			pr := &http.Request{Header: http.Header{"Authorization": r.Header["Proxy-Authorization"]}}
			u, p, ok := pr.BasicAuth()
			if !ok || u != user || p != password {
				w.Header().Set("Proxy-Authenticate", `Basic realm="testnet"`)
				http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
				return
			}
		}
		if got != nil {
			select {
			case got <- r.URL.String():
			default:
			}
		}
		next.ServeHTTP(w, r)
	})
}

// HTTPStall accepts, reads the request header and then never answers.
func HTTPStall(t testing.TB, ip string) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) {
		readHeader(c)
		_, _ = io.Copy(io.Discard, c) // hold the connection open until the client gives up
	})
}

// HTTPDribble accepts, reads the request header and answers a valid 200 one
// byte every interval: a server that always seems to make progress.
func HTTPDribble(t testing.TB, ip string, interval time.Duration) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) {
		readHeader(c)
		answer := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(NCSIBody), NCSIBody)
		for i := range len(answer) {
			if _, err := c.Write([]byte{answer[i]}); err != nil {
				return
			}
			time.Sleep(interval)
		}
	})
}

// listen opens a TCP listener on ip at an ephemeral port, closed at cleanup.
func listen(t testing.TB, ip string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("testnet: listen on %s: %v", ip, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// serveConns runs handle on each accepted connection (closing it after) until
// the test ends, when open connections are closed so that handlers return.
func serveConns(t testing.TB, ip string, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln := listen(t, ip)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					select {
					case <-done:
						_ = c.Close()
					case <-stop:
					}
				}()
				handle(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// readHeader consumes an HTTP request header (up to the blank line).
func readHeader(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" || line == "\n" {
			return
		}
	}
}

// HTTPRaw accepts, reads the request header, writes answer verbatim and
// closes: for garbage, truncated or oversized answers.
func HTTPRaw(t testing.TB, ip string, answer string) netip.AddrPort {
	t.Helper()
	return serveConns(t, ip, func(c net.Conn) {
		readHeader(c)
		_, _ = io.WriteString(c, answer)
	})
}
