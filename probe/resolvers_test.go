package probe

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

func TestParseResolvConf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, conf string
		want       []string
		errHas     string
	}{
		{"systemd stub", "# This is /run/systemd/resolve/stub-resolv.conf\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n",
			[]string{"127.0.0.53:53"}, ""},
		{"v4 and v6 with zone", "nameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\n",
			[]string{"10.0.0.2:53", "[fe80::1%eth0]:53", "[2001:db8::53]:53"}, ""},
		{"tabs, comments, duplicates", "\tnameserver\t10.0.0.2  # office\n; old\n#nameserver 10.9.9.9\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n",
			[]string{"10.0.0.2:53", "10.0.0.3:53"}, ""},
		{"only the first three", "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n",
			[]string{"10.0.0.1:53", "10.0.0.2:53", "10.0.0.3:53"}, ""},
		{"bad address skipped", "nameserver dns.corp.example\nnameserver 10.0.0.9\n", []string{"10.0.0.9:53"}, ""},
		{"CRLF", "nameserver 10.0.0.7\r\n", []string{"10.0.0.7:53"}, ""},
		{"empty", "", nil, "no nameserver line"},
		{"no nameserver", "search corp.example\noptions ndots:2\nnameserver\n", nil, "no nameserver line"},
		{"only bad ones", "nameserver dns.corp.example\n", nil, `skipped line 1: "dns.corp.example"`},
		{"line too long", "nameserver 10.0.0.1" + strings.Repeat(" ", 70000) + "\n", nil, "too long"},
	}
	for _, tc := range tests {
		got, err := ParseResolvConf(strings.NewReader(tc.conf))
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%s: %v, %v; want an error containing %q", tc.name, got, err, tc.errHas)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestResolversFromFile(t *testing.T) {
	t.Parallel()
	dir := testenv.TempDir(t)
	good := filepath.Join(dir, "resolv.conf")
	empty := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(good, []byte("nameserver 10.0.0.2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("search x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := resolversFromFile(good); err != nil || !slices.Equal(got, []string{"10.0.0.2:53"}) {
		t.Errorf("good file: %v, %v", got, err)
	}
	_, err := resolversFromFile(empty)
	if !errors.Is(err, ErrNoResolvers) || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("empty file: %v; want ErrNoResolvers naming the file and --resolver", err)
	}
	_, err = resolversFromFile(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("missing file: %v", err)
	}
}

// TestSystemResolvers runs the real thing on this machine: whatever it says
// must be usable by ResolveDNS, or a clear error.
func TestSystemResolvers(t *testing.T) {
	t.Parallel()
	servers, err := SystemResolvers()
	if err != nil {
		if !strings.Contains(err.Error(), "--resolver") {
			t.Errorf("error does not say what to do: %v", err)
		}
		return
	}
	for _, s := range servers {
		if _, err := ParseResolver(s); err != nil {
			t.Errorf("SystemResolvers gave %q: %v", s, err)
		}
	}
}

func TestSelectAdapterResolvers(t *testing.T) {
	t.Parallel()
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	got, err := selectAdapterResolvers([]adapterDNS{
		{Up: false, IfIndex: 3, Servers: []netip.Addr{a("10.9.9.9")}}, // disconnected Wi-Fi
		{Up: true, IfIndex: 7, Servers: []netip.Addr{
			a("10.0.0.2"), a("fec0:0:0:ffff::1"), a("fec0:0:0:ffff::2"), a("fec0:0:0:ffff::3"),
			a("fe80::53"), a("::"), a("::ffff:10.0.0.3"),
		}},
		{Up: true, IfIndex: 9, Servers: []netip.Addr{a("10.0.0.2"), a("fd00::53")}}, // VPN repeating the office resolver
	})
	want := []string{"10.0.0.2:53", "[fe80::53%7]:53", "10.0.0.3:53", "[fd00::53]:53"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	_, err = selectAdapterResolvers([]adapterDNS{{Up: true, Servers: []netip.Addr{a("fec0:0:0:ffff::1")}}, {Up: false, Servers: []netip.Addr{a("10.0.0.1")}}})
	if !errors.Is(err, ErrNoResolvers) || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("no usable adapter: %v", err)
	}
}

func FuzzParseResolvConf(f *testing.F) {
	for _, s := range []string{"nameserver 10.0.0.1\n", "nameserver fe80::1%eth0\nnameserver ::1", "# c\n;x\nsearch a b\n", "nameserver", "nameserver 1.2.3.4.5\n\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		servers, err := ParseResolvConf(strings.NewReader(string(b)))
		if err == nil && (len(servers) == 0 || len(servers) > maxResolvers) {
			t.Fatalf("%d servers without an error", len(servers))
		}
		for _, s := range servers {
			if ap, err := ParseResolver(s); err != nil || ap.Port() != 53 {
				t.Fatalf("%q: unusable resolver %q: %v", b, s, err)
			}
		}
	})
}
