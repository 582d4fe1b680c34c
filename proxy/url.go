package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"egressprobe/internal/quote"
)

// ErrBadProxyURL marks a proxy URL that cannot be used, from any source.
var ErrBadProxyURL = errors.New("bad proxy URL")

// proxyURLFix is the shape every bad-proxy-URL error points the user to.
// It must not look like a URL with credentials, or Redact would mask it.
const proxyURLFix = "want http://host:port or https://host:port, with user:password and an @ before the host when the proxy needs credentials; " +
	"a / # ? @ or : in the user name or password must be %-encoded as %2F %23 %3F %40 %3A"

// ParseURL validates a proxy URL as curl reads one: a missing scheme means
// http://, the scheme must be http or https, a host is required, and a missing
// port defaults to 80 or 443. User and password are %-decoded by url.URL. The
// error shows the value with everything that could be a password concealed
// (see conceal), says why in words that quote none of it, gives the fix, and
// wraps ErrBadProxyURL.
func ParseURL(s string) (*url.URL, error) {
	raw := strings.TrimSpace(s)
	bad := func(reason string) error {
		return fmt.Errorf("proxy %s: %s (%s): %w", quote.Q(conceal(raw)), reason, proxyURLFix, ErrBadProxyURL)
	}
	if raw == "" {
		return nil, bad("empty")
	}
	withScheme := raw
	if !strings.Contains(raw, "://") {
		withScheme = "http://" + raw
	}
	// url.Parse ends the authority at the first '/', '?' or '#', so a password
	// holding one would be split into host, port and path: "invalid port
	// ":<half the password>"", or worse, a URL that parses.
	_, afterScheme, _ := strings.Cut(withScheme, "://")
	if at := strings.LastIndexByte(afterScheme, '@'); at >= 0 && strings.ContainsAny(afterScheme[:at], "/?#") {
		return nil, bad("a '/', '?' or '#' comes before the '@' that ends user:password")
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
		// The scheme is safe to quote: url.Parse accepted it, and no password
		// comes before "://".
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
	port := PortOf(u)
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, bad("the port is not a number from 1 to 65535")
	}
	return &url.URL{Scheme: u.Scheme, User: u.User, Host: net.JoinHostPort(host, port)}, nil
}

// parseReason turns a url.Parse error into a reason that quotes nothing of
// the input: url.Parse's own messages quote the port or the bad escape, which
// may be part of a password.
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
	if strings.HasPrefix(ue.Err.Error(), "invalid port") {
		return "the port is not a number from 1 to 65535"
	}
	return "not a URL"
}

var (
	schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]{0,15}$`)
	// hostPortRE is a host (name, IPv4 or bracketed IPv6) with an optional
	// numeric port and trailing slash: nothing a password could hide in.
	hostPortRE = regexp.MustCompile(`^(?:[A-Za-z0-9._\-]{0,253}|\[[0-9A-Fa-f:.]{0,45}\])(?::[0-9]{0,5})?/?$`)
)

// conceal shows a proxy string that may not parse without any part that could
// be a password: the scheme stays, everything up to the last '@' becomes
// "xxxxx@" (user name included: when the string is malformed nobody knows where
// the user name ends), and what follows stays only when it is plainly
// host[:port]. Anything else after the scheme becomes "xxxxx". Unlike Redact,
// it needs no URL syntax to be right.
func conceal(raw string) string {
	prefix, rest := "", raw
	if scheme, after, ok := strings.Cut(raw, "://"); ok && schemeRE.MatchString(scheme) {
		prefix, rest = scheme+"://", after
	}
	cred := ""
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		cred, rest = redacted+"@", rest[at+1:]
	}
	if !hostPortRE.MatchString(rest) {
		return prefix + redacted
	}
	return prefix + cred + rest
}

// PortOf is u's port, else its scheme's default ("80" for http, "443" for
// https); "" for another scheme without a port.
func PortOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if p := DefaultPort(u.Scheme); p != 0 {
		return strconv.Itoa(int(p))
	}
	return ""
}

// DefaultPort is a scheme's port when a URL names none: 80 for http, 443 for
// https, 0 for any other.
func DefaultPort(scheme string) uint16 {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}
