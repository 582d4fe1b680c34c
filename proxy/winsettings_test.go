package proxy

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// blob builds a connection-settings value the way Windows writes one.
func blob(version, flags uint32, fields ...string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, version)
	b = binary.LittleEndian.AppendUint32(b, 7) // change counter
	b = binary.LittleEndian.AppendUint32(b, flags)
	for _, f := range fields {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseConnectionBlob(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Settings
		err  string
	}{
		{
			// `netsh winhttp reset proxy`: version 0x18, flags DIRECT, two empty strings.
			name: "winhttp direct",
			in:   mustHex(t, "18000000 00000000 01000000 00000000 00000000"),
			want: Settings{},
		},
		{
			// `netsh winhttp set proxy proxy.contoso.com:8080 "<local>;*.corp"`.
			name: "winhttp manual",
			in: mustHex(t, "28000000 05000000 03000000 16000000"+hex.EncodeToString([]byte("proxy.contoso.com:8080"))+
				"0e000000"+hex.EncodeToString([]byte("<local>;*.corp"))),
			want: Settings{Manual: true, Server: "proxy.contoso.com:8080", Bypass: "<local>;*.corp"},
		},
		{
			name: "ie 0x46 with PAC, auto-detect and trailing WPAD data",
			in:   append(blob(0x46, flagDirect|flagAutoURL|flagAutoDetect, "", "", "http://wpad.contoso.com/wpad.dat"), make([]byte, 32)...),
			want: Settings{AutoConfigURL: "http://wpad.contoso.com/wpad.dat", AutoDetect: true},
		},
		{
			name: "PAC URL kept but switched off",
			in:   blob(0x46, flagDirect|flagProxy, "http=p:80;https=p:443", "", "http://old/pac"),
			want: Settings{Manual: true, Server: "http=p:80;https=p:443"},
		},
		{
			name: "proxy flag without a server is not manual",
			in:   blob(0x3c, flagProxy, "", ""),
			want: Settings{},
		},
		{
			name: "trailing NULs trimmed",
			in:   blob(0x3c, flagProxy, "p:3128\x00", ""),
			want: Settings{Manual: true, Server: "p:3128"},
		},
		{name: "empty", in: nil, err: "truncated at byte 0"},
		{name: "short header", in: mustHex(t, "46000000 01000000 0300"), err: "truncated at byte 8"},
		{name: "length past the end", in: mustHex(t, "46000000 01000000 03000000 ff000000 6162"), err: "claims 255 bytes"},
		{name: "huge length", in: mustHex(t, "46000000 01000000 03000000 ffffffff"), err: "claims 4294967295 bytes"},
		{name: "bypass missing", in: blob(0x46, flagProxy, "p:1"), err: "truncated at byte 19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnectionBlob(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrBadBlob) {
					t.Fatalf("error = %v, want one containing %q wrapping ErrBadBlob", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseServers(t *testing.T) {
	tests := []struct {
		in                 string
		http, https, other string // redacted proxy per scheme; "" none
		err                string
	}{
		{in: "proxy:3128", http: "http://proxy:3128", https: "http://proxy:3128"},
		{in: "http://proxy:3128", http: "http://proxy:3128", https: "http://proxy:3128"},
		{in: "http=hp:80;https=sp:8443", http: "http://hp:80", https: "http://sp:8443"},
		{in: "HTTPS=sp:8443; ftp=f:21 ;socks=s:1080", https: "http://sp:8443"},
		{in: "http=hp:80 https=https://sp", http: "http://hp:80", https: "https://sp:443"},
		{in: "http=hp:80", http: "http://hp:80"},
		{in: "", http: "", https: ""},
		{in: ";;", http: "", https: ""},
		{in: "https=u:s3cret@sp:99999", err: "port"},
		{in: "http=", err: "empty"},
	}
	for _, tt := range tests {
		s, err := ParseServers(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("ParseServers(%q) error = %v, want one containing %q without the password", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseServers(%q): %v", tt.in, err)
			continue
		}
		for scheme, want := range map[string]string{"http": tt.http, "https": tt.https} {
			got := ""
			if u := s.For(scheme); u != nil {
				got = u.Redacted()
			}
			if got != want {
				t.Errorf("ParseServers(%q).For(%s) = %q, want %q", tt.in, scheme, got, want)
			}
		}
	}
}

func TestBypassMatch(t *testing.T) {
	b := ParseBypass("<local>; *.Contoso.com ;10.*, https://*.blob.core.windows.net;[::1];legacy:8080;<-loopback>")
	tests := []struct {
		host, port string
		want       bool
	}{
		{"intranet", "443", true}, // <local>: no dot
		{"www.contoso.com", "443", true},
		{"WWW.CONTOSO.COM", "443", true},
		{"contoso.com", "443", false}, // "*.contoso.com" needs a label before
		{"notcontoso.com", "443", false},
		{"10.1.2.3", "443", true},
		{"110.1.2.3", "443", false},
		{"acct.blob.core.windows.net", "443", true},
		{"login.microsoftonline.com", "443", false},
		{"::1", "443", true},
		{"[::1]", "443", true},
		{"fe80::1", "443", false}, // has ':' so not <local>
		{"legacy", "8080", true},
		{"legacy.contoso.net", "8080", false},
	}
	for _, tt := range tests {
		if got := b.Match(tt.host, tt.port); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
	if (Bypass{}).Match("intranet", "80") {
		t.Error("an empty bypass list matched")
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"*.x.com", "a.b.x.com", true}, {"*.x.com", "x.com", false}, {"a**b", "ab", true}, {"abc", "abd", false},
	}
	for _, tt := range tests {
		if got := wildcard(tt.p, tt.s); got != tt.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func FuzzParseConnectionBlob(f *testing.F) {
	f.Add(blob(0x18, flagDirect, "", ""))
	f.Add(blob(0x46, flagProxy|flagAutoURL|flagAutoDetect, "http=a:1;https=b:2", "<local>", "http://wpad/wpad.dat"))
	f.Add([]byte{0x46, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseConnectionBlob(b)
		if err != nil {
			if !errors.Is(err, ErrBadBlob) {
				t.Fatalf("error %v does not wrap ErrBadBlob", err)
			}
			return
		}
		if len(s.Server)+len(s.Bypass)+len(s.AutoConfigURL) > len(b) {
			t.Fatalf("strings longer than the blob: %+v from %d bytes", s, len(b))
		}
		_ = s.Describe()
	})
}

func FuzzParseServers(f *testing.F) {
	for _, s := range []string{"proxy:3128", "http=a:80;https=https://u:p@b:443;socks=c:1", "=;=", "https=[::1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sv, err := ParseServers(s)
		if err != nil {
			if !errors.Is(err, ErrBadProxyURL) {
				t.Fatalf("ParseServers(%q): error %v does not wrap ErrBadProxyURL", s, err)
			}
			return
		}
		for _, scheme := range []string{"http", "https"} {
			if u := sv.For(scheme); u != nil && u.Port() == "" {
				t.Fatalf("ParseServers(%q).For(%s) = %q without a port", s, scheme, u.Redacted())
			}
		}
	})
}

func FuzzBypass(f *testing.F) {
	f.Add("<local>;*.contoso.com;10.*", "www.contoso.com")
	f.Add("***a*", "aaaa")
	f.Fuzz(func(t *testing.T, list, host string) {
		b := ParseBypass(list)
		_ = b.Match(host, "443")
		// A pattern always matches itself when it has no wildcard.
		for _, p := range b.Patterns {
			if !strings.Contains(p, "*") && !wildcard(p, p) {
				t.Fatalf("pattern %q does not match itself", p)
			}
		}
	})
}
