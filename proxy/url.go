package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrBadProxyURL marks a proxy URL that cannot be used, from any source.
var ErrBadProxyURL = errors.New("bad proxy URL")

// proxyURLFix is the shape every bad-proxy-URL error points the user to.
// It must not look like a URL with credentials, or Redact would mask it.
const proxyURLFix = "want http://host:port or https://host:port, with user:password and an @ before the host when the proxy needs credentials"

// ParseURL validates a proxy URL as curl reads one: a missing scheme means
// http://, the scheme must be http or https, a host is required, and a missing
// port defaults to 80 or 443. User and password are %-decoded by url.URL. The
// error names the (redacted) value and the fix, and wraps ErrBadProxyURL.
func ParseURL(s string) (*url.URL, error) {
	raw := strings.TrimSpace(s)
	bad := func(reason string) error {
		return fmt.Errorf("proxy %q: %s (%s): %w", Redact(raw), reason, proxyURLFix, ErrBadProxyURL)
	}
	if raw == "" {
		return nil, bad("empty")
	}
	withScheme := raw
	if !strings.Contains(raw, "://") {
		withScheme = "http://" + raw
	}
	u, err := url.Parse(withScheme)
	if err != nil {
		return nil, bad(parseReason(err))
	}
	switch u.Scheme {
	case "http", "https":
	case "socks4", "socks4a", "socks5", "socks5h":
		return nil, bad("SOCKS proxies are not supported, only HTTP CONNECT")
	default:
		return nil, bad(fmt.Sprintf("scheme %q is not supported", u.Scheme))
	}
	host := u.Hostname()
	if host == "" {
		return nil, bad("no host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, bad("a proxy URL has no path; is this a PAC file? pass the proxy it names")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("a proxy URL has no query or fragment")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, bad(fmt.Sprintf("port %q is not a number from 1 to 65535", port))
	}
	return &url.URL{Scheme: u.Scheme, User: u.User, Host: net.JoinHostPort(host, port)}, nil
}

// parseReason turns a url.Parse error into a reason that cannot leak a
// password: an invalid %-escape names the bytes, which may be the password's.
func parseReason(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "not a URL"
	}
	var esc url.EscapeError
	if errors.As(ue.Err, &esc) {
		return "invalid %-escape (write a literal % as %25)"
	}
	var host url.InvalidHostError
	if errors.As(ue.Err, &host) {
		return "invalid character in host"
	}
	msg := ue.Err.Error()
	if strings.HasPrefix(msg, "invalid port") {
		// The port comes after the last '@', never from the userinfo.
		return Redact(msg)
	}
	return "not a URL (a '@', '/' or ':' inside the password must be %-encoded)"
}
