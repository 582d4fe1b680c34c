package plan

import (
	"errors"
	"strings"
	"testing"

	"egressprobe/probe"
	"egressprobe/proxy"
	"egressprobe/report"
)

// TestBuildTrustPath: --trust-path's modes (check by default, off leaves the
// plan without one, a bad mode names the flag); Windows' budgets from the
// registry's values; and which proxy CryptoAPI would use when WinHTTP's is
// not this run's route.
func TestBuildTrustPath(t *testing.T) {
	winhttp := func(s *proxy.Settings) func() (proxy.System, error) {
		return func() (proxy.System, error) { return proxy.System{WinHTTP: s}, nil }
	}
	for _, tc := range []struct {
		name, mode, proxy string
		system            func() (proxy.System, error)
		registry          []probe.ChainEngineValue
		registryErr       error
		wantMode          string
		urlMS, revMS      int64
		winhttp, note     string
	}{
		{name: "default", wantMode: report.TrustPathCheck, urlMS: 15000, revMS: 20000},
		{name: "off", mode: report.TrustPathOff},
		{name: "required, registry", mode: report.TrustPathRequired, wantMode: report.TrustPathRequired,
			registry: []probe.ChainEngineValue{{Key: `HKLM\` + probe.ChainEngineKey, Name: probe.ChainURLTimeoutValue, MS: 5000}}, urlMS: 5000, revMS: 20000},
		{name: "registry unreadable", wantMode: report.TrustPathCheck, registryErr: errors.New("access denied"), urlMS: 15000, revMS: 20000,
			note: "could not be read (access denied)"},
		{name: "WinHTTP proxy, run direct", system: winhttp(&proxy.Settings{Manual: true, Server: "wpx.contoso.local:8080"}), wantMode: report.TrustPathCheck,
			urlMS: 15000, revMS: 20000, winhttp: "wpx.contoso.local:8080", note: "through WinHTTP's proxy wpx.contoso.local:8080"},
		{name: "no WinHTTP proxy, run through one", proxy: "http://corp:3128", system: winhttp(&proxy.Settings{}), wantMode: report.TrustPathCheck,
			urlMS: 15000, revMS: 20000, note: "CryptoAPI fetches these URLs directly, not through http://corp:3128"},
	} {
		env := testEnv(nil)
		env.SystemProxy = tc.system
		env.ChainEngine = func() ([]probe.ChainEngineValue, error) { return tc.registry, tc.registryErr }
		p := mustBuild(t, opts(func(o *Options) {
			o.Targets, o.TrustPath = []string{"login.microsoftonline.com"}, tc.mode
			if tc.proxy != "" {
				o.Proxy = tc.proxy
			}
		}), env)
		s := p.TrustPath
		if tc.wantMode == "" {
			if s != nil || p.RunOptions(nil).TrustPath != nil {
				t.Errorf("%s: settings %+v with the trust path off", tc.name, s)
			}
			continue
		}
		if s == nil || s.Mode != tc.wantMode || s.URLTimeoutMS != tc.urlMS || s.RevocationTimeoutMS != tc.revMS || s.WinHTTPProxy != tc.winhttp ||
			!strings.Contains(s.Note, tc.note) || (tc.note == "") != (s.Note == "") {
			t.Errorf("%s: settings %+v", tc.name, s)
		}
		if o := p.RunOptions(nil).TrustPath; o == nil || o.Timeout != p.TrustBudget || o.Resolver != p.Resolvers[0] {
			t.Errorf("%s: run options %+v", tc.name, o)
		}
	}
	var ie *InputError
	if _, err := Build(opts(func(o *Options) { o.Targets, o.TrustPath = []string{"x.example"}, "always" }), testEnv(nil)); !errors.As(err, &ie) || !strings.Contains(err.Error(), "--trust-path") {
		t.Errorf("--trust-path always: %v", err)
	}
}
