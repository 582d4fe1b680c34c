//go:build windows

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

// wineEventLog is why the events cannot be read back under Wine 8, as tried:
// its advapi32 event-log functions are stubs.
const wineEventLog = "under Wine 8 the event log keeps nothing to read back: RegisterEventSourceW, ReportEventW, " +
	"OpenEventLogW and ReadEventLogW are stubs (ReportEventW only prints the strings on Wine's eventlog debug channel, " +
	"ReadEventLogW fails with ERROR_HANDLE_EOF, GetNumberOfEventLogRecords says 0, wevtutil prints nothing); " +
	"TestServiceEventLogUnderWine checks the texts on that channel"

// TestServiceEventLog drives the service's handler as the service manager
// would (Execute, Running, then Stop), its daemon probing a refused port
// and logging to the Application event log under a source of its own, then
// a config that cannot start; it reads the Application log back and finds
// the start, the transition (a warning naming the target, the outcome and
// the step), the stop and the error naming the bad file. Registering a
// source needs an administrator (Wine's prefix is one).
func TestServiceEventLog(t *testing.T) {
	source := fmt.Sprintf("egressprobe-test-%d", os.Getpid())
	if err := eventlog.InstallAsEventCreate(source, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
			t.Skipf("registering the event source %s needs an administrator: %v", source, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eventlog.Remove(source) })
	elog, err := eventlog.Open(source)
	if err != nil {
		t.Fatal(err)
	}
	defer elog.Close()
	since := time.Now().Add(-time.Second)

	dir := testenv.TempDir(t)
	refused := testnet.TCPClosed(t, "127.0.0.1")
	logFile := filepath.Join(dir, "probes.jsonl")
	good := writeServiceConfig(t, dir, "good.yaml", fmt.Sprintf("version: 1\nschedule: {interval: 1s}\ntargets: [\"%s\"]\nresolvers: [127.0.0.1]\n"+
		"proxy: none\ntimeout: 2s\nlog: {file: '%s'}\nmetrics: {listen: \"off\"}\n", refused, logFile))
	running := startServiceHandler(t, elog, good)
	waitForText(t, logFile, `"type":"transition"`)
	running.stop(t)

	bad := writeServiceConfig(t, dir, "bad.yaml", "version: 1\nschedule:\n  intervall: 5s\n")
	if ended := startServiceHandler(t, elog, bad).wait(t); ended != [2]any{true, uint32(2)} {
		t.Errorf("a bad config: Execute returned %v, want (true, 2): the service manager's recovery restarts it", ended)
	}

	events, err := readEventLog(source, since)
	if err != nil {
		t.Fatalf("reading the Application log back: %v", err)
	}
	if len(events) == 0 && testenv.UnderWine() {
		t.Skip(wineEventLog)
	}
	if err := matchServiceEvents(events); err != nil {
		t.Error(err)
	}
}

func writeServiceConfig(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// handlerRun is a serviceHandler's Execute running in a goroutine, with the
// channels the service manager would hold.
type handlerRun struct {
	req    chan svc.ChangeRequest
	status chan svc.Status
	ended  chan [2]any
}

func startServiceHandler(t *testing.T, elog *eventlog.Log, config string) *handlerRun {
	t.Helper()
	deps, err := daemonDeps(&streams{Out: os.Stdout, Err: os.Stderr, Getenv: func(string) string { return "" }}, &daemonOptions{config: config})
	if err != nil {
		t.Fatal(err)
	}
	deps.Log = eventLogger(elog)
	h := &serviceHandler{deps: deps, reload: make(chan struct{}), elog: elog}
	r := &handlerRun{req: make(chan svc.ChangeRequest), status: make(chan svc.Status, 8), ended: make(chan [2]any, 1)}
	go func() {
		special, code := h.Execute(nil, r.req, r.status)
		r.ended <- [2]any{special, code}
	}()
	return r
}

// stop asks a running handler to stop, as the service manager does, and
// checks it ends cleanly.
func (r *handlerRun) stop(t *testing.T) {
	t.Helper()
	for st := range r.status {
		if st.State == svc.Running {
			break
		}
	}
	r.req <- svc.ChangeRequest{Cmd: svc.Stop}
	if ended := r.wait(t); ended != [2]any{false, uint32(0)} {
		t.Errorf("after Stop, Execute returned %v, want (false, 0)", ended)
	}
}

func (r *handlerRun) wait(t *testing.T) [2]any {
	t.Helper()
	select {
	case e := <-r.ended:
		return e
	case <-time.After(60 * time.Second):
		t.Fatal("the service handler did not return within 60 s")
		return [2]any{}
	}
}

// waitForText waits for a file to contain text.
func waitForText(t *testing.T, file, text string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(file)
		if strings.Contains(string(b), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in %s within 60 s:\n%s", text, file, b)
		}
	}
}

// levels are the event types by the names serviceEvents use.
var levels = map[uint16]string{
	windows.EVENTLOG_INFORMATION_TYPE: "info", windows.EVENTLOG_WARNING_TYPE: "warning", windows.EVENTLOG_ERROR_TYPE: "error",
}

var (
	advapi32               = windows.NewLazySystemDLL("advapi32.dll")
	procOpenEventLogW      = advapi32.NewProc("OpenEventLogW")
	procReadEventLogW      = advapi32.NewProc("ReadEventLogW")
	procCloseEventLog      = advapi32.NewProc("CloseEventLog")
	errReadEventLogNoBytes = errors.New("ReadEventLogW read nothing")
)

// ReadEventLogW's flags (winnt.h), not in x/sys/windows.
const (
	eventlogSequentialRead = 0x1
	eventlogForwardsRead   = 0x4
)

// eventLogRecord is the fixed head of an EVENTLOGRECORD; the source name
// follows it, the strings are at StringOffset.
type eventLogRecord struct {
	Length, Reserved, RecordNumber, TimeGenerated, TimeWritten, EventID uint32
	EventType, NumStrings, EventCategory, ReservedFlags                 uint16
	ClosingRecordNumber, StringOffset, UserSidLength, UserSidOffset     uint32
	DataLength, DataOffset                                              uint32
}

// readEventLog reads the Application log from the start and returns the
// events of source written since then, in order.
func readEventLog(source string, since time.Time) ([]event, error) {
	name, _ := windows.UTF16PtrFromString("Application")
	h, _, err := procOpenEventLogW.Call(0, uintptr(unsafe.Pointer(name)))
	if h == 0 {
		return nil, fmt.Errorf("OpenEventLogW(Application): %w", err)
	}
	defer procCloseEventLog.Call(h)
	var out []event
	buf := make([]byte, 64<<10)
	for {
		var read, need uint32
		ok, _, err := procReadEventLogW.Call(h, eventlogSequentialRead|eventlogForwardsRead, 0,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(unsafe.Pointer(&read)), uintptr(unsafe.Pointer(&need)))
		switch {
		case ok != 0 && read == 0:
			return nil, errReadEventLogNoBytes
		case ok != 0:
			out = append(out, parseEventRecords(buf[:read], source, since)...)
			continue
		case errors.Is(err, windows.ERROR_HANDLE_EOF):
			return out, nil
		case errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER):
			buf = make([]byte, need)
			continue
		}
		return nil, fmt.Errorf("ReadEventLogW: %w", err)
	}
}

// parseEventRecords decodes the EVENTLOGRECORDs in b, keeping those of
// source written since since.
func parseEventRecords(b []byte, source string, since time.Time) []event {
	var out []event
	for len(b) >= int(unsafe.Sizeof(eventLogRecord{})) {
		rec := (*eventLogRecord)(unsafe.Pointer(&b[0]))
		if rec.Length == 0 || int(rec.Length) > len(b) {
			break
		}
		body := unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), rec.Length/2)
		head := int(unsafe.Sizeof(eventLogRecord{})) / 2
		src, _ := utf16z(body[head:])
		if src == source && !time.Unix(int64(rec.TimeGenerated), 0).Before(since.Truncate(time.Second)) {
			var texts []string
			rest := body[rec.StringOffset/2:]
			for range rec.NumStrings {
				var s string
				s, rest = utf16z(rest)
				texts = append(texts, s)
			}
			out = append(out, event{level: levels[rec.EventType], text: strings.Join(texts, " ")})
		}
		b = b[rec.Length:]
	}
	return out
}

// utf16z splits a NUL-terminated UTF-16 string off u.
func utf16z(u []uint16) (string, []uint16) {
	for i, c := range u {
		if c == 0 {
			return windows.UTF16ToString(u[:i]), u[i+1:]
		}
	}
	return windows.UTF16ToString(u), nil
}
