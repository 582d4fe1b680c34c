package proxy

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"egressprobe/internal/quote"
)

// System is the Windows proxy configuration: the WinHTTP default proxy, which
// services such as the MARS agent use, and the current user's Internet
// Settings. Both nil on other systems.
type System struct {
	WinHTTP *Settings
	IE      *Settings
}

// Lookup is where "auto" looks.
type Lookup struct {
	// Getenv reads the environment (cmd passes os.Getenv); nil reads nothing.
	Getenv func(string) string
	// System reads the OS proxy settings (cmd passes ReadSystem); nil reads none.
	System func() (System, error)
}

// Selector answers, per target, which Route a connection takes. It is built
// once from the --proxy flag and is safe for concurrent use.
type Selector struct {
	fixed  *Route // --proxy none or --proxy URL
	env    envProxy
	system System
	// sysErr is a failure to read the OS settings: reported in the Detail of
	// the routes it could have changed.
	sysErr error
}

// envProxy is the proxy environment, read once.
type envProxy struct {
	httpName, httpsName string // the variable that was set, e.g. "https_proxy"
	noProxyName         string
	cfg                 httpproxy.Config
	proxyFor            func(*url.URL) (*url.URL, error)
}

func (e envProxy) set() bool { return e.cfg.HTTPProxy != "" || e.cfg.HTTPSProxy != "" }

// FromFlag builds a Selector from the --proxy value: "none" (always direct),
// "auto" (the environment, as Go's httpproxy reads it; when no proxy variable
// is set, on Windows the WinHTTP then the per-user proxy), or a proxy URL used
// for every target ("proxy:3128" means http://proxy:3128). A bad value is an
// error naming it, redacted, and the fix.
func FromFlag(s string, lk Lookup) (*Selector, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "direct":
		return &Selector{fixed: &Route{Source: SourceNone, Detail: "--proxy none"}}, nil
	case "auto", "":
		return fromAuto(lk), nil
	}
	u, err := ParseURL(s)
	if err != nil {
		return nil, fmt.Errorf("--proxy: %w (or use auto or none)", err)
	}
	return &Selector{fixed: &Route{Proxy: u, Source: SourceFlag, Detail: "--proxy"}}, nil
}

func fromAuto(lk Lookup) *Selector {
	getenv := lk.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	// First non-empty, upper case first, as httpproxy.FromEnvironment reads them.
	// Trimmed, so that httpproxy (which rejects " proxy:3128") decides
	// bypasses on the value ParseURL accepts.
	first := func(names ...string) (string, string) {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return n, v
			}
		}
		return names[0], ""
	}
	var e envProxy
	e.httpName, e.cfg.HTTPProxy = first("HTTP_PROXY", "http_proxy")
	e.httpsName, e.cfg.HTTPSProxy = first("HTTPS_PROXY", "https_proxy")
	e.noProxyName, e.cfg.NoProxy = first("NO_PROXY", "no_proxy")
	e.proxyFor = e.cfg.ProxyFunc()
	sel := &Selector{env: e}
	if !e.set() && lk.System != nil {
		sel.system, sel.sysErr = lk.System()
	}
	return sel
}

// Resolve returns the route for a connection to target, an http:// or
// https:// URL (the scheme picks HTTP_PROXY or HTTPS_PROXY; NCSI probes are
// http). The error, for a proxy setting that cannot be used, names its source.
func (s *Selector) Resolve(target *url.URL) (Route, error) {
	if s.fixed != nil {
		return *s.fixed, nil
	}
	if s.env.set() {
		return s.env.resolve(target)
	}
	for _, c := range []struct {
		set *Settings
		src Source
	}{{s.system.WinHTTP, SourceWinHTTP}, {s.system.IE, SourceIE}} {
		if c.set == nil {
			continue
		}
		if r, ok, err := c.set.route(target, c.src); ok || err != nil {
			return r, err
		}
	}
	return Route{Source: SourceNone, Detail: s.nothingFound()}, nil
}

// nothingFound explains a direct route in auto mode: what was looked at, and
// any PAC or auto-detection found but not evaluated.
func (s *Selector) nothingFound() string {
	parts := []string{"no proxy variable set"}
	if s.sysErr != nil {
		parts = append(parts, Redact(s.sysErr.Error()))
	}
	for _, c := range []struct {
		set  *Settings
		name string
	}{{s.system.WinHTTP, "WinHTTP"}, {s.system.IE, "Internet Settings"}} {
		if c.set == nil {
			continue
		}
		parts = append(parts, c.name+": "+c.set.Describe())
	}
	return strings.Join(parts, "; ")
}

// resolve lets httpproxy decide whether the variable applies to target (its
// NO_PROXY rules), but parses the variable's own value with ParseURL: the URL
// httpproxy makes of a malformed value (it retries with "http://" in front)
// is garbled, and its error quotes the value, password included.
func (e envProxy) resolve(target *url.URL) (Route, error) {
	name, raw := e.httpName, e.cfg.HTTPProxy
	if target.Scheme == "https" {
		name, raw = e.httpsName, e.cfg.HTTPSProxy
	}
	u, err := e.proxyFor(target)
	if err == nil && u == nil {
		return Route{Source: SourceEnv, Detail: e.bypassReason(target, name)}, nil
	}
	v, perr := ParseURL(raw)
	if perr != nil {
		return Route{}, fmt.Errorf("%s: %w", name, perr)
	}
	if err != nil {
		return Route{}, fmt.Errorf("%s: proxy %s: Go's proxy parser refuses it (%s): %w", name, quote.Q(conceal(raw)), proxyURLFix, ErrBadProxyURL)
	}
	return Route{Proxy: v, Source: SourceEnv, Detail: name}, nil
}

func (e envProxy) bypassReason(target *url.URL, name string) string {
	if target.Scheme == "https" && e.cfg.HTTPSProxy == "" || target.Scheme != "https" && e.cfg.HTTPProxy == "" {
		return name + " is not set"
	}
	host := target.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return "loopback targets never use " + name
	}
	return fmt.Sprintf("%s=%s bypasses %s", e.noProxyName, concealEntries(e.cfg.NoProxy), name)
}

// concealEntries shows a comma-separated list (NO_PROXY) with every entry
// holding an '@' — a credential pasted by mistake — concealed.
func concealEntries(list string) string {
	entries := strings.Split(list, ",")
	for i, e := range entries {
		if strings.Contains(e, "@") {
			entries[i] = conceal(strings.TrimSpace(e))
		}
	}
	return strings.Join(entries, ",")
}

// route applies one Windows setting to target; ok is false when the setting
// leaves the decision to the next source (no manual proxy switched on).
func (st *Settings) route(target *url.URL, src Source) (r Route, ok bool, err error) {
	if !st.Manual {
		return Route{}, false, nil
	}
	servers, err := ParseServers(st.Server)
	if err != nil {
		return Route{}, false, fmt.Errorf("%s proxy setting: %w", src, err)
	}
	detail := st.Describe()
	p := servers.For(target.Scheme)
	if p == nil {
		return Route{Source: src, Detail: detail + "; no entry for " + target.Scheme}, true, nil
	}
	if ParseBypass(st.Bypass).Match(target.Hostname(), PortOf(target)) {
		return Route{Source: src, Detail: detail + "; the bypass list matches " + target.Hostname()}, true, nil
	}
	return Route{Proxy: p, Source: src, Detail: detail}, true, nil
}

// Route is the route a connection to target takes under this setting alone,
// as WinHTTP (and so CryptoAPI) takes it: the manual proxy for target's
// scheme unless the bypass list matches; direct when no manual proxy is on.
func (st *Settings) Route(target *url.URL, src Source) (Route, error) {
	r, ok, err := st.route(target, src)
	if err != nil || ok {
		return r, err
	}
	return Route{Source: src, Detail: st.Describe()}, nil
}

// Describe summarises a setting for a Route's Detail and for people, redacted.
func (st *Settings) Describe() string {
	var parts []string
	if st.Manual {
		parts = append(parts, "proxy "+concealServers(st.Server))
		if st.Bypass != "" {
			parts = append(parts, "bypass "+st.Bypass)
		}
	} else {
		parts = append(parts, "no manual proxy")
	}
	if st.AutoConfigURL != "" {
		parts = append(parts, "PAC script "+st.AutoConfigURL+" found but not evaluated (egressprobe cannot run PAC JavaScript; pass --proxy with the proxy it returns)")
	}
	if st.AutoDetect {
		parts = append(parts, "auto-detect (WPAD) on but not evaluated")
	}
	return Redact(strings.Join(parts, ", "))
}
