//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"egressprobe/daemon"
	"egressprobe/proxy"
)

// programDataDir is %ProgramData%\egressprobe: a service starts in System32,
// so its config and logs need absolute paths of their own.
func programDataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "egressprobe")
}

// serviceConfigTemplate is the config install writes when none exists; %s
// are the log file and the service-tag cache folder (single-quoted YAML
// keeps the backslashes).
const serviceConfigTemplate = `# egressprobe daemon config, written by 'egressprobe service install'.
# Edit it, check it with 'egressprobe daemon --config THIS_FILE --check-config',
# then 'egressprobe service stop' and 'egressprobe service start'.
# Every key: README, "Scheduled probes".
version: 1
schedule: {interval: 60s, jitter: 10%%}
cloud: public
# region: westeurope
proxy: auto
log:
  file: '%s'
service_tags:
  cache_dir: '%s'
metrics:
  listen: 127.0.0.1:9469
`

// recoveryActions restart a failed service after 10 s, 30 s, then every
// 60 s; the failure count resets after a day without one.
var recoveryActions = []mgr.RecoveryAction{
	{Type: mgr.ServiceRestart, Delay: 10 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 60 * time.Second},
}

const recoveryReset = 24 * 60 * 60 // seconds

func serviceInstall(s *streams, o *serviceOptions) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding egressprobe.exe: %w", err)
	}
	cfg := o.config
	if cfg == "" {
		cfg = filepath.Join(programDataDir(), "egressprobe.yaml")
		if err := writeDefaultServiceConfig(s, cfg); err != nil {
			return err
		}
	}
	if cfg, err = filepath.Abs(cfg); err != nil {
		return usageErrorf("--config: %v", err)
	}
	// A service cannot say what is wrong with its config as well as this
	// console can: check it now.
	deps, err := daemonDeps(s, &daemonOptions{config: cfg})
	if err != nil {
		return err
	}
	c, _, err := daemon.Load(&deps)
	if err != nil {
		return daemonError(err)
	}
	if c.Log.File == "" {
		return usageErrorf("%s: a service has no console: set log.file (e.g. %s)", cfg, filepath.Join(programDataDir(), "logs", "probes.jsonl"))
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service manager (run as an administrator): %w", err)
	}
	defer m.Disconnect()
	if old, err := m.OpenService(o.name); err == nil {
		old.Close()
		return usageErrorf("service %s is already installed; 'egressprobe service uninstall --name %s' first", o.name, o.name)
	}
	sv, err := m.CreateService(o.name, exe, mgr.Config{
		DisplayName: "egressprobe daemon (" + o.name + ")",
		Description: "Scheduled egress probes of the MARS agent's endpoints: JSON-lines evidence and Prometheus metrics.",
		StartType:   mgr.StartAutomatic,
	}, "service", "run", "--name", o.name, "--config", cfg)
	if err != nil {
		return fmt.Errorf("creating service %s: %w", o.name, err)
	}
	defer sv.Close()
	recovery := "restart after 10 s, 30 s, then every 60 s"
	if err := sv.SetRecoveryActions(recoveryActions, recoveryReset); err != nil {
		recovery = fmt.Sprintf("NOT set (%v): set them in services.msc, Recovery tab", err)
	}
	if err := eventlog.InstallAsEventCreate(o.name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil && !strings.Contains(err.Error(), "exists") {
		fmt.Fprintf(s.Err, "egressprobe: the event log source %s was not registered: %v\n", o.name, err)
	}
	fmt.Fprintf(s.Out, "installed service %s (automatic start)\nbinary: %s\nconfig: %s\non failure: %s\n%s\nstart it: egressprobe service start --name %s\n",
		o.name, exe, cfg, recovery, serviceProxyNote(proxy.ReadSystem()), o.name)
	return nil
}

// writeDefaultServiceConfig writes the starting config at path unless a
// file is there already.
func writeDefaultServiceConfig(s *streams, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	dir := filepath.Dir(path)
	text := fmt.Sprintf(serviceConfigTemplate, filepath.Join(dir, "logs", "probes.jsonl"), filepath.Join(dir, "servicetags"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(s.Out, "wrote a starting config: %s\n", path)
	return nil
}

func serviceUninstall(s *streams, o *serviceOptions) error {
	return withService(o.name, func(sv *mgr.Service) error {
		if st, err := sv.Query(); err == nil && st.State != svc.Stopped {
			if err := stopAndWait(sv); err != nil {
				return err
			}
		}
		if err := sv.Delete(); err != nil {
			return fmt.Errorf("removing service %s: %w", o.name, err)
		}
		_ = eventlog.Remove(o.name)
		fmt.Fprintf(s.Out, "removed service %s (its config and logs stay in %s)\n", o.name, programDataDir())
		return nil
	})
}

// serviceWait bounds how long start and stop wait for the service: a stop
// takes at most one probe timeout, 10 s by default.
const serviceWait = 60 * time.Second

func serviceStart(s *streams, o *serviceOptions) error {
	return withService(o.name, func(sv *mgr.Service) error {
		if err := sv.Start(); err != nil {
			return fmt.Errorf("starting service %s: %w", o.name, err)
		}
		if err := waitState(sv, svc.Running); err != nil {
			return fmt.Errorf("service %s: %w; the Application event log says why", o.name, err)
		}
		fmt.Fprintf(s.Out, "service %s is running\n", o.name)
		return nil
	})
}

func serviceStop(s *streams, o *serviceOptions) error {
	return withService(o.name, func(sv *mgr.Service) error {
		if err := stopAndWait(sv); err != nil {
			return fmt.Errorf("service %s: %w", o.name, err)
		}
		fmt.Fprintf(s.Out, "service %s is stopped\n", o.name)
		return nil
	})
}

func serviceStatus(s *streams, o *serviceOptions) error {
	return withService(o.name, func(sv *mgr.Service) error {
		st, err := sv.Query()
		if err != nil {
			return fmt.Errorf("querying service %s: %w", o.name, err)
		}
		fmt.Fprintf(s.Out, "service %s: %s", o.name, stateName(st.State))
		if st.ProcessId != 0 {
			fmt.Fprintf(s.Out, " (pid %d)", st.ProcessId)
		}
		fmt.Fprintln(s.Out)
		if c, err := sv.Config(); err == nil {
			fmt.Fprintf(s.Out, "command: %s\n", c.BinaryPathName)
		}
		fmt.Fprintln(s.Out, serviceProxyNote(proxy.ReadSystem()))
		return nil
	})
}

// withService runs f on the installed service name.
func withService(name string, f func(*mgr.Service) error) error {
	m, sv, err := openService(name)
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer sv.Close()
	return f(sv)
}

func openService(name string) (*mgr.Mgr, *mgr.Service, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the service manager (run as an administrator): %w", err)
	}
	sv, err := m.OpenService(name)
	if err != nil {
		m.Disconnect()
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			return nil, nil, usageErrorf("service %s is not installed; 'egressprobe service install' first", name)
		}
		return nil, nil, fmt.Errorf("opening service %s: %w", name, err)
	}
	return m, sv, nil
}

func stopAndWait(sv *mgr.Service) error {
	st, err := sv.Control(svc.Stop)
	if err != nil {
		if errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
			return nil
		}
		return fmt.Errorf("stopping: %w", err)
	}
	if st.State == svc.Stopped {
		return nil
	}
	return waitState(sv, svc.Stopped)
}

func waitState(sv *mgr.Service, want svc.State) error {
	deadline := time.Now().Add(serviceWait)
	for {
		st, err := sv.Query()
		if err != nil {
			return err
		}
		if st.State == want {
			return nil
		}
		if want == svc.Running && st.State == svc.Stopped {
			return fmt.Errorf("stopped while starting (exit code %d)", st.ServiceSpecificExitCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still %s after %v", stateName(st.State), serviceWait)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "Stopped"
	case svc.StartPending:
		return "StartPending"
	case svc.StopPending:
		return "StopPending"
	case svc.Running:
		return "Running"
	case svc.ContinuePending:
		return "ContinuePending"
	case svc.PausePending:
		return "PausePending"
	case svc.Paused:
		return "Paused"
	}
	return fmt.Sprintf("state %d", s)
}

// serviceRun is the service's process: the daemon, stopped by the service
// manager, reloaded by a parameter change ('sc control NAME paramchange'),
// logging to the event log.
func serviceRun(s *streams, o *serviceOptions) error {
	elog, err := eventlog.Open(o.name)
	if err != nil {
		return err
	}
	defer elog.Close()
	deps, err := daemonDeps(s, &daemonOptions{config: o.config})
	if err != nil {
		_ = elog.Error(1, err.Error())
		return err
	}
	deps.Log = eventLogger(elog)
	reload := make(chan struct{})
	deps.Reload = reload
	h := &serviceHandler{deps: deps, reload: reload, elog: elog}
	// Not svc.IsWindowsService first: it guesses from the parent process,
	// which Wine's service manager does not satisfy. Run tells for sure.
	if err := svc.Run(o.name, h); err != nil {
		if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
			return usageErrorf("service run is what the service manager starts; in a console run 'egressprobe daemon --config FILE'")
		}
		return err
	}
	return nil
}

// eventLogger is the service's log: each line an event of the service's
// source in the Application log, at its level.
func eventLogger(elog *eventlog.Log) *slog.Logger {
	return slog.New(slog.NewTextHandler(eventLogWriter{elog}, nil))
}

// eventLogWriter sends each log line (slog's text handler writes one line
// a call) to the event log at its level.
type eventLogWriter struct{ elog *eventlog.Log }

func (w eventLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	switch {
	case strings.Contains(line, " level=ERROR "):
		_ = w.elog.Error(3, line)
	case strings.Contains(line, " level=WARN "):
		_ = w.elog.Warning(2, line)
	default:
		_ = w.elog.Info(1, line)
	}
	return len(p), nil
}

type serviceHandler struct {
	deps   daemon.Deps
	reload chan struct{}
	elog   *eventlog.Log
}

// Execute runs the daemon until the service manager stops it. A daemon that
// ends by itself (a bad config, a metrics port taken) exits non-zero, so the
// recovery actions restart it.
func (h *serviceHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	d, err := daemon.New(h.deps)
	if err != nil {
		_ = h.elog.Error(3, "egressprobe daemon cannot start: "+err.Error())
		return true, 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown | svc.AcceptParamChange}
	for {
		select {
		case err := <-done:
			if err != nil {
				_ = h.elog.Error(3, "egressprobe daemon ended: "+err.Error())
				return true, 1
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				if err := <-done; err != nil {
					_ = h.elog.Error(3, "egressprobe daemon stopping: "+err.Error())
				}
				return false, 0
			case svc.ParamChange:
				go func() {
					select {
					case h.reload <- struct{}{}:
					case <-ctx.Done():
					}
				}()
			}
		}
	}
}
