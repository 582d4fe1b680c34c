package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Flags of a WinINet/WinHTTP connection-settings blob (PROXY_TYPE_* in wininet.h).
const (
	flagDirect     = 0x01
	flagProxy      = 0x02 // use the manual ProxyServer
	flagAutoURL    = 0x04 // use the PAC script at AutoConfigURL
	flagAutoDetect = 0x08 // WPAD auto-detection
)

// ErrBadBlob marks a connection-settings registry value that cannot be parsed.
var ErrBadBlob = errors.New("bad proxy settings blob")

// Settings is one Windows proxy configuration: the WinHTTP default proxy or a
// user's Internet Settings.
type Settings struct {
	Manual        bool   // a manual proxy is switched on
	Server        string // ProxyServer syntax: "host:port" or "http=host:port;https=host:port"
	Bypass        string // ProxyOverride syntax: "*.contoso.com;10.*;<local>"
	AutoConfigURL string // a PAC script, when switched on
	AutoDetect    bool   // WPAD auto-detection is switched on
}

// ParseConnectionBlob reads the binary registry value shared by WinHTTP
// (HKLM\...\Internet Settings\Connections\WinHttpSettings, written by
// `netsh winhttp set proxy`) and WinINet (HKCU\...\Connections\
// DefaultConnectionSettings). Layout, little-endian: DWORD version (0x18 for
// netsh's empty setting, 0x28, 0x3C, 0x46), DWORD change counter, DWORD
// PROXY_TYPE_* flags, then length-prefixed byte strings: proxy server, bypass
// list and, when present, the PAC URL; later fields (WPAD cache) are ignored.
func ParseConnectionBlob(b []byte) (Settings, error) {
	r := blobReader{b: b}
	r.u32() // version: every known version shares the fields read here
	r.u32() // change counter
	flags := r.u32()
	server := r.str("proxy server")
	bypass := r.str("bypass list")
	var pac string
	if r.err == nil && len(r.b) > 0 {
		pac = r.str("PAC URL")
	}
	if r.err != nil {
		return Settings{}, r.err
	}
	s := Settings{
		Manual:     flags&flagProxy != 0 && server != "",
		Server:     server,
		Bypass:     bypass,
		AutoDetect: flags&flagAutoDetect != 0,
	}
	if flags&flagAutoURL != 0 {
		s.AutoConfigURL = pac
	}
	return s, nil
}

// blobReader reads little-endian fields, keeping the first error.
type blobReader struct {
	b   []byte
	off int
	err error
}

func (r *blobReader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.err = fmt.Errorf("%w: truncated at byte %d, want 4 more for a DWORD", ErrBadBlob, r.off)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b, r.off = r.b[4:], r.off+4
	return v
}

func (r *blobReader) str(field string) string {
	n := r.u32()
	if r.err != nil {
		return ""
	}
	if uint64(n) > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %s at byte %d claims %d bytes, only %d remain", ErrBadBlob, field, r.off, n, len(r.b))
		return ""
	}
	s := string(r.b[:n])
	r.b, r.off = r.b[n:], r.off+int(n)
	return strings.TrimRight(s, "\x00")
}

// Servers is a parsed ProxyServer string: one proxy for every scheme, or one
// per scheme.
type Servers struct {
	All      *url.URL            // "host:port": every scheme
	ByScheme map[string]*url.URL // "http=host:port;https=host:port"
}

// For returns the proxy for a target scheme ("http" or "https"), nil when none.
func (s Servers) For(scheme string) *url.URL {
	if u, ok := s.ByScheme[scheme]; ok {
		return u
	}
	return s.All
}

// ParseServers reads the ProxyServer syntax of WinINet and WinHTTP: entries
// separated by ';' or spaces, each "host:port" (every scheme) or
// "scheme=host:port"; a proxy may carry "http://" or "https://". SOCKS
// entries are skipped: egressprobe speaks only HTTP CONNECT.
func ParseServers(s string) (Servers, error) {
	var out Servers
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }) {
		scheme, addr, perScheme := strings.Cut(e, "=")
		if !perScheme {
			addr = e
		}
		scheme = strings.ToLower(strings.TrimSpace(scheme))
		if perScheme && scheme != "http" && scheme != "https" {
			continue // ftp=, socks=: not used for HTTP(S) targets
		}
		u, err := ParseURL(addr)
		if err != nil {
			if perScheme {
				return Servers{}, fmt.Errorf("ProxyServer entry for %s: %w", scheme, err)
			}
			return Servers{}, fmt.Errorf("ProxyServer entry: %w", err)
		}
		if !perScheme {
			out.All = u
			continue
		}
		if out.ByScheme == nil {
			out.ByScheme = map[string]*url.URL{}
		}
		out.ByScheme[scheme] = u
	}
	return out, nil
}

// concealServers shows a ProxyServer string entry by entry: a proxy URL
// redacted, anything that does not parse as one concealed (see conceal).
func concealServers(s string) string {
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' })
	for i, e := range entries {
		prefix, addr, perScheme := strings.Cut(e, "=")
		if perScheme && schemeRE.MatchString(prefix) {
			prefix += "="
		} else {
			prefix, addr = "", e // an '=' in a password is no "scheme="
		}
		if u, err := ParseURL(addr); err == nil {
			entries[i] = prefix + u.Redacted() // as used: scheme and port filled in
		} else {
			entries[i] = prefix + conceal(addr)
		}
	}
	return strings.Join(entries, ";")
}

// Bypass is a parsed ProxyOverride list.
type Bypass struct {
	Local    bool     // "<local>": names without a dot go direct
	Patterns []string // lower-case host patterns; '*' matches any run of characters
}

// ParseBypass reads the ProxyOverride syntax: entries separated by ';' (WinHTTP
// also accepts spaces and commas), "<local>" for dot-less names, '*' wildcards,
// an optional scheme and port on an entry.
func ParseBypass(s string) Bypass {
	var b Bypass
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' }) {
		e = strings.ToLower(e)
		switch e {
		case "<local>":
			b.Local = true
			continue
		case "<-loopback>":
			continue // only changes WinHTTP's implicit loopback bypass
		}
		if _, rest, ok := strings.Cut(e, "://"); ok {
			e = rest
		}
		b.Patterns = append(b.Patterns, e)
	}
	return b
}

// Match reports whether a connection to host (a name or IP, no port) and port
// skips the proxy.
func (b Bypass) Match(host, port string) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	if b.Local && !strings.ContainsAny(host, ".:") {
		return true
	}
	for _, p := range b.Patterns {
		if wildcard(p, host) || wildcard(p, host+":"+port) || wildcard(strings.Trim(p, "[]"), host) {
			return true
		}
	}
	return false
}

// wildcard matches s against pattern p where '*' stands for any run of
// characters (possibly empty) and everything else is literal.
func wildcard(p, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			i = star + 1
			mark++
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
