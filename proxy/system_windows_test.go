package proxy

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"

	"egressprobe/internal/testenv"
)

// These tests write the registry values Windows keeps proxy settings in and
// read them back through ReadSystem and FromFlag("auto"), as `check` does:
// under Wine (.ci/wine) the registry is a throw-away copy; on a real machine
// testenv restores every value afterwards.

// noSystemProxy removes every value ReadSystem reads, so that a test sees only
// what it sets itself.
func noSystemProxy(t *testing.T) {
	t.Helper()
	for _, root := range []registry.Key{registry.CURRENT_USER, registry.LOCAL_MACHINE} {
		for _, v := range []string{"DefaultConnectionSettings", "WinHttpSettings"} {
			testenv.DeleteRegistryValue(t, root, connectionsKey, v)
		}
		for _, v := range []string{"ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL"} {
			testenv.DeleteRegistryValue(t, root, inetSettingsKey, v)
		}
	}
	testenv.DeleteRegistryValue(t, registry.LOCAL_MACHINE, policyKey, "ProxySettingsPerUser")
}

// netshBlob is the WinHttpSettings value `netsh winhttp set proxy SERVER
// BYPASS` writes: version 0x28, change counter, flags DIRECT|PROXY, then the
// proxy and the bypass list, length-prefixed.
func netshBlob(server, bypass string) []byte { return blob(0x28, flagDirect|flagProxy, server, bypass) }

// autoRoutes resolves each target through FromFlag("auto") with the real
// registry and the given environment, returning "route (source; detail)".
func autoRoutes(t *testing.T, environ map[string]string, targets ...string) []Route {
	t.Helper()
	sel, err := FromFlag("auto", Lookup{Getenv: env(environ), System: ReadSystem})
	if err != nil {
		t.Fatal(err)
	}
	var out []Route
	for _, target := range targets {
		r, err := sel.Resolve(mustURL(t, target))
		if err != nil {
			t.Fatalf("Resolve(%s): %v", target, err)
		}
		out = append(out, r)
	}
	return out
}

func wantRoute(t *testing.T, target string, r Route, proxy string, src Source, detail string) {
	t.Helper()
	if r.Redacted() != proxy || r.Source != src || !strings.Contains(r.Detail, detail) {
		t.Errorf("%s: route %s (source %s, detail %q); want %s from %s, detail containing %q", target, r.Redacted(), r.Source, r.Detail, proxy, src, detail)
	}
}

// TestRegistryInternetSettingsValues: the plain Internet Settings values
// (ProxyEnable, ProxyServer with per-protocol entries, ProxyOverride with
// <local>) as the Internet Options dialog writes them.
func TestRegistryInternetSettingsValues(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyEnable", uint32(1))
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyServer", "http=127.0.0.1:3128;https=127.0.0.1:3129;ftp=127.0.0.1:21")
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyOverride", "*.contoso.com;<local>")

	sys, err := ReadSystem()
	if err != nil {
		t.Fatalf("ReadSystem: %v", err)
	}
	want := Settings{Manual: true, Server: "http=127.0.0.1:3128;https=127.0.0.1:3129;ftp=127.0.0.1:21", Bypass: "*.contoso.com;<local>"}
	if sys.WinHTTP != nil || sys.IE == nil || *sys.IE != want {
		t.Fatalf("ReadSystem = WinHTTP %+v, IE %+v; want no WinHTTP, IE %+v", sys.WinHTTP, sys.IE, want)
	}
	targets := []string{"https://login.microsoftonline.com", "http://www.msftconnecttest.com/connecttest.txt", "https://intranet", "https://vault.contoso.com"}
	r := autoRoutes(t, nil, targets...)
	wantRoute(t, targets[0], r[0], "http://127.0.0.1:3129", SourceIE, "127.0.0.1:3129")
	wantRoute(t, targets[1], r[1], "http://127.0.0.1:3128", SourceIE, "127.0.0.1:3128")
	wantRoute(t, targets[2], r[2], "direct", SourceIE, "the bypass list matches intranet")
	wantRoute(t, targets[3], r[3], "direct", SourceIE, "the bypass list matches vault.contoso.com")

	// Switched off: the server stays in the registry but is not used.
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyEnable", uint32(0))
	r = autoRoutes(t, nil, targets[0])
	wantRoute(t, targets[0], r[0], "direct", SourceNone, "Internet Settings: no manual proxy")
}

// TestRegistryInternetSettingsBlob: DefaultConnectionSettings, the binary
// value Windows reads first, with a manual proxy, a PAC script and WPAD
// switched on: the proxy is used and both automatic settings are reported.
func TestRegistryInternetSettingsBlob(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.CURRENT_USER, connectionsKey, "DefaultConnectionSettings",
		append(blob(0x46, flagDirect|flagProxy|flagAutoURL|flagAutoDetect, "127.0.0.1:3128", "<local>", "http://wpad.contoso.com/proxy.pac"), make([]byte, 32)...))
	// The plain values disagree; the blob wins, as in WinINet.
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyEnable", uint32(1))
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyServer", "127.0.0.1:9")

	r := autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "http://127.0.0.1:3128", SourceIE, "PAC script http://wpad.contoso.com/proxy.pac found but not evaluated")
	wantRoute(t, "login", r[0], "http://127.0.0.1:3128", SourceIE, "auto-detect (WPAD) on but not evaluated")

	// PAC and WPAD alone: direct, and the detail says what was not evaluated.
	testenv.SetRegistryValue(t, registry.CURRENT_USER, connectionsKey, "DefaultConnectionSettings",
		blob(0x46, flagDirect|flagAutoURL|flagAutoDetect, "", "", "http://wpad.contoso.com/proxy.pac"))
	r = autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "direct", SourceNone, "Internet Settings: no manual proxy, PAC script http://wpad.contoso.com/proxy.pac found")
	wantRoute(t, "login", r[0], "direct", SourceNone, "auto-detect (WPAD) on")
}

// TestRegistryAutoConfigURLValue: a PAC script given only as the plain
// AutoConfigURL value (no binary setting) is reported.
func TestRegistryAutoConfigURLValue(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "AutoConfigURL", "http://pac.contoso.com/p.pac")
	r := autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "direct", SourceNone, "PAC script http://pac.contoso.com/p.pac found but not evaluated")
}

// TestRegistryWinHTTP: the WinHTTP default proxy as `netsh winhttp set proxy`
// writes it goes before the user's Internet Settings; after `netsh winhttp
// reset proxy` (version 0x18, DIRECT) the Internet Settings apply.
func TestRegistryWinHTTP(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, connectionsKey, "WinHttpSettings", netshBlob("127.0.0.1:3128", "<local>;*.corp"))
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyEnable", uint32(1))
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyServer", "127.0.0.1:9999")

	sys, err := ReadSystem()
	if err != nil {
		t.Fatalf("ReadSystem: %v", err)
	}
	if want := (Settings{Manual: true, Server: "127.0.0.1:3128", Bypass: "<local>;*.corp"}); sys.WinHTTP == nil || *sys.WinHTTP != want {
		t.Fatalf("WinHTTP = %+v, want %+v", sys.WinHTTP, want)
	}
	r := autoRoutes(t, nil, "https://login.microsoftonline.com", "https://backup.corp")
	wantRoute(t, "login", r[0], "http://127.0.0.1:3128", SourceWinHTTP, "127.0.0.1:3128")
	wantRoute(t, "backup.corp", r[1], "direct", SourceWinHTTP, "the bypass list matches backup.corp")

	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, connectionsKey, "WinHttpSettings", blob(0x18, flagDirect, "", ""))
	r = autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "http://127.0.0.1:9999", SourceIE, "127.0.0.1:9999")
}

// TestRegistryPerMachinePolicy: with the ProxySettingsPerUser=0 policy the
// machine's Internet Settings (HKLM) apply and the user's are ignored; with 1
// the user's apply again.
func TestRegistryPerMachinePolicy(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, inetSettingsKey, "ProxyEnable", uint32(1))
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, inetSettingsKey, "ProxyServer", "127.0.0.1:3130")
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyEnable", uint32(1))
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyServer", "127.0.0.1:9999")

	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, policyKey, "ProxySettingsPerUser", uint32(0))
	r := autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "http://127.0.0.1:3130", SourceIE, "127.0.0.1:3130")

	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, policyKey, "ProxySettingsPerUser", uint32(1))
	r = autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "http://127.0.0.1:9999", SourceIE, "127.0.0.1:9999")
}

// TestRegistryEnvironmentFirst: as the README states, a proxy variable wins
// over every registry setting, NO_PROXY included; the registry is used only
// when no variable is set.
func TestRegistryEnvironmentFirst(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, connectionsKey, "WinHttpSettings", netshBlob("127.0.0.1:3128", ""))
	environ := map[string]string{"HTTPS_PROXY": "http://127.0.0.1:8080", "NO_PROXY": ".contoso.com"}
	r := autoRoutes(t, environ, "https://login.microsoftonline.com", "https://vault.contoso.com", "http://www.msftconnecttest.com/connecttest.txt")
	wantRoute(t, "login", r[0], "http://127.0.0.1:8080", SourceEnv, "HTTPS_PROXY")
	wantRoute(t, "vault.contoso.com", r[1], "direct", SourceEnv, "NO_PROXY=.contoso.com bypasses HTTPS_PROXY")
	// Only HTTPS_PROXY is set: plain HTTP goes direct, not to WinHTTP's proxy.
	wantRoute(t, "ncsi", r[2], "direct", SourceEnv, "HTTP_PROXY is not set")
}

// TestRegistryDamagedSetting: an unreadable WinHTTP value is an error naming
// it, and the Internet Settings are still read and used.
func TestRegistryDamagedSetting(t *testing.T) {
	noSystemProxy(t)
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, connectionsKey, "WinHttpSettings", []byte{0x28, 0, 0, 0, 1})
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyEnable", uint32(1))
	testenv.SetRegistryValue(t, registry.CURRENT_USER, inetSettingsKey, "ProxyServer", "127.0.0.1:3128")
	sys, err := ReadSystem()
	if !errors.Is(err, ErrBadBlob) || !strings.Contains(err.Error(), `HKLM\`+connectionsKey+`\WinHttpSettings`) {
		t.Errorf("ReadSystem error = %v; want ErrBadBlob naming HKLM\\...\\WinHttpSettings", err)
	}
	if sys.WinHTTP != nil || sys.IE == nil || sys.IE.Server != "127.0.0.1:3128" {
		t.Errorf("ReadSystem = WinHTTP %+v, IE %+v; want the Internet Settings read despite the damaged WinHTTP value", sys.WinHTTP, sys.IE)
	}
	r := autoRoutes(t, nil, "https://login.microsoftonline.com")
	wantRoute(t, "login", r[0], "http://127.0.0.1:3128", SourceIE, "127.0.0.1:3128")
}
