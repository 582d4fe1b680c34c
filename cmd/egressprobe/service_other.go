//go:build !windows

package main

func errNotWindows() error {
	return usageErrorf("egressprobe service is for Windows; on Linux install the systemd unit in deploy/systemd (README, \"Scheduled probes\")")
}

func serviceInstall(*streams, *serviceOptions) error   { return errNotWindows() }
func serviceUninstall(*streams, *serviceOptions) error { return errNotWindows() }
func serviceStart(*streams, *serviceOptions) error     { return errNotWindows() }
func serviceStop(*streams, *serviceOptions) error      { return errNotWindows() }
func serviceStatus(*streams, *serviceOptions) error    { return errNotWindows() }
func serviceRun(*streams, *serviceOptions) error       { return errNotWindows() }
