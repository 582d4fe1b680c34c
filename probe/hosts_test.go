package probe

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

// TestParseHosts reads hosts files as the OS resolvers do: comments, several
// names a line, IPv6 with zones, any case, a trailing dot, and junk skipped.
func TestParseHosts(t *testing.T) {
	t.Parallel()
	const file = "# a comment line\n" +
		"127.0.0.1\tlocalhost localhost.localdomain\n" +
		"10.0.0.5 Login.MicrosoftOnline.com. login.example.test # pinned\n" +
		"::1 ip6-localhost\n" +
		"fe80::1%eth0 router.local\n" +
		"not-an-ip bogus.test\n" +
		"10.0.0.6\n" +
		"0.0.0.0 ads.example.test\n" +
		"10.0.0.7 login.microsoftonline.com\n" +
		"10.0.0.5 login.microsoftonline.com\n" +
		"::ffff:10.0.0.8 mapped.test\r\n" +
		"   # indented comment 10.0.0.9 commented.test\n"
	h := ParseHosts("/etc/hosts", []byte(file))
	tests := []struct {
		name string
		want []string
	}{
		{"localhost", []string{"127.0.0.1"}},
		{"LOGIN.microsoftonline.com", []string{"10.0.0.5", "10.0.0.7"}},
		{"login.example.test.", []string{"10.0.0.5"}},
		{"ip6-localhost", []string{"::1"}},
		{"router.local", []string{"fe80::1%eth0"}},
		{"ads.example.test", []string{"0.0.0.0"}},
		{"mapped.test", []string{"10.0.0.8"}},
		{"bogus.test", nil},
		{"commented.test", nil},
		{"pinned", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, a := range h.Lookup(tc.name) {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Lookup(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (*Hosts)(nil).Lookup("x") != nil {
		t.Error("a nil Hosts answers")
	}
	missing, err := ReadHosts(filepath.Join(testenv.TempDir(t), "no-such-hosts"))
	if err != nil || missing.Lookup("localhost") != nil {
		t.Errorf("a missing hosts file: %v, %v; want an empty one", missing, err)
	}
}

// FuzzParseHosts: any bytes parse without a panic, and every name the parser
// keeps answers valid addresses whatever its case.
func FuzzParseHosts(f *testing.F) {
	for _, s := range []string{"127.0.0.1 localhost\n", "fe80::1%eth0 a b c # x\n", "::ffff:1.2.3.4\tA.\n", "#\n\n \t", "1.2.3.4 \x00\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := ParseHosts("fuzz", data)
		for name, addrs := range h.names {
			if name == "" || name != strings.ToLower(name) || len(addrs) == 0 {
				t.Fatalf("kept name %q with %v", name, addrs)
			}
			for _, a := range addrs {
				if !a.IsValid() || a.Is4In6() {
					t.Fatalf("name %q: address %v", name, a)
				}
			}
			if !slices.Equal(h.Lookup(strings.ToUpper(name)+"."), addrs) && strings.ToLower(strings.ToUpper(name)) == name {
				t.Fatalf("Lookup(%q) differs by case", name)
			}
		}
	})
}
