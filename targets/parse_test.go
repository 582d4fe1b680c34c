package targets

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in                 string
		host, scheme, path string
		port               int
	}{
		{"login.microsoftonline.com", "login.microsoftonline.com", "https", "", 443},
		{"  Login.MicrosoftOnline.COM. ", "login.microsoftonline.com", "https", "", 443},
		{"example.com:8443", "example.com", "https", "", 8443},
		{"10.0.0.1", "10.0.0.1", "https", "", 443},
		{"10.0.0.1:80", "10.0.0.1", "https", "", 80},
		{"[2001:db8::1]:8443", "2001:db8::1", "https", "", 8443},
		{"[2001:db8::1]", "2001:db8::1", "https", "", 443},
		{"2001:db8::1", "2001:db8::1", "https", "", 443},
		{"::1", "::1", "https", "", 443},
		{"https://pod01-prot1.we.backup.windowsazure.com/CommonProtectionCatalogService.svc", "pod01-prot1.we.backup.windowsazure.com", "https", "/CommonProtectionCatalogService.svc", 443},
		{"https://example.com", "example.com", "https", "/", 443},
		{"HTTPS://example.com:4443/a%20b?x=1", "example.com", "https", "/a%20b?x=1", 4443},
		{"http://www.msftncsi.com/ncsi.txt", "www.msftncsi.com", "http", "/ncsi.txt", 80},
		{"http://[::1]:8080/x", "::1", "http", "/x", 8080},
		{"under_score.example.com", "under_score.example.com", "https", "", 443},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseTarget(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if e.Host != tt.host || e.Scheme != tt.scheme || e.Path != tt.path || e.Port != tt.port ||
				e.Family != FamilyCustom || e.Source != SourceCLI {
				t.Errorf("got %+v", e)
			}
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty target"},
		{"   ", "empty target"},
		{"example.com:0", `port "0" is not a number from 1 to 65535`},
		{"example.com:65536", "1 to 65535"},
		{"example.com:https", `port "https"`},
		{"example.com:", `port ""`},
		{"2001:db8::1:443:x", "[addr]:port"},
		{"[2001:db8::1]:", `port ""`},
		{"[10.0.0.1]", "is not an IPv6 address"},
		{"[fe80::1%eth0]:443", "zone"},
		{"*.blob.core.windows.net", "wildcard and cannot be probed"},
		{"exa mple.com", "not a host, host:port or URL"},
		{"example.com/path", "a URL needs https:// or http://"},
		{"ftp://example.com/", `scheme "ftp" is not supported`},
		{"https://", "has no host"},
		{"https://user:s3cret@proxy.example/", "user information"},
		{"https://example.com:99999/", "1 to 65535"},
		{"https://example.com:/", "empty port"},
		{"https://exa_mple..com/", "empty label"},
		{"-bad.example.com", "hyphen"},
		{"bad-.example.com", "hyphen"},
		{"ex!ample.com", `character '!'`},
		{strings.Repeat("a", 64) + ".com", "longer than 63"},
		{strings.Repeat("a.", 127) + "com", "the limit is 253"},
		{"https://%zz/", "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseTarget(tt.in)
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
}

func TestAssignFamilies(t *testing.T) {
	var eps []Endpoint
	for _, s := range []string{"mysa.blob.core.windows.net", "login.windows.net:443", "example.org", "https://pod01-id1.we.backup.windowsazure.com/"} {
		e, err := ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	eps = append(eps, Endpoint{Host: "x.blob.core.windows.net", Family: "mine", ExpectedTags: []string{"Storage.WestEurope"}})
	if err := AssignFamilies(CloudPublic, eps); err != nil {
		t.Fatal(err)
	}
	want := []struct{ family, role, tags string }{
		{"*.blob.core.windows.net", RoleStorage, "Storage"},
		{"*.windows.net", RoleSignIn, "AzureActiveDirectory"},
		{FamilyCustom, RoleCustom, ""},
		{"*.windowsazure.com", RoleBackup, "AzureBackup"},
		{"mine", "", "Storage.WestEurope"},
	}
	for i, w := range want {
		e := eps[i]
		if e.Family != w.family || e.Role != w.role || strings.Join(e.ExpectedTags, ",") != w.tags {
			t.Errorf("%s: family %q role %q tags %v, want %+v", e.Host, e.Family, e.Role, e.ExpectedTags, w)
		}
	}
	if err := AssignFamilies("mars", eps); err == nil {
		t.Error("unknown cloud: no error")
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:443", "[::1]:443", "::1", "https://a.example:8443/p?q",
		"http://www.msftncsi.com/ncsi.txt", "*.x.com", "a..b", "https://u:p@h/", "[fe80::1%eth0]:1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseTarget(s)
		if err != nil {
			if e.Host != "" {
				t.Fatalf("error %v but host %q", err, e.Host)
			}
			return
		}
		if e.Port < 1 || e.Port > 65535 || e.Host == "" || (e.Scheme != SchemeHTTPS && e.Scheme != SchemeHTTP) {
			t.Fatalf("%q: invalid endpoint %+v", s, e)
		}
		// The canonical host must parse to itself.
		if h, err := ParseHost(e.Host); err != nil || h != e.Host {
			t.Fatalf("%q: host %q re-parses as %q, %v", s, e.Host, h, err)
		}
		// What URL() prints must parse back to the same endpoint.
		e2, err := ParseTarget(e.URL())
		if err != nil || e2.Host != e.Host || e2.Port != e.Port || e2.Scheme != e.Scheme {
			t.Fatalf("%q: URL %q re-parses as %+v, %v", s, e.URL(), e2, err)
		}
	})
}

// TestAsCatalog: hosts the catalog knows, named bare, are probed as the
// catalog probes them; a scheme, port or path the user wrote wins.
func TestAsCatalog(t *testing.T) {
	var eps []Endpoint
	for _, s := range []string{"www.msftconnecttest.com", "www.msftncsi.com", "dns.msftncsi.com", "login.microsoftonline.com",
		"https://www.msftncsi.com", "www.msftncsi.com:443", "pod01-prot1.we.backup.windowsazure.com", "x.example"} {
		e, err := ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	y, err := ParseFile("t.yaml", []byte("- host: www.msftncsi.com\n  scheme: https\n- host: login.microsoftonline.com\n  expect_tags: [AzureCloud]\n"))
	if err != nil {
		t.Fatal(err)
	}
	eps = append(eps, y...)
	if err := AsCatalog(CloudPublic, "westeurope", eps); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		url, body, role string
		tags            []string
		catalogued      bool
	}{
		{"http://www.msftconnecttest.com/connecttest.txt", "Microsoft Connect Test", RoleNCSI, []string{}, true},
		{"http://www.msftncsi.com/ncsi.txt", "Microsoft NCSI", RoleNCSI, []string{}, true},
		{"dns:dns.msftncsi.com", "", RoleNCSI + "-dns", []string{}, true},
		{"https://login.microsoftonline.com/", "", RoleSignIn, []string{TagAAD}, true},
		{"https://www.msftncsi.com/", "", RoleCustom, []string{}, false},
		{"https://www.msftncsi.com", "", RoleCustom, []string{}, false},
		{"https://pod01-prot1.we.backup.windowsazure.com", "", RoleBackup, []string{"AzureBackup.WestEurope"}, true},
		{"https://x.example", "", RoleCustom, []string{}, false},
		{"https://www.msftncsi.com", "", RoleCustom, []string{}, false},
		{"https://login.microsoftonline.com", "", RoleSignIn, []string{"AzureCloud"}, true},
	}
	for i, w := range want {
		e := eps[i]
		if strings.TrimSuffix(e.URL(), "/") != strings.TrimSuffix(w.url, "/") || e.ExpectBody != w.body || e.Role != w.role ||
			!slices.Equal(e.ExpectedTags, w.tags) || e.Catalogued != w.catalogued || e.FromCatalog() != w.catalogued {
			t.Errorf("%d: got %s body %q role %q tags %v catalogued %v; want %+v", i, e.URL(), e.ExpectBody, e.Role, e.ExpectedTags, e.Catalogued, w)
		}
	}
	if e := eps[2]; len(e.ExpectAddrs) == 0 || e.Source != SourceCLI {
		t.Errorf("dns.msftncsi.com: expected addresses %v, source %q; want the catalog's addresses and the user's source", e.ExpectAddrs, e.Source)
	}
}
