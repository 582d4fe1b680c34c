package targets

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"egressprobe/internal/quote"
)

// ParseHost validates a host name or IP literal and returns it in canonical
// form: lower case, no trailing dot, IPv6 without brackets or zone.
func ParseHost(s string) (string, error) {
	h := strings.TrimSpace(s)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is6() {
			return "", fmt.Errorf("%s is not an IPv6 address", quote.Q(s))
		}
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", fmt.Errorf("%s: an IPv6 zone (%%%s) is not supported; give the address without it", quote.Q(s), a.Zone())
		}
		return a.String(), nil
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	switch {
	case h == "":
		return "", errors.New("empty host name")
	case strings.HasPrefix(h, "*."):
		return "", fmt.Errorf("%s is a wildcard and cannot be probed itself: name a host under it (for example %s)", quote.Q(s), "x"+h[1:])
	case len(h) > 253:
		return "", fmt.Errorf("host name %s is %d characters long; the limit is 253", quote.Q(h), len(h))
	}
	for _, label := range strings.Split(h, ".") {
		if err := checkLabel(label); err != nil {
			return "", fmt.Errorf("host name %s: %w", quote.Q(s), err)
		}
	}
	return h, nil
}

func checkLabel(l string) error {
	if l == "" {
		return errors.New("empty label (two dots in a row?)")
	}
	if len(l) > 63 {
		return fmt.Errorf("label %s is longer than 63 characters", quote.Q(l))
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return fmt.Errorf("label %s starts or ends with a hyphen", quote.Q(l))
	}
	for _, r := range l {
		// Underscore is not valid in host names but appears in real DNS names
		// (_acme-challenge); accepting it costs nothing.
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("label %s has the character %q; use letters, digits and hyphens (IDNs in their xn-- form)", quote.Q(l), r)
		}
	}
	return nil
}

// ParseTarget parses one target in the command-line syntax:
//
//	host                     https on 443
//	host:port                https on port
//	[v6]:port, [v6], v6      an IPv6 literal
//	https://host[:port]/path an HTTPS GET of path after the TLS handshake
//	http://host[:port]/path  a plain-HTTP GET of path (port 80 by default)
//
// The endpoint's Family is FamilyCustom and its Source SourceCLI; AssignFamilies
// attributes it to a catalog family.
func ParseTarget(s string) (Endpoint, error) {
	s = strings.TrimSpace(s)
	e := Endpoint{Scheme: SchemeHTTPS, Port: 443, Family: FamilyCustom, Role: RoleCustom,
		ExpectedTags: []string{}, Source: SourceCLI}
	if s == "" {
		return e, errors.New("empty target")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		e.shaped = true
		return parseURLTarget(s, e)
	}
	if strings.ContainsAny(s, "/?#@ \t") {
		return e, fmt.Errorf("target %s: not a host, host:port or URL (a URL needs https:// or http://)", quote.Q(s))
	}
	host := s
	if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
		host = s // a bare IPv6 literal: its colons are not a port
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s
	} else if strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return e, fmt.Errorf("target %s: %w (write IPv6 with a port as [addr]:port)", quote.Q(s), unwrapAddrErr(err))
		}
		port, err := parsePort(p)
		if err != nil {
			return e, fmt.Errorf("target %s: %w", quote.Q(s), err)
		}
		host, e.Port, e.shaped = h, port, true
	}
	h, err := ParseHost(host)
	if err != nil {
		return e, fmt.Errorf("target %s: %w", quote.Q(s), err)
	}
	e.Host = h
	return e, nil
}

func parseURLTarget(s string, e Endpoint) (Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil {
		return e, fmt.Errorf("target %s: %w", quote.Q(s), unwrapURLErr(err))
	}
	switch strings.ToLower(u.Scheme) {
	case SchemeHTTPS:
		e.Scheme, e.Port = SchemeHTTPS, 443
	case SchemeHTTP:
		e.Scheme, e.Port = SchemeHTTP, 80
	default:
		return e, fmt.Errorf("target %s: scheme %s is not supported; use https:// or http://", quote.Q(s), quote.Q(u.Scheme))
	}
	if u.User != nil {
		// Redacted: a password typed here by mistake must not reach the output.
		return e, fmt.Errorf("target %s: user information in a target URL is not supported (proxy credentials go in --proxy)", quote.Q(u.Redacted()))
	}
	if u.Opaque != "" || u.Host == "" {
		return e, fmt.Errorf("target %s: the URL has no host", quote.Q(s))
	}
	if p := u.Port(); p != "" {
		port, err := parsePort(p)
		if err != nil {
			return e, fmt.Errorf("target %s: %w", quote.Q(s), err)
		}
		e.Port = port
	} else if strings.HasSuffix(u.Host, ":") {
		return e, fmt.Errorf("target %s: empty port after ':'", quote.Q(s))
	}
	h, err := ParseHost(u.Hostname())
	if err != nil {
		return e, fmt.Errorf("target %s: %w", quote.Q(s), err)
	}
	e.Host = h
	e.Path = u.EscapedPath()
	if u.RawQuery != "" {
		e.Path += "?" + u.RawQuery
	}
	if e.Path == "" {
		e.Path = "/"
	}
	return e, nil
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %s is not a number from 1 to 65535", quote.Q(p))
	}
	return n, nil
}

// unwrapAddrErr drops net.AddrError's repetition of the input, which the
// caller already quotes.
func unwrapAddrErr(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

func unwrapURLErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// AsCatalog makes the user's targets that the catalog of cloud knows (the
// NCSI probes: plain HTTP on 80 with their expected body; dns.msftncsi.com
// and its expected address; the sign-in hosts; with region, its Backup pods)
// probed as the catalog probes them, with its role and expected tags (tags
// the user gave win). A target the user shaped (https://, :443, a YAML scheme,
// port or path) is probed as written.
func AsCatalog(cloud, region string, eps []Endpoint) error {
	known, err := Catalog(cloud, Options{Region: region})
	if err != nil {
		return err
	}
	byHost := make(map[string]Endpoint, len(known))
	for _, k := range known {
		if _, dup := byHost[k.Host]; !dup {
			byHost[k.Host] = k
		}
	}
	for i := range eps {
		e := &eps[i]
		k, ok := byHost[e.Host]
		if !ok || e.shaped {
			continue
		}
		user := *e
		*e = k
		e.Source, e.Timeout, e.Catalogued = user.Source, user.Timeout, true
		if len(user.ExpectedTags) > 0 {
			e.ExpectedTags = user.ExpectedTags
		}
	}
	return nil
}

// AssignFamilies attributes user targets (Family FamilyCustom, no expected
// tags) to the most specific family of cloud they fall under, which gives them
// that family's expected tags. Other endpoints are left as they are.
func AssignFamilies(cloud string, eps []Endpoint) error {
	c, err := lookupCloud(cloud)
	if err != nil {
		return err
	}
	for i := range eps {
		e := &eps[i]
		if e.Family != FamilyCustom {
			continue
		}
		f, ok := c.familyOf(e.Host)
		if !ok {
			continue
		}
		e.Family, e.Cloud, e.Role = f.Pattern, c.name, roleOf(f)
		if len(e.ExpectedTags) == 0 {
			e.ExpectedTags = append([]string{}, f.Tags...)
		}
	}
	return nil
}
