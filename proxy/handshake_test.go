package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzConnectReply feeds arbitrary bytes as the proxy's answer to CONNECT,
// over an in-memory pipe: the handshake never panics or hangs past its
// deadline, a tunnel comes only with a 2xx, a refusal is a *StatusError with
// the status read, anything else an *OpError, and no string carries the
// planted password.
func FuzzConnectReply(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 Connection established\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nearly bytes",
		"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nProxy-Authenticate: NTLM\r\n\r\n",
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
		"HTTP/1.1 502 Bad Gateway\r\n\r\n",
		"HTTP/1.1 401 \x1b[31m\r\nWWW-Authenticate: Basic\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2\r\n",
		"\x16\x03\x01\x00\x02\x02\x28",
		"HTTP/1.1 20",
		"",
	} {
		f.Add([]byte(s))
	}
	const secret = "Pl4nted-S3cret"
	proxyURL := &url.URL{Scheme: "http", Host: "127.0.0.1:3128", User: url.UserPassword("alice", secret)}
	f.Fuzz(func(t *testing.T, reply []byte) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			// Read the request header, answer, and end the connection.
			br := bufio.NewReader(server)
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			_, _ = server.Write(reply)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		conn, tun, err := Dialer{}.handshake(ctx, client, proxyURL, "login.microsoftonline.com:443", Tunnel{Addr: "127.0.0.1:3128"})
		if time.Since(start) > 5*time.Second {
			t.Fatalf("handshake took %v past a 2s deadline", time.Since(start))
		}
		var se *StatusError
		var oe *OpError
		switch {
		case err == nil:
			conn.Close()
			if tun.StatusCode/100 != 2 {
				t.Fatalf("a tunnel with status %d", tun.StatusCode)
			}
		case errors.As(err, &se):
			if se.Code != tun.StatusCode || se.Code/100 == 2 {
				t.Fatalf("StatusError %d with tunnel status %d", se.Code, tun.StatusCode)
			}
		case errors.As(err, &oe):
		default:
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if err != nil {
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err)} {
				if strings.Contains(s, secret) {
					t.Fatalf("error leaks the password: %q", s)
				}
				if strings.ContainsAny(s, "\x00\x1b") && se != nil {
					t.Fatalf("status text not sanitised: %q", s)
				}
			}
		}
	})
}
