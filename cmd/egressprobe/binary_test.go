package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/report"
)

// The tests here run the built binary, as a user does, against loopback
// servers started by the test.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds egressprobe once per test run, or returns $EGRESSPROBE_EXE
// when that names a build already made: under Wine (.ci/wine/test) the tests
// run where no Go toolchain can.
func binary(t *testing.T) string {
	t.Helper()
	if exe := os.Getenv("EGRESSPROBE_EXE"); exe != "" {
		return exe
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "egressprobe-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "egressprobe")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, out}
		}
	})
	if buildErr != nil {
		t.Fatalf("building egressprobe: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }

type runResult struct {
	code           int
	stdout, stderr string
}

// runBinary runs egressprobe with args and a clean environment (no proxy
// variables, a private cache dir).
func runBinary(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	return runBinaryIn(t, "", env, args...)
}

// runBinaryIn is runBinary in the working directory dir ("" for the test's).
func runBinaryIn(t *testing.T, dir string, env []string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(t), env...)
	return runCmd(t, cmd)
}

// runCmd runs cmd, an egressprobe command line, to its end.
func runCmd(t *testing.T, cmd *exec.Cmd) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running egressprobe: %v", err)
	}
	return runResult{code, out.String(), errb.String()}
}

// cleanEnv is an environment without proxy variables and with a private
// user cache directory (XDG_CACHE_HOME; LocalAppData on Windows).
func cleanEnv(t *testing.T) []string {
	cache := testenv.TempDir(t)
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + testenv.TempDir(t), "XDG_CACHE_HOME=" + cache, "LOCALAPPDATA=" + cache}
}

func decodeReport(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, s)
	}
	if r.SchemaVersion != 1 {
		t.Fatalf("schema_version = %d, want 1", r.SchemaVersion)
	}
	return r
}
