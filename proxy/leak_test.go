package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// leakSecret is the password planted in every proxy string below.
const leakSecret = "Pl4ntedS3cret"

// proxyOutputs is every string the package hands out for a proxy string raw
// given as --proxy, as each proxy variable (NO_PROXY set to noProxy) and as a
// Windows ProxyServer value: errors, routes (String, GoString, Redacted) and
// details.
func proxyOutputs(raw, noProxy string) []string {
	var out []string
	add := func(r Route, err error) {
		if err != nil {
			out = append(out, err.Error())
			return
		}
		out = append(out, r.String(), r.GoString(), r.Redacted(), r.Detail)
	}
	targets := []*url.URL{
		{Scheme: "https", Host: "login.microsoftonline.com"},
		{Scheme: "http", Host: "www.msftconnecttest.com", Path: "/connecttest.txt"},
	}
	if sel, err := FromFlag(raw, Lookup{}); err != nil {
		out = append(out, err.Error())
	} else {
		add(sel.Resolve(targets[0]))
	}
	for _, names := range [][2]string{{"HTTPS_PROXY", "HTTP_PROXY"}, {"https_proxy", "http_proxy"}} {
		sel := fromAuto(Lookup{Getenv: env(map[string]string{names[0]: raw, names[1]: raw, "NO_PROXY": noProxy})})
		for _, t := range targets {
			add(sel.Resolve(t))
		}
	}
	if strings.ContainsAny(raw, "; \t") {
		// In a ProxyServer value these separate entries: the part after one
		// is a proxy of its own, whose user name is no secret.
		return out
	}
	for _, server := range []string{raw, "https=" + raw, "http=" + raw + ";https=proxy:1"} {
		st := &Settings{Manual: true, Server: server, Bypass: noProxy}
		for _, t := range targets {
			r, _, err := st.route(t, SourceWinHTTP)
			add(r, err)
		}
		if _, err := ParseServers(server); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// FuzzProxyPasswordHidden: whatever surrounds a password in a proxy string —
// unencoded '/', '#', '?', '@', ':', spaces, another scheme, no host — no
// error, route or detail made from it shows the password.
func FuzzProxyPasswordHidden(f *testing.F) {
	for _, s := range [][5]string{
		{"http://", "bob", "My", "/x", "127.0.0.1:3128"},         // issue 11: invalid port ":MyS3cret..."
		{"http://", "bob", "My", "#x", "127.0.0.1:3128"},         // issue 11: HTTPS_PROXY garbled
		{"http://", "bob", "", "?q", "proxy:3128"},               // a query inside the password
		{"", "bob", "a", "/b", "proxy:3128"},                     // no scheme
		{"https://", "dom/bob", "", "", "proxy:3128"},            // a '/' in the user name
		{"http://", "bob", "p@", "", "proxy:3128"},               // a raw '@'
		{"http://", "bob", "", ":x", "[::1"},                     // a broken host
		{"http://", "bob", "1234/", "", "proxy:3128"},            // a numeric password before a '/'
		{"socks5://", "bob", "", "", "proxy:1080"},               // unsupported scheme
		{"http://", "bob", "x y", "", "proxy:3128"},              // a space
		{"http://", "bob", "", "%zz", "proxy:3128"},              // a bad escape
		{"", "", "", "", ""},                                     // nothing around it
		{"ht:tp://", "u", "", "", "h:1"},                         // not a scheme
		{"http://", "bob", "", "", "pro xy:3128"},                // a space in the host
		{"http://", "u", "", "", "proxy:3128/wpad.dat"},          // a path after the host
		{"http://", "u", "", "", "proxy:3128,http://other:3128"}, // two proxies in one
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, scheme, user, before, after, host string) {
		raw := scheme + user + ":" + before + leakSecret + after + "@" + host
		if strings.Count(strings.ToLower(raw), strings.ToLower(leakSecret)) != 1 {
			return // the secret must be the password's alone
		}
		for _, s := range proxyOutputs(raw, host) {
			if strings.Contains(strings.ToLower(s), strings.ToLower(leakSecret)) {
				t.Fatalf("proxy string %q: the password is shown in %q", raw, s)
			}
		}
	})
}
