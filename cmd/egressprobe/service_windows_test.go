//go:build windows

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/mgr"

	"egressprobe/internal/testenv"
	"egressprobe/internal/testnet"
)

// TestWindowsService installs the daemon as a service, starts it, sees it
// Running and probing (records in its log), stops it and removes it,
// through the real service manager: under Wine's (.ci/wine/test, where the
// prefix is the test's own) or, with EGRESSPROBE_SERVICE_TEST=1, on a
// Windows machine as an administrator.
func TestWindowsService(t *testing.T) {
	if os.Getenv("EGRESSPROBE_EXE") == "" && os.Getenv("EGRESSPROBE_SERVICE_TEST") != "1" {
		t.Skip("installs a Windows service: runs under .ci/wine/test, or set EGRESSPROBE_SERVICE_TEST=1 as an administrator")
	}
	name := fmt.Sprintf("egressprobe-test-%d", os.Getpid())
	cfg, logFile := serviceTestConfig(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary(t), append(append([]string{"service"}, args...), "--name", name)...).CombinedOutput()
		if err != nil {
			t.Fatalf("service %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("install", "--config", cfg)
	t.Cleanup(func() { _ = exec.Command(binary(t), "service", "uninstall", "--name", name).Run() })
	t.Logf("install said:\n%s", out)
	if !strings.Contains(out, "on failure: restart after 10 s, 30 s, then every 60 s") {
		t.Errorf("install did not set the recovery actions")
	}
	if !strings.Contains(out, "installed service "+name) || !strings.Contains(out, "WinHTTP") {
		t.Errorf("install said:\n%s\nwant the service named and the proxy it sees (WinHTTP)", out)
	}
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	checkServiceEntry(t, m, name, cfg)

	if out := run("start"); !strings.Contains(out, "is running") {
		t.Errorf("start said %q", out)
	}
	if out := run("status"); !strings.Contains(out, ": Running") {
		t.Errorf("status said %q, want Running", out)
	}
	waitForServiceResult(t, logFile)
	if out := run("stop"); !strings.Contains(out, "is stopped") {
		t.Errorf("stop said %q", out)
	}
	if out := run("status"); !strings.Contains(out, ": Stopped") {
		t.Errorf("status after stop said %q, want Stopped", out)
	}
	b, _ := os.ReadFile(logFile)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); !strings.Contains(lines[len(lines)-1], `"event":"stop"`) {
		t.Errorf("the log does not end with the stop record: %s", lines[len(lines)-1])
	}
	run("uninstall")
	if sv, err := m.OpenService(name); err == nil {
		sv.Close()
		t.Error("the service is still installed after uninstall")
	}
}

// serviceTestConfig writes the service's daemon config, probing a refused
// port every second into its own log file, and returns the config's path
// and the log's.
func serviceTestConfig(t *testing.T) (cfg, logFile string) {
	dir := testenv.TempDir(t)
	refused := testnet.TCPClosed(t, "127.0.0.1")
	logFile = filepath.Join(dir, "logs", "probes.jsonl")
	cfg = writeServiceConfig(t, dir, "daemon.yaml", fmt.Sprintf("version: 1\nschedule: {interval: 1s}\ntargets: [\"%s\"]\nresolvers: [127.0.0.1]\nproxy: none\ntimeout: 2s\nlog: {file: '%s'}\nmetrics: {listen: \"off\"}\n",
		refused, logFile))
	return cfg, logFile
}

// checkServiceEntry: the service manager knows name, and its registry entry
// starts it automatically running 'service run --config cfg' (sv.Config's
// QueryServiceConfig2 levels are not all in Wine's service manager).
func checkServiceEntry(t *testing.T, m *mgr.Mgr, name, cfg string) {
	t.Helper()
	sv, err := m.OpenService(name)
	if err != nil {
		t.Fatalf("the service manager does not know %s: %v", name, err)
	}
	sv.Close()
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\`+name, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	image, _, _ := k.GetStringValue("ImagePath")
	start, _, _ := k.GetIntegerValue("Start")
	k.Close()
	if start != mgr.StartAutomatic || !strings.Contains(image, cfg) || !strings.Contains(image, "service run") {
		t.Errorf("service entry: start %d, image %q; want automatic start running 'service run --config %s'", start, image, cfg)
	}
}

// waitForServiceResult waits up to 60 s for the running service to log a
// tcp_refused result to logFile.
func waitForServiceResult(t *testing.T, logFile string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(logFile)
		if strings.Contains(string(b), `"type":"result"`) && strings.Contains(string(b), `"status":"tcp_refused"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service wrote no result to %s in 60 s:\n%s", logFile, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
