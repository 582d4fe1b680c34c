package main

import (
	"fmt"
	"strings"
)

// serviceEvents are the events TestServiceEventLog makes the Windows
// service write to the Application log, in order, each by its level and
// words of its text: the daemon's start, a target's transition, its stop,
// and a config that cannot start. TestServiceEventLogUnderWine looks for
// the same on Wine's eventlog channel.
var serviceEvents = []struct {
	level string // info, warning, error
	words []string
}{
	{"info", []string{"egressprobe daemon started", "targets=1"}},
	{"warning", []string{"target failing", "outcome=tcp_refused", "step=tcp", "path=direct"}},
	{"info", []string{"egressprobe daemon stopped"}},
	{"error", []string{"egressprobe daemon cannot start", "bad.yaml:3", "intervall"}},
}

// event is one event the service wrote: its level and its text.
type event struct{ level, text string }

// matchServiceEvents finds serviceEvents in got, in order.
func matchServiceEvents(got []event) error {
	next := 0
	for _, want := range serviceEvents {
		for next < len(got) && !(got[next].level == want.level && containsAll(got[next].text, want.words)) {
			next++
		}
		if next == len(got) {
			return fmt.Errorf("no %s event with %q after the ones before it; the events:\n%s", want.level, want.words, eventList(got))
		}
		next++
	}
	return nil
}

func eventList(evs []event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s: %s\n", e.level, e.text)
	}
	return b.String()
}

func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
