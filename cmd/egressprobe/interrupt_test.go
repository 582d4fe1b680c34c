//go:build unix

package main

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCheckCtrlCPrintsWhatFinished interrupts a run whose probes all stall
// for --timeout 30s: the process ends at once with the report of what it
// had (every probe cancelled, none pretending to be a network verdict), says
// so on stderr, and exits 1.
func TestCheckCtrlCPrintsWhatFinished(t *testing.T) {
	binary(t)
	l := newLab(t)
	args := append([]string{"check", "--proxy", "none", "--timeout", "30s", "-o", "json"}, l.silentTargets(t, 98, 5)...)
	args = append(args, "--resolver", l.start(t))

	cmd := exec.Command(binary(t), args...)
	cmd.Env = cleanEnv(t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the probes are connected and waiting on TLS
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(sent)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	if took > slack {
		t.Errorf("took %v after SIGINT, want well under %v", took, slack)
	}
	rep := decodeReport(t, out.String())
	if len(rep.Results) != 5 {
		t.Fatalf("%d results, want the 5 targets", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Status != "cancelled" {
			t.Errorf("%s: %s (%s), want cancelled", r.Host, r.Status, r.Error)
		}
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("stderr %q does not say the run was interrupted", errb.String())
	}
}
