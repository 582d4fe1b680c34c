package main

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"egressprobe/internal/testenv"
	"egressprobe/targets"
)

// readmeCheckExamples are the command lines of the README's check section.
func readmeCheckExamples(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## `egressprobe check`\n\n```sh\n")
	block, _, _ := strings.Cut(section, "```")
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, " #")
		out = append(out, strings.TrimSpace(cmd))
	}
	if len(out) != 5 {
		t.Fatalf("found %d examples in the README's check section, want 5: %q", len(out), out)
	}
	return out
}

// TestCheckHelpExamplesAreTheREADMEs: check --help shows the README's five
// examples, as printed there.
func TestCheckHelpExamplesAreTheREADMEs(t *testing.T) {
	r := runBinary(t, nil, "check", "--help")
	_, ex, ok := strings.Cut(r.stdout, "\nExamples:\n")
	if r.code != 0 || !ok {
		t.Fatalf("check --help: exit %d, no Examples section:\n%s", r.code, r.stdout)
	}
	ex, _, _ = strings.Cut(ex, "\n\n")
	var got []string
	for _, line := range strings.Split(ex, "\n") {
		got = append(got, strings.TrimSpace(line))
	}
	if want := readmeCheckExamples(t); !slices.Equal(got, want) {
		t.Errorf("check --help examples:\n%s\nwant the README's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestREADMECheckExamplesRunAsPrinted parses each README example with the
// real flags and plans it (everything but probing, which would leave the
// machine): each is valid usage.
func TestREADMECheckExamplesRunAsPrinted(t *testing.T) {
	examples := readmeCheckExamples(t)
	t.Chdir(testenv.TempDir(t))
	if err := os.WriteFile("hosts.yaml", []byte("- host: login.microsoftonline.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, line := range examples {
		s := &streams{Getenv: func(string) string { return "" }}
		root := &cobra.Command{Use: "egressprobe", SilenceErrors: true, SilenceUsage: true}
		root.AddCommand(newCheckCmd(s, func(_ context.Context, opts *checkOptions, s *streams) error {
			run, err := prepareCheck(opts, s)
			if err == nil && run.file != nil {
				err = run.file.Close()
			}
			return err
		}))
		root.SetArgs(strings.Fields(line)[1:])
		if err := root.Execute(); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}

// TestHelpPlaceholders: no flag of any command shows a Go type
// (string, stringArray, duration, int) where it should say what it takes.
func TestHelpPlaceholders(t *testing.T) {
	goType := regexp.MustCompile(`(?m)^\s+(-\w, )?--[\w-]+ (string|stringArray|strings|duration|int|uint16)\s`)
	for _, args := range [][]string{
		{"check"}, {"targets", "list"}, {"servicetags", "update"}, {"servicetags", "lookup"},
		{"servicetags", "export"}, {"servicetags", "diff"}, {"servicetags", "nsg-rules"},
	} {
		r := runBinary(t, nil, append(args, "--help")...)
		if m := goType.FindAllString(r.stdout, -1); r.code != 0 || len(m) > 0 {
			t.Errorf("%s --help: exit %d, flags showing a Go type: %q", strings.Join(args, " "), r.code, m)
		}
	}
	r := runBinary(t, nil, "check", "--help")
	for _, want := range []string{"--member HOST", "--targets FILE", "--timeout DURATION", "--resolver IP[:PORT]", "help targets-file"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check --help lacks %q", want)
		}
	}
}

// TestHelpTargetsFile: the topic lists every key a YAML target may have.
func TestHelpTargetsFile(t *testing.T) {
	r := runBinary(t, nil, "help", "targets-file")
	if r.code != 0 {
		t.Fatalf("help targets-file: exit %d: %s", r.code, r.stderr)
	}
	for _, k := range targets.FileKeys() {
		if !regexp.MustCompile(`(?m)^  ` + k + `\s`).MatchString(r.stdout) {
			t.Errorf("help targets-file does not list the key %q:\n%s", k, r.stdout)
		}
	}
}

// TestCompletion: every shell gets a script, and the values of --region (of
// the --cloud given), --cloud and -o are completed.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := runBinary(t, nil, "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "egressprobe") {
			t.Errorf("completion %s: exit %d, %d bytes", sh, r.code, len(r.stdout))
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"check", "--region", ""}, []string{"westeurope\tWest Europe", "northeurope"}, "chinaeast2"},
		{[]string{"check", "--cloud", "china", "--region", ""}, []string{"chinaeast2\tChina East 2"}, "westeurope"},
		{[]string{"targets", "list", "--cloud", "usgov", "--region", ""}, []string{"usgovvirginia"}, "westeurope"},
		{[]string{"check", "--cloud", ""}, []string{"public", "china", "usgov"}, "germany"},
		{[]string{"servicetags", "update", "--cloud", ""}, []string{"public", "germany"}, ""},
		{[]string{"check", "-o", ""}, []string{"table", "jsonl", "markdown", "html"}, "nft"},
		{[]string{"servicetags", "export", "-f", ""}, []string{"nft", "iptables", "windows-firewall"}, ""},
		{[]string{"servicetags", "nsg-rules", "-o", ""}, []string{"sh", "table"}, ""},
		{[]string{"check", "--path", ""}, []string{"direct", "proxy", "both"}, ""},
	} {
		r := runBinary(t, nil, append([]string{"__complete"}, tc.args...)...)
		lines := strings.Split(r.stdout, "\n")
		for _, w := range tc.want {
			if !slices.Contains(lines, w) && !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w+"\t") }) {
				t.Errorf("completing %q: %q missing from\n%s", tc.args, w, r.stdout)
			}
		}
		if tc.not != "" && strings.Contains(r.stdout, tc.not) {
			t.Errorf("completing %q offers %q:\n%s", tc.args, tc.not, r.stdout)
		}
	}
}
