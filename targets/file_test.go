package targets

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"egressprobe/internal/testenv"
)

const fixtures = "../testdata/targets"

func TestReadFilePlainList(t *testing.T) {
	eps, err := ReadFile(filepath.Join(fixtures, "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		host, scheme, path, source string
		port                       int
	}{
		{"login.microsoftonline.com", "https", "", filepath.Join(fixtures, "plain.txt") + ":2", 443},
		{"pod01-prot1.we.backup.windowsazure.com", "https", "", filepath.Join(fixtures, "plain.txt") + ":4", 443},
		{"2001:db8::10", "https", "", filepath.Join(fixtures, "plain.txt") + ":5", 8443},
		{"mysa.blob.core.windows.net", "https", "/", filepath.Join(fixtures, "plain.txt") + ":6", 443},
		{"www.msftncsi.com", "http", "/ncsi.txt", filepath.Join(fixtures, "plain.txt") + ":7", 80},
	}
	if len(eps) != len(want) {
		t.Fatalf("got %d endpoints: %v", len(eps), hosts(eps))
	}
	for i, w := range want {
		e := eps[i]
		if e.Host != w.host || e.Scheme != w.scheme || e.Path != w.path || e.Source != w.source || e.Port != w.port {
			t.Errorf("line %d: got %+v, want %+v", i, e, w)
		}
	}
}

func TestReadFileWindowsQuirks(t *testing.T) {
	for file, want := range map[string][]string{
		"crlf.txt": {"login.microsoftonline.com", "login.windows.net"},
		"bom.txt":  {"login.microsoftonline.com"},
	} {
		eps, err := ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !slices.Equal(hosts(eps), want) {
			t.Errorf("%s: %v, want %v", file, hosts(eps), want)
		}
	}
}

func TestReadFileYAML(t *testing.T) {
	eps, err := ReadFile(filepath.Join(fixtures, "targets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 4 {
		t.Fatalf("got %d endpoints", len(eps))
	}
	checks := []struct {
		got, want any
	}{
		{eps[0].Host, "pod01-prot1.we.backup.windowsazure.com"},
		{eps[0].ExpectedTags, []string{"AzureBackup.WestEurope"}},
		{eps[0].Timeout, 3 * time.Second},
		{eps[0].Source, filepath.Join(fixtures, "targets.yaml") + ":2"},
		{eps[0].Family, FamilyCustom},
		{eps[1].Family, "*.blob.core.windows.net"},
		{eps[1].ExpectedTags, []string{"Storage.WestEurope"}},
		{eps[1].Timeout, time.Duration(0)},
		{eps[2].Scheme, "http"},
		{eps[2].Port, 80},
		{eps[2].Path, "/health"},
		{eps[2].ExpectBody, "OK"},
		{eps[2].Timeout, 1500 * time.Millisecond},
		{eps[2].Source, filepath.Join(fixtures, "targets.yaml") + ":10"},
		{eps[3].Host, "login.microsoftonline.com"},
		{eps[3].Path, "/common/discovery/instance"},
	}
	for i, c := range checks {
		if !equalAny(c.got, c.want) {
			t.Errorf("check %d: got %#v, want %#v", i, c.got, c.want)
		}
	}
}

func equalAny(a, b any) bool {
	as, ok1 := a.([]string)
	bs, ok2 := b.([]string)
	if ok1 && ok2 {
		return slices.Equal(as, bs)
	}
	return a == b
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, file string
		data       string // used when file is ""
		line       int
		want       string
	}{
		{"plain bad line", "bad-line7.txt", "", 7, `bad-line7.txt:7: target "bad host name.example.com"`},
		{"yaml bad timeout", "bad-timeout.yaml", "", 4, `bad-timeout.yaml:4: timeout: "0s" is not a positive duration`},
		{"yaml syntax", "bad-syntax.yaml", "", 3, "bad-syntax.yaml:3: YAML:"},
		{"only comments", "only-comments.txt", "", 0, "only-comments.txt: no targets"},
		{"empty", "", "", 0, "t.txt: no targets"},
		{"yaml unknown key", "", "- host: a.example\n  prot: 443\n", 2, `t.txt:2: unknown key "prot"; valid keys: host, port`},
		{"yaml duplicate key", "", "- host: a.example\n  host: b.example\n", 2, `key "host" given twice`},
		{"yaml no host", "", "- port: 443\n", 1, "t.txt:1: the target has no host"},
		{"yaml not a mapping", "", "- a.example\n", 1, "t.txt:1: a target must be a mapping"},
		{"yaml not a list", "", "---\nhost: a.example\n", 2, "t.txt:2: expected a list of targets"},
		{"yaml bad host", "", "- host: a.example\n- host: '*.windows.net'\n", 2, "t.txt:2: host: target \"*.windows.net\""},
		{"yaml host list", "", "- host: [a, b]\n", 1, "host: must be a single value"},
		{"yaml bad port", "", "- host: a.example\n  port: 70000\n", 2, `port: "70000" is not a number from 1 to 65535`},
		{"yaml port text", "", "- host: a.example\n  port: https\n", 2, `port: "https"`},
		{"yaml bad scheme", "", "- host: a.example\n  scheme: ftp\n", 2, `scheme: "ftp" is not supported`},
		{"yaml bad path", "", "- host: a.example\n  path: health\n", 2, `path: "health" must start with /`},
		{"yaml tags not list", "", "- host: a.example\n  expect_tags: {a: b}\n", 2, "expect_tags: must be a list"},
		{"yaml tag with comma", "", "- host: a.example\n  expect_tags: ['Storage, AzureBackup']\n", 2, "is not a service-tag name"},
		{"yaml timeout text", "", "- host: a.example\n  timeout: soon\n", 2, `timeout: "soon"`},
		{"yaml negative timeout", "", "- host: a.example\n  timeout: -1s\n", 2, "positive duration"},
		{"yaml empty family", "", "- host: a.example\n  family: ''\n", 2, "family: must be a non-empty string"},
		{"yaml body list", "", "- host: a.example\n  expect_body: [x]\n", 2, "expect_body: must be a single value"},
		// The parser's errors name the line at fault, not the one before it.
		{"yaml flow list open", "", "targets:\n  - host: a.example\n  - host: [b\n", 3, "YAML: did not find expected ',' or ']'"},
		{"yaml indentation", "", "- host: a\n  port: 1\n - host: b\n", 3, "YAML: did not find expected '-' indicator"},
		{"yaml mapping after list", "", "- a\n- b\nc: d\n", 3, "YAML:"},
		{"yaml list in mapping", "", "- host: a\n  - b\n", 2, "YAML: did not find expected key"},
		{"yaml tab", "", "- host: a\n\tport: 1\n", 2, "YAML: found a tab character"},
		{"yaml one line", "", "- [a\n", 1, "YAML:"},
		{"targets key not a list", "", "targets: a.example\n", 1, "targets: expected a list of targets"},
		{"unknown top-level key", "", "hosts:\n  - host: a\n", 1, `unknown top-level key "hosts"`},
		{"latin-1", "", "a.example\ncaf\xe9.example\n", 2, "byte 0xE9 is not UTF-8 (a legacy code page?); save the file as UTF-8"},
		{"utf-16 without BOM", "", "a\x00.\x00", 1, "a NUL byte (UTF-16 without a byte order mark?)"},
		{"utf-16 odd length", "", "\xff\xfea\x00b", 0, "cut short"},
		{"utf-16 lone surrogate", "", "\xff\xfea\x00\n\x00\x00\xd8", 2, "does not decode"},
		{"long line", "", "a.example\n" + strings.Repeat("x", 1<<20) + "/\n", 2, `…": not a host`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.file != "" {
				_, err = ReadFile(filepath.Join(fixtures, tt.file))
			} else {
				_, err = ParseFile("t.txt", []byte(tt.data))
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Line != tt.line {
				t.Errorf("error %q: want a *FileError at line %d, got %#v", err, tt.line, fe)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(testenv.TempDir(t), "nope.txt"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("error %v: want not-exist naming the file", err)
	}
}

func TestYAMLSchemeChangesDefaultPort(t *testing.T) {
	eps, err := ParseFile("t.yaml", []byte("- host: a.example\n  scheme: http\n- host: b.example:8080\n  scheme: http\n- host: c.example\n  scheme: http\n  port: 8081\n"))
	if err != nil {
		t.Fatal(err)
	}
	if eps[0].Port != 80 || eps[1].Port != 8080 || eps[2].Port != 8081 {
		t.Errorf("ports %d %d %d, want 80 8080 8081", eps[0].Port, eps[1].Port, eps[2].Port)
	}
}

func TestStripComment(t *testing.T) {
	for in, want := range map[string]string{
		"# x":                 "",
		"a.example # comment": "a.example",
		"a.example\t#c":       "a.example",
		"https://a/#frag":     "https://a/#frag",
		"a.example":           "a.example",
	} {
		if got := stripComment(in); got != want {
			t.Errorf("stripComment(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseFile covers both formats: whatever the bytes, ParseFile returns
// endpoints or a *FileError naming the file with a line inside it, never panics.
func FuzzParseFile(f *testing.F) {
	for _, name := range []string{"plain.txt", "crlf.txt", "bom.txt", "bad-line7.txt", "targets.yaml", "bad-timeout.yaml", "bad-syntax.yaml"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("- host: a\n  timeout: 1h\n  expect_tags: [x]\n"))
	f.Add([]byte("- &a {host: a.example}\n- *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		eps, err := ParseFile("f.txt", data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "f.txt" {
				t.Fatalf("error %q is not a *FileError for f.txt", err)
			}
			// YAML also breaks lines at a lone "\r" (old Mac files).
			lines := strings.Count(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") + strings.Count(string(data), "\r") + 1
			if fe.Line < 0 || fe.Line > lines {
				t.Fatalf("error line %d outside the file's %d lines: %v", fe.Line, lines, err)
			}
			return
		}
		if len(eps) == 0 {
			t.Fatal("no error and no endpoints")
		}
		for _, e := range eps {
			if e.Host == "" || e.Port < 1 || e.Port > 65535 || e.Timeout < 0 || !strings.HasPrefix(e.Source, "f.txt:") {
				t.Fatalf("invalid endpoint %+v", e)
			}
		}
	})
}

// TestParseFileUTF16 reads a targets file as Windows PowerShell's Out-File
// (UTF-16 LE with a BOM, CRLF) and a big-endian one, in both formats.
func TestParseFileUTF16(t *testing.T) {
	encode := func(s string, order binary.AppendByteOrder) []byte {
		b := order.AppendUint16(nil, 0xfeff)
		for _, u := range utf16.Encode([]rune(s)) {
			b = order.AppendUint16(b, u)
		}
		return b
	}
	for _, tc := range []struct {
		name, text string
	}{
		{"list.txt", "# mine\r\nlogin.microsoftonline.com\r\nhttp://intranet.example:8080/health\r\n"},
		{"list.yaml", "targets:\r\n  - host: login.microsoftonline.com\r\n  - host: intranet.example\r\n    scheme: http\r\n    port: 8080\r\n    path: /health\r\n"},
	} {
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			eps, err := ParseFile(tc.name, encode(tc.text, order))
			if err != nil {
				t.Fatalf("%s %v: %v", tc.name, order, err)
			}
			if len(eps) != 2 || eps[0].Host != "login.microsoftonline.com" || eps[1].URL() != "http://intranet.example:8080/health" {
				t.Errorf("%s %v: got %v", tc.name, order, eps)
			}
		}
	}
}

// TestParseFileRecognisesYAML: by extension, or by the first line that is
// not blank or a comment.
func TestParseFileRecognisesYAML(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		yaml       bool
	}{
		{"t.yaml", "# a comment\n\nhost: a.example\n", true},
		{"t.YML", "a.example\n", true},
		{"t.txt", "# c\n\ntargets:\n  - host: a.example\n", true},
		{"t.txt", "---\n- host: a.example\n", true},
		{"t.txt", "a.example:443\n", false},
		{"t.txt", "https://a.example/x\n", false},
	} {
		_, err := ParseFile(tc.name, []byte(tc.text))
		// a.example as a YAML document that is a scalar, or a mapping without
		// a list, fails as YAML; as a list it parses.
		isYAML := err != nil && strings.Contains(err.Error(), "list of targets") || err == nil && strings.Contains(tc.text, "host:")
		if isYAML != tc.yaml {
			t.Errorf("%s %q: read as YAML %v (err %v), want %v", tc.name, tc.text, isYAML, err, tc.yaml)
		}
	}
}
