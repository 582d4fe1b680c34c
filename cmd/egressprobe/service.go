package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"egressprobe/proxy"
)

// serviceOptions are the flags of `egressprobe service ...`.
type serviceOptions struct {
	name   string
	config string
}

// defaultServiceName is the Windows service's name (and event log source).
const defaultServiceName = "egressprobe"

func newServiceCmd(s *streams) *cobra.Command {
	opts := &serviceOptions{}
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Install and control the daemon as a Windows service",
		Long: `service installs 'egressprobe daemon' as a Windows service (automatic start, restarted on failure,
start and stop in the Application event log) and controls it. The config and the logs live under
%ProgramData%\egressprobe: install writes a starting config there when --config names none.

A service runs as LocalSystem: with 'proxy: auto' it sees the WinHTTP proxy ('netsh winhttp show proxy'),
not your Internet Settings; install and status say which proxy that is. On Linux, use the systemd unit
in deploy/systemd (see the README, "Scheduled probes").`,
		Example: `  egressprobe service install
  egressprobe service install --config C:\ProgramData\egressprobe\egressprobe.yaml
  egressprobe service start
  egressprobe service status`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.name, "name", defaultServiceName, "the service's `NAME` (one per config)")
	sub := func(use, short string, run func(*streams, *serviceOptions) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return run(s, opts) }}
	}
	install := sub("install", "Install the service (automatic start, restart on failure) and its event log source", serviceInstall)
	install.Flags().StringVar(&opts.config, "config", "", `the daemon config `+"`FILE`"+` (default %ProgramData%\egressprobe\egressprobe.yaml, written when missing)`)
	run := sub("run", "What the service manager starts (not for a console: use 'egressprobe daemon')", serviceRun)
	run.Hidden = true
	run.Flags().StringVar(&opts.config, "config", "", "the daemon config `FILE`")
	cmd.AddCommand(
		install,
		sub("uninstall", "Stop and remove the service and its event log source", serviceUninstall),
		sub("start", "Start the service and wait until it runs", serviceStart),
		sub("stop", "Stop the service and wait until it has stopped", serviceStop),
		sub("status", "Say whether the service runs, its config, and which proxy it sees", serviceStatus),
		run,
	)
	return cmd
}

// serviceProxyNote says which proxy a service running as LocalSystem finds
// with proxy: auto — WinHTTP's, not the user's Internet Settings — from the
// settings the installing user's process reads (sys, and err reading them).
func serviceProxyNote(sys proxy.System, err error) string {
	var b strings.Builder
	b.WriteString("proxy: the service runs as LocalSystem; with 'proxy: auto' it uses the WinHTTP proxy ('netsh winhttp show proxy'): ")
	if sys.WinHTTP != nil {
		b.WriteString(sys.WinHTTP.Describe())
	} else {
		b.WriteString("none set, so the service connects directly")
	}
	b.WriteString(".")
	if sys.IE != nil && (sys.IE.Manual || sys.IE.AutoConfigURL != "" || sys.IE.AutoDetect) {
		fmt.Fprintf(&b, " Your Internet Settings (%s) are NOT what the service sees: a probe that works in your console can fail as the service. Give the service the same proxy with 'netsh winhttp set proxy HOST:PORT' or 'proxy: URL' in the config.", sys.IE.Describe())
	}
	if err != nil {
		fmt.Fprintf(&b, " (reading the proxy settings: %v)", err)
	}
	return proxy.Redact(b.String())
}
