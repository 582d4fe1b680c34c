package proxy

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"no credentials here", "no credentials here"},
		{"http://proxy:3128", "http://proxy:3128"},
		{"http://alice:s3cret@proxy:3128", "http://alice:xxxxx@proxy:3128"},
		{"https://alice:s3cret@proxy:3128/", "https://alice:xxxxx@proxy:3128/"},
		{"http://bob@proxy:3128", "http://bob@proxy:3128"},
		{"http://u:p@ss@proxy:3128", "http://u:xxxxx@proxy:3128"},
		{"http://u:pa/ss@proxy:3128", "http://u:xxxxx@proxy:3128"},
		{"http://u:p%40ss@proxy", "http://u:xxxxx@proxy"},
		{`parse "http://u:s3cret@proxy:x": invalid port`, `parse "http://u:xxxxx@proxy:x": invalid port`},
		{"alice:s3cret@proxy:3128", "alice:xxxxx@proxy:3128"},
		{`proxy "alice:s3cret@proxy:3128" is bad`, `proxy "alice:xxxxx@proxy:3128" is bad`},
		{"a=http://a:1@x b=http://b:2@y", "a=http://a:xxxxx@x b=http://b:xxxxx@y"},
		{"mail me at bob@example.com", "mail me at bob@example.com"},
		{"HTTP_PROXY=u:p@h:1", "HTTP_PROXY=u:xxxxx@h:1"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"http://alice:s3cret@proxy:3128", "alice:s3cret@p:1", "x@y", "http://u:p@ss@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if Redact(out) != out {
			t.Fatalf("Redact is not idempotent: %q -> %q -> %q", s, out, Redact(out))
		}
		// A planted password behind a scheme never survives.
		const secret = "Pl4nted-S3cret"
		in := "http://user:" + secret + "@" + s
		if strings.ContainsAny(s, " \t\n\r\f\v\"'<>") {
			return // a space or quote ends the URL token by design
		}
		if strings.Contains(Redact(in), secret) {
			t.Fatalf("Redact(%q) = %q keeps the password", in, Redact(in))
		}
	})
}
