package main

import (
	"bytes"
	bin "encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// usageCase is one mistake a user makes, run through the built binary in a
// directory of its own holding files.
type usageCase struct {
	name  string
	files map[string][]byte // relative path → content, created before the run
	args  []string
}

// TestUsageMessagesGolden runs the common mistakes and compares stderr with
// testdata/usage-messages.golden (go test -run UsageMessages -update rewrites
// it). Each must exit 2 with one short line on stderr and nothing on stdout.
func TestUsageMessagesGolden(t *testing.T) {
	long := strings.Repeat("a", 1<<20) // a 1 MB line
	cases := []usageCase{
		// Did-you-mean and the one shape of flag errors.
		{name: "mistyped flag", args: []string{"check", "--regoin", "westeurope"}},
		{name: "unknown flag", args: []string{"check", "--zzzz"}},
		{name: "unknown shorthand", args: []string{"check", "-x"}},
		{name: "mistyped region", args: []string{"check", "--region", "westeurpoe"}},
		{name: "unknown region", args: []string{"check", "--region", "mars"}},
		{name: "region of another cloud", args: []string{"check", "--cloud", "usgov", "--region", "westeurope"}},
		{name: "mistyped cloud", args: []string{"check", "--cloud", "pubic"}},
		{name: "mistyped format", args: []string{"check", "-o", "jsn"}},
		{name: "mistyped subcommand", args: []string{"chekc"}},
		{name: "mistyped nested subcommand", args: []string{"servicetags", "lokup"}},
		{name: "mistyped servicetags format", args: []string{"servicetags", "diff", "-o", "tabel", "a", "b"}},
		{name: "duration without unit", args: []string{"check", "--timeout", "5"}},
		{name: "duration missing", args: []string{"check", "--timeout"}},
		{name: "bool with a number", args: []string{"check", "--verbose=2"}},
		{name: "int with a word", args: []string{"check", "--concurrency", "x"}},
		{name: "bad path", args: []string{"check", "--path", "sideways"}},
		// Long input is cut, wherever it is quoted.
		// 30,000 bytes: a Windows command line holds at most 32,767 characters.
		{name: "long target argument", args: []string{"check", strings.Repeat("b", 30_000) + " x"}},
		{name: "long line in a targets file", files: map[string][]byte{"lab/targets.txt": []byte("ok.example\n" + long + "/\n")},
			args: []string{"check", "--targets", "lab/targets.txt"}},
		{name: "long resolver", args: []string{"check", "--resolver", strings.Repeat("9", 100_000)}},
		{name: "long region", args: []string{"check", "--region", strings.Repeat("r", 100_000)}},
		// Targets files as Windows writes them.
		{name: "utf-16 LE error names the decoded line", files: map[string][]byte{"lab/targets.txt": utf16LE("login.microsoftonline.com\r\nbad host\r\n")},
			args: []string{"check", "--targets", "lab/targets.txt"}},
		{name: "latin-1 file", files: map[string][]byte{"lab/targets.txt": []byte("caf\xe9.example\n")},
			args: []string{"check", "--targets", "lab/targets.txt"}},
		{name: "utf-16 without BOM", files: map[string][]byte{"lab/targets.txt": utf16LE("x.example\r\n")[2:]},
			args: []string{"check", "--targets", "lab/targets.txt"}},
		{name: "yaml by extension", files: map[string][]byte{"lab/targets.yml": []byte("# mine\nhost: a.example\n")},
			args: []string{"check", "--targets", "lab/targets.yml"}},
		{name: "yaml syntax error names its line", files: map[string][]byte{"lab/t.yaml": []byte("targets:\n  - host: a.example\n  - host: [b\n")},
			args: []string{"check", "--targets", "lab/t.yaml"}},
		{name: "yaml unknown top-level key", files: map[string][]byte{"lab/t.yaml": []byte("hosts:\n  - host: a.example\n")},
			args: []string{"check", "--targets", "lab/t.yaml"}},
		{name: "yaml unknown key", files: map[string][]byte{"lab/t.txt": []byte("targets:\n  - host: a.example\n    prot: 443\n")},
			args: []string{"check", "--targets", "lab/t.txt"}},
		{name: "missing targets file", args: []string{"check", "--targets", "lab/none.txt"}},
		// Cross-checks.
		{name: "export -f and -o disagree", args: []string{"servicetags", "export", "--tag", "Storage", "-f", "txt", "-o", "json"}},
	}
	var got bytes.Buffer
	for _, c := range cases {
		dir := testenv.TempDir(t)
		for name, data := range c.files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r := runBinaryIn(t, dir, nil, c.args...)
		if r.code != exitUsage || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want 2 and nothing", c.name, r.code, r.stdout)
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 || len(r.stderr) > 400 {
			t.Errorf("%s: stderr is %d lines, %d bytes; want one short line: %.300q", c.name, n, len(r.stderr), r.stderr)
		}
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = cutArg(a)
		}
		got.WriteString("# " + c.name + "\n$ egressprobe " + strings.Join(args, " ") + "\n" + r.stderr + "\n")
	}
	golden(t, "testdata/usage-messages.golden", got.Bytes())
}

// cutArg shows a huge argument the way the golden file can hold it.
func cutArg(a string) string {
	if len(a) > 60 {
		return a[:20] + "...(" + strconv.Itoa(len(a)) + " bytes)"
	}
	return a
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

// utf16LE is s as Windows PowerShell's Out-File writes it: UTF-16 LE with a
// byte order mark.
func utf16LE(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		b = bin.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// TestCheckTargetsFileUTF16 probes the targets of a file as Windows
// PowerShell writes it (Out-File: UTF-16 LE, BOM, CRLF), a list and YAML.
func TestCheckTargetsFileUTF16(t *testing.T) {
	binary(t)
	l := newLab(t)
	web := l.https(t, "127.0.97.1", "web.lab.test")
	l.zone["web.lab.test"] = testnet.DNSName{A: a("127.0.97.1")}
	resolver := l.start(t)
	dir := testenv.TempDir(t)
	files := map[string]string{
		"targets.txt":  "# lab\r\nweb.lab.test:" + itoa(web.Port()) + "\r\n",
		"targets.yaml": "targets:\r\n  - host: web.lab.test\r\n    port: " + itoa(web.Port()) + "\r\n    path: /x\r\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), utf16LE(text), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runBinaryIn(t, dir, nil, "check", "--targets", name, "--resolver", resolver, "--ca-file", l.caFile,
			"--proxy", "none", "-o", "json")
		rep := decodeReport(t, r.stdout)
		if r.code != 0 || len(rep.Results) != 1 || rep.Results[0].Host != "web.lab.test" || rep.Results[0].Status != "ok" {
			t.Errorf("%s: exit %d, results %+v; want 0 and web.lab.test ok; stderr %s", name, r.code, rep.Results, r.stderr)
		}
	}
}

// TestCheckTableCauseWholeInPipe: written to a pipe or a file, the table's
// DETAIL is the whole cause, as the JSON has it; only a terminal narrower
// than the table cuts it.
func TestCheckTableCauseWholeInPipe(t *testing.T) {
	closed := testnet.TCPClosed(t, "127.0.97.2")
	target := closed.String()
	js := runBinary(t, nil, "check", target, "--proxy", "none", "-o", "json")
	rep := decodeReport(t, js.stdout)
	if len(rep.Results) != 1 || len(rep.Results[0].Error) < 80 {
		t.Fatalf("want one result with a long cause, got %+v", rep.Results)
	}
	cause := rep.Results[0].Error
	out := filepath.Join(testenv.TempDir(t), "table.txt")
	table := runBinary(t, nil, "check", target, "--proxy", "none", "--output-file", out)
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pipe := runBinary(t, nil, "check", target, "--proxy", "none")
	for name, got := range map[string]string{"pipe": pipe.stdout, "file": string(written)} {
		if !strings.Contains(got, cause) {
			t.Errorf("%s: the table does not hold the whole cause %q:\n%s", name, cause, got)
		}
	}
	if table.code != 1 || table.stdout != "" {
		t.Errorf("--output-file: exit %d, stdout %q; want 1 and nothing", table.code, table.stdout)
	}
}

// TestCheckOutputFileCheckedBeforeProbing: an --output-file that cannot be
// created is said at once; the probe of a silent server with a 10-minute
// timeout never starts (it would outlast the test's deadline).
func TestCheckOutputFileCheckedBeforeProbing(t *testing.T) {
	silent := testnet.TCPSilent(t, "127.0.97.3")
	bad := filepath.Join(testenv.TempDir(t), "missing", "out.txt")
	r := runBinary(t, nil, "check", silent.String(), "--proxy", "none", "--timeout", "10m", "--output-file", bad)
	if r.code != exitUsage || !strings.HasPrefix(r.stderr, "egressprobe: --output-file: open "+bad) {
		t.Errorf("exit %d, stderr %q; want 2 and the --output-file error", r.code, r.stderr)
	}
}

// TestCrossChecks: a diff of two clouds' feeds warns; the update table fits
// 100 columns and says "first download" instead of a previous change number
// 0; the header names both proxies when HTTP_PROXY and HTTPS_PROXY differ.
func TestCrossChecks(t *testing.T) {
	china := filepath.Join("..", "..", "testdata", "check", "ServiceTags_China_lab.json")
	r := runBinary(t, nil, "servicetags", "diff", stOld, china)
	if r.code != 0 || !strings.Contains(r.stderr, "egressprobe: warning: "+stOld+" is the Public feed and "+china+" the China feed") {
		t.Errorf("diff of two clouds: exit %d, stderr %q; want 0 and the warning", r.code, r.stderr)
	}
	if r := runBinary(t, nil, "servicetags", "diff", stOld, stNew); strings.Contains(r.stderr, "warning") {
		t.Errorf("diff of one cloud warns: %q", r.stderr)
	}

	u := runBinary(t, nil, "servicetags", "update", "--source", stOld)
	if u.code != 0 || !strings.Contains(u.stdout, "Change number  7 (first download)") || strings.Contains(u.stdout, "PREVIOUS") {
		t.Errorf("update: exit %d:\n%s", u.code, u.stdout)
	}
	for _, line := range strings.Split(u.stdout, "\n") {
		// The cache file row is as wide as the path of the test's temp dir
		// (long under Windows' C:\users\...\Temp), not the table's doing.
		if strings.HasPrefix(line, "Cache file") {
			continue
		}
		if n := len([]rune(line)); n > 100 {
			t.Errorf("update table line of %d columns: %q", n, line)
		}
	}

	httpsProxy := testnet.TCPClosed(t, "127.0.98.5")
	httpProxy := testnet.TCPClosed(t, "127.0.98.6")
	env := []string{"HTTPS_PROXY=http://" + httpsProxy.String(), "HTTP_PROXY=http://" + httpProxy.String()}
	c := runBinary(t, env, "check", "x.test", "http://x.test/", "--resolver", "127.0.0.1:1", "--timeout", "5s")
	want := "proxy http://" + httpsProxy.String() + " for HTTPS (from env), http://" + httpProxy.String() + " for HTTP (from env)"
	if !strings.Contains(c.stdout, want) {
		t.Errorf("header does not name both proxies (%q):\n%s", want, c.stdout)
	}
}
