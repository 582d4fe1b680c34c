package main

import (
	"github.com/spf13/cobra"

	"egressprobe/targets"
)

// newTargetsFileHelp is the help topic 'egressprobe help targets-file': the
// formats of a --targets file and the keys of its YAML form.
func newTargetsFileHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "targets-file",
		Short: "The format of a --targets file and the keys of its YAML form",
		Long: `A --targets FILE is UTF-8 (with or without a BOM) or UTF-16 with a BOM, as Windows
PowerShell's Out-File and Notepad's "Unicode" write it; CRLF line ends are fine.

Plain list: one target a line, written as on the command line (host, host:port, [v6]:port,
https://host/path, http://host/path); blank lines and # comments are ignored.

YAML: recognised by the extension .yaml or .yml, or by a first line (not blank, not a
comment) starting with "-", "---" or "targets:". A list of targets, at the top or under
one key "targets:". Keys of a target:

  host         the target, in the command-line syntax (required)
  port         1-65535; default 443 for https, 80 for http
  scheme       https (default) or http
  path         the URL path to GET after connecting, e.g. /health
  expect_tags  service tags an address must be in (any of them), e.g. [AzureBackup.WestEurope]
  expect_body  the body the GET must return exactly (path defaults to /)
  timeout      overrides --timeout for this target, e.g. 3s or 1500ms
  family       the group the target is shown under

Example:

  targets:
    - host: pod01-prot1.we.backup.windowsazure.com
      expect_tags: [AzureBackup.WestEurope]
      timeout: 3s
    - host: intranet.contoso.example
      scheme: http
      port: 8080
      path: /health
      expect_body: OK

A bad line is a usage error (exit 2) naming the file as given and the line.`,
	}
}

// completeWith makes the shell complete flag's value from values.
func completeWith(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completeRegion makes the shell complete --region with the regions of the
// --cloud given so far on the line.
func completeRegion(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("region", func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cloud := targets.CloudPublic
		if f := cmd.Flags().Lookup("cloud"); f != nil {
			cloud = f.Value.String()
		}
		rs, err := targets.Regions(cloud)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := make([]cobra.Completion, len(rs))
		for i, r := range rs {
			out[i] = cobra.CompletionWithDesc(r.Name, r.Display)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}
