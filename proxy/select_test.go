package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestFromFlagFixed(t *testing.T) {
	tests := []struct {
		flag, want string
		src        Source
	}{
		{"none", "direct", SourceNone},
		{"NONE", "direct", SourceNone},
		{"http://u:s3cret@proxy:3128", "http://u:xxxxx@proxy:3128", SourceFlag},
		{"proxy:3128", "http://proxy:3128", SourceFlag},
	}
	for _, tt := range tests {
		// The environment is ignored by a fixed choice.
		sel, err := FromFlag(tt.flag, Lookup{Getenv: env(map[string]string{"HTTPS_PROXY": "http://other:1"})})
		if err != nil {
			t.Fatalf("FromFlag(%q): %v", tt.flag, err)
		}
		for _, target := range []string{"https://login.microsoftonline.com", "http://www.msftconnecttest.com/connecttest.txt"} {
			r, err := sel.Resolve(mustURL(t, target))
			if err != nil || r.Redacted() != tt.want || r.Source != tt.src {
				t.Errorf("FromFlag(%q).Resolve(%s) = %v, %v; want %s from %s", tt.flag, target, r, err, tt.want, tt.src)
			}
		}
	}
	for _, bad := range []string{"socks5://p:1080", "http://u:s3cret@p:99999", "ftp://x"} {
		_, err := FromFlag(bad, Lookup{})
		if err == nil || !errors.Is(err, ErrBadProxyURL) || !strings.Contains(err.Error(), "--proxy") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("FromFlag(%q) error = %v: want a redacted --proxy error wrapping ErrBadProxyURL", bad, err)
		}
	}
}

func TestAutoEnv(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		target string
		want   string // redacted proxy or "direct"
		detail string // substring of Detail
	}{
		{"https uses HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "http://sp:3128", "HTTP_PROXY": "http://hp:8080"},
			"https://login.microsoftonline.com", "http://sp:3128", "HTTPS_PROXY"},
		{"NCSI http uses HTTP_PROXY", map[string]string{"HTTPS_PROXY": "http://sp:3128", "HTTP_PROXY": "http://hp:8080"},
			"http://www.msftconnecttest.com/connecttest.txt", "http://hp:8080", "HTTP_PROXY"},
		{"lower case", map[string]string{"https_proxy": "sp:3128"}, "https://login.microsoftonline.com", "http://sp:3128", "https_proxy"},
		{"upper case wins", map[string]string{"HTTPS_PROXY": "http://up:1", "https_proxy": "http://low:2"},
			"https://login.microsoftonline.com", "http://up:1", "HTTPS_PROXY"},
		{"http target without HTTP_PROXY is direct", map[string]string{"HTTPS_PROXY": "http://sp:3128"},
			"http://www.msftncsi.com/ncsi.txt", "direct", "HTTP_PROXY is not set"},
		{"credentials %-decoded", map[string]string{"HTTPS_PROXY": "http://dom%5Cu:p%40ss@sp:3128"},
			"https://login.microsoftonline.com", "http://dom%5Cu:xxxxx@sp:3128", "HTTPS_PROXY"},
		{"NO_PROXY suffix", map[string]string{"HTTPS_PROXY": "http://sp:3128", "NO_PROXY": "blob.core.windows.net"},
			"https://acct.blob.core.windows.net", "direct", "NO_PROXY=blob.core.windows.net bypasses HTTPS_PROXY"},
		{"NO_PROXY leading dot", map[string]string{"HTTPS_PROXY": "http://sp:3128", "no_proxy": ".windows.net"},
			"https://login.windows.net", "direct", "no_proxy="},
		{"NO_PROXY does not match a longer label", map[string]string{"HTTPS_PROXY": "http://sp:3128", "NO_PROXY": "windows.net"},
			"https://notwindows.net", "http://sp:3128", ""},
		{"NO_PROXY CIDR", map[string]string{"HTTPS_PROXY": "http://sp:3128", "NO_PROXY": "10.0.0.0/8"},
			"https://10.1.2.3", "direct", "bypasses"},
		{"NO_PROXY port", map[string]string{"HTTPS_PROXY": "http://sp:3128", "NO_PROXY": "login.microsoftonline.com:8443"},
			"https://login.microsoftonline.com", "http://sp:3128", ""},
		{"NO_PROXY star", map[string]string{"HTTPS_PROXY": "http://sp:3128", "NO_PROXY": "*"},
			"https://login.microsoftonline.com", "direct", "bypasses"},
		{"loopback is never proxied", map[string]string{"HTTPS_PROXY": "http://sp:3128"},
			"https://127.0.0.1:8443", "direct", "loopback"},
		{"https proxy default port", map[string]string{"HTTPS_PROXY": "https://sp"},
			"https://login.microsoftonline.com", "https://sp:443", ""},
		{"NO_PROXY entry with a credential is concealed", map[string]string{"HTTPS_PROXY": "http://sp:3128", "NO_PROXY": "http://u:a/s3cret@sp:3128,login.microsoftonline.com"},
			"https://login.microsoftonline.com", "direct", "NO_PROXY=http://xxxxx@sp:3128,login.microsoftonline.com bypasses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := FromFlag("auto", Lookup{Getenv: env(tt.env), System: func() (System, error) {
				t.Error("the OS settings were read although the environment sets a proxy")
				return System{}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := sel.Resolve(mustURL(t, tt.target))
			if err != nil {
				t.Fatal(err)
			}
			if r.Redacted() != tt.want || r.Source != SourceEnv || !strings.Contains(r.Detail, tt.detail) {
				t.Fatalf("Resolve(%s) = %v; want %s from env with detail containing %q", tt.target, r, tt.want, tt.detail)
			}
		})
	}
}

func TestAutoEnvBadValue(t *testing.T) {
	for _, v := range []string{"socks5://u:s3cret@sp:1080", "http://u:s3cret@sp:99999", "http://u:s3cret@sp:3128/pac.js"} {
		sel, err := FromFlag("auto", Lookup{Getenv: env(map[string]string{"HTTPS_PROXY": v})})
		if err != nil {
			t.Fatal(err)
		}
		_, err = sel.Resolve(mustURL(t, "https://login.microsoftonline.com"))
		if err == nil || !strings.Contains(err.Error(), "HTTPS_PROXY") || !errors.Is(err, ErrBadProxyURL) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("HTTPS_PROXY=%s: error = %v; want a redacted error naming HTTPS_PROXY", Redact(v), err)
		}
	}
}

func TestAutoSystem(t *testing.T) {
	manual := func(server, bypass string) *Settings { return &Settings{Manual: true, Server: server, Bypass: bypass} }
	tests := []struct {
		name   string
		sys    System
		sysErr error
		target string
		want   string
		src    Source
		detail string
	}{
		{"nothing", System{}, nil, "https://login.microsoftonline.com", "direct", SourceNone, "no proxy variable"},
		{"winhttp", System{WinHTTP: manual("wp:8080", "")}, nil, "https://login.microsoftonline.com", "http://wp:8080", SourceWinHTTP, "proxy http://wp:8080"},
		{"winhttp before ie", System{WinHTTP: manual("wp:8080", ""), IE: manual("ip:3128", "")}, nil,
			"https://login.microsoftonline.com", "http://wp:8080", SourceWinHTTP, ""},
		{"ie when winhttp is direct", System{WinHTTP: &Settings{}, IE: manual("http=ip:80;https=ip:443", "")}, nil,
			"https://login.microsoftonline.com", "http://ip:443", SourceIE, ""},
		{"ie per scheme http", System{IE: manual("http=ip:80;https=ip:443", "")}, nil,
			"http://www.msftconnecttest.com/connecttest.txt", "http://ip:80", SourceIE, ""},
		{"no entry for the scheme", System{IE: manual("http=ip:80", "")}, nil,
			"https://login.microsoftonline.com", "direct", SourceIE, "no entry for https"},
		{"bypass", System{WinHTTP: manual("wp:8080", "<local>;*.windows.net")}, nil,
			"https://login.windows.net", "direct", SourceWinHTTP, "bypass list matches login.windows.net"},
		{"bypass local", System{WinHTTP: manual("wp:8080", "<local>")}, nil, "https://intranet", "direct", SourceWinHTTP, "bypass"},
		{"pac only", System{IE: &Settings{AutoConfigURL: "http://wpad/wpad.dat", AutoDetect: true}}, nil,
			"https://login.microsoftonline.com", "direct", SourceNone, "PAC script http://wpad/wpad.dat found but not evaluated"},
		{"pac and manual", System{IE: &Settings{Manual: true, Server: "ip:3128", AutoConfigURL: "http://wpad/wpad.dat"}}, nil,
			"https://login.microsoftonline.com", "http://ip:3128", SourceIE, "not evaluated"},
		{"auto-detect only", System{WinHTTP: &Settings{AutoDetect: true}}, nil,
			"https://login.microsoftonline.com", "direct", SourceNone, "WPAD"},
		{"read error reported", System{}, fmt.Errorf("open registry key: access denied"), "https://login.microsoftonline.com", "direct", SourceNone, "access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := FromFlag("auto", Lookup{Getenv: env(nil), System: func() (System, error) { return tt.sys, tt.sysErr }})
			if err != nil {
				t.Fatal(err)
			}
			r, err := sel.Resolve(mustURL(t, tt.target))
			if err != nil {
				t.Fatal(err)
			}
			if r.Redacted() != tt.want || r.Source != tt.src || !strings.Contains(r.Detail, tt.detail) {
				t.Fatalf("Resolve(%s) = %v; want %s from %s with detail containing %q", tt.target, r, tt.want, tt.src, tt.detail)
			}
		})
	}
	sel, _ := FromFlag("auto", Lookup{System: func() (System, error) { return System{IE: manual("https=u:s3cret@p:99999", "")}, nil }})
	if _, err := sel.Resolve(mustURL(t, "https://x.example")); err == nil || !strings.Contains(err.Error(), "ie proxy setting") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad IE ProxyServer: error = %v, want a redacted error naming the source", err)
	}
}

// TestNoPasswordInStrings plants a password in every source and checks every
// string the package returns.
func TestNoPasswordInStrings(t *testing.T) {
	const secret = "Pl4nted-S3cret"
	raw := "http://alice:" + secret + "@proxy.contoso.com:3128"
	sels := map[string]Lookup{
		"flag": {},
		"env":  {Getenv: env(map[string]string{"HTTPS_PROXY": raw})},
		"ie": {System: func() (System, error) {
			return System{IE: &Settings{Manual: true, Server: "https=alice:" + secret + "@p:3128", AutoConfigURL: "http://u:" + secret + "@wpad/x.pac"}}, nil
		}},
	}
	for name, lk := range sels {
		flag := "auto"
		if name == "flag" {
			flag = raw
		}
		sel, err := FromFlag(flag, lk)
		if err != nil {
			t.Fatal(err)
		}
		r, err := sel.Resolve(mustURL(t, "https://login.microsoftonline.com"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Direct() {
			t.Fatalf("%s: want a proxy route, got %v", name, r)
		}
		if pw, _ := r.Proxy.User.Password(); pw != secret {
			t.Fatalf("%s: the route lost the password (%q)", name, pw)
		}
		for _, s := range []string{r.Redacted(), r.Detail, fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprintf("%q", r)} {
			if strings.Contains(s, secret) {
				t.Errorf("%s: %q leaks the password", name, s)
			}
		}
	}
	for _, bad := range []string{"socks5://alice:" + secret + "@p:1", "http://alice:" + secret + "@p:0", "alice:" + secret + "@p:x", "http://alice:" + secret + "%zz@p:1"} {
		if _, err := FromFlag(bad, Lookup{}); err == nil || strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
			t.Errorf("FromFlag(bad): %v", err)
		}
	}
}
