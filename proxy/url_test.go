package proxy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, want   string // want: the redacted URL
		user, pass string
		errHas     string
	}{
		{in: "http://proxy.contoso.com:3128", want: "http://proxy.contoso.com:3128"},
		{in: "proxy:3128", want: "http://proxy:3128"},
		{in: "  proxy:3128 ", want: "http://proxy:3128"},
		{in: "http://proxy", want: "http://proxy:80"},
		{in: "https://proxy", want: "https://proxy:443"},
		{in: "HTTPS://Proxy:8443/", want: "https://Proxy:8443"},
		{in: "http://[::1]:3128", want: "http://[::1]:3128"},
		{in: "http://[fd00::1]", want: "http://[fd00::1]:80"},
		{in: "http://alice:s3cret@proxy:3128", want: "http://alice:xxxxx@proxy:3128", user: "alice", pass: "s3cret"},
		{in: "http://dom%5Calice:p%40ss%3Aw@proxy:3128", want: "http://dom%5Calice:xxxxx@proxy:3128", user: `dom\alice`, pass: "p@ss:w"},
		{in: "alice:s3cret@proxy:3128", want: "http://alice:xxxxx@proxy:3128", user: "alice", pass: "s3cret"},
		{in: "", errHas: "empty"},
		{in: "socks5://proxy:1080", errHas: "SOCKS"},
		{in: "ftp://proxy:21", errHas: `scheme "ftp"`},
		{in: "http://", errHas: "no host"},
		{in: "http://:3128", errHas: "no host"},
		{in: "http://proxy:99999", errHas: "port"},
		{in: "http://proxy:0", errHas: "port"},
		{in: "http://proxy:abc", errHas: "the port is not a number"},
		{in: "http://wpad/wpad.dat", errHas: "PAC"},
		{in: "http://proxy:3128/?x=1", errHas: "query"},
		{in: "http://u:s3cr%zzet@proxy:3128", errHas: "%-escape"},
	}
	for _, tt := range tests {
		u, err := ParseURL(tt.in)
		if tt.errHas != "" {
			if err == nil {
				t.Errorf("ParseURL(%q) = %v, want an error containing %q", tt.in, u.Redacted(), tt.errHas)
				continue
			}
			if !strings.Contains(err.Error(), tt.errHas) || !errors.Is(err, ErrBadProxyURL) || !strings.Contains(err.Error(), proxyURLFix) {
				t.Errorf("ParseURL(%q) error %q: want it to contain %q, the fix, and wrap ErrBadProxyURL", tt.in, err, tt.errHas)
			}
			if strings.Contains(err.Error(), "s3cr") {
				t.Errorf("ParseURL(%q) error leaks the password: %q", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if got := u.Redacted(); got != tt.want {
			t.Errorf("ParseURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		pass, _ := u.User.Password()
		if u.User.Username() != tt.user || pass != tt.pass {
			t.Errorf("ParseURL(%q) credentials = %q/%q, want %q/%q", tt.in, u.User.Username(), pass, tt.user, tt.pass)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"http://alice:s3cret@proxy:3128", "proxy:3128", "https://[::1]", "socks5://x", "http://u:%zz@h", "http://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadProxyURL) {
				t.Fatalf("ParseURL(%q): error %v does not wrap ErrBadProxyURL", s, err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.Port() == "" {
			t.Fatalf("ParseURL(%q) = %q: accepted without scheme, host and port", s, u.Redacted())
		}
		// A valid result parses back to itself.
		again, err := ParseURL(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("ParseURL(%q) = %q, which does not round-trip: %v", s, u.String(), err)
		}
	})
}
