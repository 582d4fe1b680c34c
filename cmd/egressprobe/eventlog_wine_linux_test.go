package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

// wineEventLine is a ReportEventW call on Wine's eventlog debug channel:
// the channel's class gives the event type (trace: information, warn:
// warning, err: error); Wine cuts long strings, ending them with "...
var wineEventLine = regexp.MustCompile(`^[0-9a-f]+:(trace|warn|err):eventlog:ReportEventW L"(.*?)"(?:\.\.\.)?$`)

// TestServiceEventLogUnderWine runs the Windows test TestServiceEventLog
// under Wine with Wine's eventlog debug channel on. Wine 8 keeps no event
// log to read back (its event-log functions are stubs; that test says why
// and skips its read-back), but ReportEventW prints each event's type and
// text on that channel: this test checks there the events the service
// wrote, in order. It runs in .ci/wine/test's step, which sets
// EGRESSPROBE_WINE to the prefix .ci/wine/setup made.
func TestServiceEventLogUnderWine(t *testing.T) {
	if os.Getenv("EGRESSPROBE_WINE") == "" {
		t.Skip("runs in the Wine step: .ci/wine/test sets EGRESSPROBE_WINE (the prefix of .ci/wine/setup)")
	}
	exe := filepath.Join(testenv.TempDir(t), "egressprobe.test.exe")
	build := exec.Command("go", "test", "-c", "-o", exe, ".")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Windows test binary: %v\n%s", err, out)
	}
	run := exec.Command(filepath.Join("..", "..", ".ci", "wine", "exec"), exe, "-test.run", "^TestServiceEventLog$", "-test.v", "-test.count=1")
	run.Env = append(os.Environ(), "EGRESSPROBE_WINEDEBUG=-all,+eventlog")
	b, err := run.CombinedOutput()
	out := string(b)
	if err != nil || !(strings.Contains(out, "--- SKIP: TestServiceEventLog") || strings.Contains(out, "--- PASS: TestServiceEventLog")) {
		t.Fatalf("TestServiceEventLog under Wine: %v\n%s", err, out)
	}
	levels := map[string]string{"trace": "info", "warn": "warning", "err": "error"}
	var events []event
	for _, line := range strings.Split(out, "\n") {
		if m := wineEventLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			text := strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(m[2])
			events = append(events, event{level: levels[m[1]], text: text})
		}
	}
	if err := matchServiceEvents(events); err != nil {
		t.Errorf("on Wine's eventlog channel: %v\nthe run:\n%s", err, out)
	}
	t.Logf("%d events on Wine's eventlog channel:\n%s", len(events), eventList(events))
}
