package proxy

import (
	"net/url"
	"testing"
)

// TestAuthorizationLine: the one Basic header both CONNECT and plain-HTTP
// requests to a proxy send, and none without credentials.
func TestAuthorizationLine(t *testing.T) {
	for raw, want := range map[string]string{
		"http://user:pass@proxy:3128":  "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n",
		"http://user@proxy:3128":       "Proxy-Authorization: Basic dXNlcjo=\r\n",
		"http://proxy:3128":            "",
		"http://d%5Cu:p%40ss@proxy:80": "Proxy-Authorization: Basic ZFx1OnBAc3M=\r\n",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := AuthorizationLine(u); got != want {
			t.Errorf("AuthorizationLine(%s) = %q, want %q", u.Redacted(), got, want)
		}
	}
	if got := AuthorizationLine(nil); got != "" {
		t.Errorf("AuthorizationLine(nil) = %q", got)
	}
}

func TestPortOf(t *testing.T) {
	for raw, want := range map[string]string{
		"http://p": "80", "https://p": "443", "http://p:8080": "8080", "socks5://p": "",
	} {
		u, _ := url.Parse(raw)
		if got := PortOf(u); got != want {
			t.Errorf("PortOf(%s) = %q, want %q", raw, got, want)
		}
	}
}
