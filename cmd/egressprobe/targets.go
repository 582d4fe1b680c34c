package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"egressprobe/render"
	"egressprobe/targets"
)

// targetsListOptions are the flags of `egressprobe targets list`.
type targetsListOptions struct {
	cloud           string
	region          string
	output          string
	members         []string
	storageAccounts []string
	vaults          []string
	privateEndpoint bool
}

func newTargetsCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "targets",
		Short: "Show the built-in endpoint catalogs",
	}
	cmd.AddCommand(newTargetsListCmd(s))
	return cmd
}

func newTargetsListCmd(s *streams) *cobra.Command {
	opts := &targetsListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print the endpoints the MARS agent needs in one cloud, and where each is documented",
		Long: `Print the endpoint catalog of one cloud: every firewall family (*.windowsazure.com, ...),
the concrete hosts probed for it, the service tags their addresses are expected in, and
the documentation each entry comes from. With --region, the vault's Azure Backup service
pods and the regional tags (AzureBackup.WestEurope, Storage.WestEurope) are included.
Families with no host to probe are listed under the table: name one with --member,
--storage-account or --region.`,
		Example: `  egressprobe targets list
  egressprobe targets list --cloud china --region chinaeast2
  egressprobe targets list --region "West Europe" --storage-account contosobackup -o csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runTargetsList(c.Context(), s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.cloud, "cloud", targets.CloudPublic, "`CLOUD`: "+strings.Join(targets.CloudNames(), ", "))
	f.StringVar(&opts.region, "region", "", "the vault's `REGION` (\"westeurope\", \"West Europe\")")
	f.StringVarP(&opts.output, "output", "o", "table", "output `FORMAT`: "+strings.Join(render.TargetsFormats(), ", "))
	f.StringArrayVar(&opts.members, "member", nil, "an extra `HOST` to list under its family (repeatable)")
	f.StringArrayVar(&opts.storageAccounts, "storage-account", nil, "a storage account `NAME`: NAME.blob.core... and NAME.queue.core... (repeatable)")
	f.StringArrayVar(&opts.vaults, "vault", nil, "a vault `ID` from its private endpoint FQDNs (<ID>-ab-pod01-...; repeatable; needs --region)")
	completeWith(cmd, "cloud", targets.CloudNames()...)
	completeRegion(cmd)
	completeWith(cmd, "output", render.TargetsFormats()...)
	f.BoolVar(&opts.privateEndpoint, "private-endpoint", false, "the --vault uses a private endpoint: list its names as required to resolve privately")
	return cmd
}

func runTargetsList(_ context.Context, s *streams, opts *targetsListOptions) error {
	if err := oneOf("-o", "output format", opts.output, render.TargetsFormats()); err != nil {
		return err
	}
	cloud, err := cloudRegion(opts.cloud, opts.region)
	if err != nil {
		return err
	}
	l := render.TargetsListing{Cloud: cloud}
	if opts.region != "" {
		r, _ := targets.LookupRegion(cloud, opts.region) // checked by cloudRegion
		l.Region, l.Geo, l.Pods = r.Display, r.Geo, r.Pods
	}
	eps, err := targets.Catalog(cloud, targets.Options{
		Region: opts.region, Members: opts.members, StorageAccounts: opts.storageAccounts, Vaults: opts.vaults,
		PrivateEndpoint: opts.privateEndpoint,
	})
	if err != nil {
		return usageErrorf("%w", err)
	}
	if l.Uncovered, err = targets.Uncovered(cloud, eps); err != nil {
		return err
	}
	l.Endpoints = eps
	return render.Targets(s.Out, l, opts.output)
}
