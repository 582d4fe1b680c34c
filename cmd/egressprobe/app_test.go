package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process with captured streams.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	s := &streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	code = run(context.Background(), args, s)
	return code, out.String(), errb.String()
}

func TestExitCodesAndUsageErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrSub string
	}{
		{"version", []string{"version"}, exitOK, "egressprobe ", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"unknown flag", []string{"version", "--nope"}, exitUsage, "", "--nope: unknown flag for 'egressprobe version'"},
		{"extra argument", []string{"version", "extra"}, exitUsage, "", `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if !strings.HasPrefix(out, tt.wantOut) || (tt.wantOut == "" && out != "") {
				t.Errorf("stdout = %q, want prefix %q", out, tt.wantOut)
			}
			if tt.wantErrSub != "" {
				if !strings.Contains(errOut, tt.wantErrSub) {
					t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErrSub)
				}
				if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
					t.Errorf("error is %d lines, want one: %q", n+1, errOut)
				}
			}
		})
	}
}
