package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"egressprobe/internal/quote"
	"egressprobe/render"
	"egressprobe/servicetags"
)

func newServiceTagsCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "servicetags",
		Aliases: []string{"service-tags"},
		Short:   "Azure service tags: update the cached feed, look up IPs, export, diff, NSG rules",
		Long: `Work with Microsoft's weekly "Azure IP Ranges and Service Tags" feeds. 'update' caches the
current feed of a cloud in the user cache directory; 'lookup', 'export' and 'nsg-rules' read it
(or --service-tags FILE).`,
	}
	cmd.AddCommand(newSTUpdateCmd(s), newSTLookupCmd(s), newSTExportCmd(s), newSTDiffCmd(s), newSTNSGRulesCmd(s))
	return cmd
}

// feedOptions choose the feed that lookup and export read.
type feedOptions struct {
	cloud string
	file  string
}

func (o *feedOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.cloud, "cloud", "public", "`CLOUD` of the cached feed: public, china, usgov, germany")
	f.StringVar(&o.file, "service-tags", "", "read this ServiceTags_*.json `FILE` instead of the cached feed")
}

// complete makes the shell complete --cloud.
func (o *feedOptions) complete(cmd *cobra.Command) { completeWith(cmd, "cloud", stClouds()...) }

// stClouds are the --cloud values of the servicetags commands.
func stClouds() []string {
	var out []string
	for _, c := range servicetags.Clouds() {
		out = append(out, c.ID)
	}
	return out
}

// load reads --service-tags FILE (a bad file is bad input: exit 2) or the
// cached feed of --cloud (missing or damaged: exit 1).
func (o *feedOptions) load() (*servicetags.Feed, error) {
	if o.file != "" {
		f, err := servicetags.LoadFile(o.file)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--service-tags: %w", err)}
		}
		return f, nil
	}
	c, cl, err := o.cache()
	if err != nil {
		return nil, err
	}
	f, _, err := c.Load(cl)
	return f, err
}

// cache is the user cache and the --cloud whose feed it holds.
func (o *feedOptions) cache() (servicetags.Cache, servicetags.Cloud, error) {
	cl, err := servicetags.ParseCloud(o.cloud)
	if err != nil {
		return servicetags.Cache{}, cl, flagErrorf("--cloud", "%v", err)
	}
	c, err := servicetags.DefaultCache()
	return c, cl, err
}

// index is load's feed as an index; from the cache it is built from the
// compact form's sorted plan, the fastest way in.
func (o *feedOptions) index() (*servicetags.Index, error) {
	if o.file != "" {
		f, err := o.load()
		if err != nil {
			return nil, err
		}
		return servicetags.NewIndex(f), nil
	}
	c, cl, err := o.cache()
	if err != nil {
		return nil, err
	}
	ix, _, err := c.LoadIndex(cl)
	return ix, err
}

// --- update ---

type stUpdateOptions struct {
	cloud   string
	source  string
	force   bool
	timeout time.Duration
	output  string
}

func newSTUpdateCmd(s *streams) *cobra.Command {
	opts := &stUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the current service-tag feed of a cloud into the cache",
		Long: `Find this week's ServiceTags_<Cloud>_<date>.json on Microsoft's download page, download it
(conditionally: an unchanged file is not fetched again), validate it and replace the cached copy
atomically. A feed older than the cached one is refused unless --force. On failure the cached
copy is kept and its age printed. --source URL|FILE skips the download page.`,
		Example: `  egressprobe servicetags update
  egressprobe servicetags update --cloud usgov
  egressprobe servicetags update --source ./ServiceTags_Public_20250908.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSTUpdate(c.Context(), s, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.cloud, "cloud", "public", "`CLOUD`: public, china, usgov, germany")
	f.StringVar(&opts.source, "source", "", "take the feed from this https `URL` or FILE instead of Microsoft's download page")
	f.BoolVar(&opts.force, "force", false, "install a feed even if its changeNumber is older than the cached one")
	f.DurationVar(&opts.timeout, "timeout", 2*time.Minute, "overall time limit, retries included: a `DURATION` such as 2m")
	f.StringVarP(&opts.output, "output", "o", "table", "output `FORMAT`: "+strings.Join(render.ServiceTagsFormats(), ", "))
	completeWith(cmd, "cloud", stClouds()...)
	completeWith(cmd, "output", render.ServiceTagsFormats()...)
	return cmd
}

func runSTUpdate(ctx context.Context, s *streams, opts *stUpdateOptions) error {
	if err := oneOf("-o", "output format", opts.output, render.ServiceTagsFormats()); err != nil {
		return err
	}
	cl, err := servicetags.ParseCloud(opts.cloud)
	if err != nil {
		return flagErrorf("--cloud", "%v", err)
	}
	if opts.timeout <= 0 {
		return flagErrorf("--timeout", "%v is not a positive duration; give e.g. 2m", opts.timeout)
	}
	c, err := servicetags.DefaultCache()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	u := &servicetags.Updater{Cache: c, Force: opts.force}
	res, err := u.Update(ctx, cl, opts.source)
	if err != nil {
		err = fmt.Errorf("updating %s service tags: %w; %s", cl.ID, err, cachedCopyLine(c, cl))
		// A bad file the user handed us is bad input; a bad download is a failure.
		if opts.source != "" && !servicetags.IsURL(opts.source) && (errors.Is(err, servicetags.ErrInvalid) || errors.Is(err, os.ErrNotExist)) {
			return &usageError{err}
		}
		return err
	}
	return render.ServiceTagsUpdate(s.Out, render.UpdateView{
		Cloud: cl.ID, Status: string(res.Status), ChangeNumber: res.ChangeNumber,
		PreviousChangeNumber: res.PreviousChangeNumber, Source: res.Source, Path: res.Path,
	}, opts.output)
}

// cachedCopyLine says what the user is left with after a failed update.
func cachedCopyLine(c servicetags.Cache, cl servicetags.Cloud) string {
	info, err := c.Stat(cl)
	if err != nil {
		return "no cached copy yet"
	}
	return fmt.Sprintf("kept the cached copy %s (%s old)", info.Path, ageText(time.Since(info.Modified)))
}

// ageText says how old a file is the way a person would: "3d4h", "5h10m", "2m".
func ageText(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
}

// --- lookup ---

type stLookupOptions struct {
	feed   feedOptions
	output string
}

func newSTLookupCmd(s *streams) *cobra.Command {
	opts := &stLookupOptions{}
	cmd := &cobra.Command{
		Use:   "lookup [IP...]",
		Short: "Show every service tag containing each IP (from the arguments, else stdin, one a line)",
		Long: `For each IP, list every service tag whose prefixes contain it, longest prefix first, with the
tag's region, system service and the matching prefix. Without arguments the IPs are read from
stdin, one a line (blank lines and lines starting with # are skipped).`,
		Example: `  egressprobe servicetags lookup 20.38.64.10 2603:1020:206::1
  dig +short backup.windowsazure.com | egressprobe servicetags lookup -o json`,
		RunE: func(c *cobra.Command, args []string) error { return runSTLookup(s, opts, args) },
	}
	opts.feed.bind(cmd.Flags())
	cmd.Flags().StringVarP(&opts.output, "output", "o", "table", "output `FORMAT`: "+strings.Join(render.ServiceTagsFormats(), ", "))
	opts.feed.complete(cmd)
	completeWith(cmd, "output", render.ServiceTagsFormats()...)
	return cmd
}

func runSTLookup(s *streams, opts *stLookupOptions, args []string) error {
	if err := oneOf("-o", "output format", opts.output, render.ServiceTagsFormats()); err != nil {
		return err
	}
	addrs, err := parseAddrs(args, s.In)
	if err != nil {
		return err
	}
	ix, err := opts.feed.index()
	if err != nil {
		return err
	}
	results := make([]render.LookupResult, len(addrs))
	for i, a := range addrs {
		results[i] = render.LookupResult{IP: a, Matches: ix.Lookup(a)}
	}
	return render.ServiceTagsLookup(s.Out, results, opts.output)
}

// parseAddrs reads the IPs from args, or from in when there are none.
func parseAddrs(args []string, in io.Reader) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if len(args) > 0 {
		for _, a := range args {
			addr, err := netip.ParseAddr(strings.TrimSpace(a))
			if err != nil {
				return nil, usageErrorf("argument %s is not an IP address", quote.Q(a))
			}
			addrs = append(addrs, addr)
		}
		return addrs, nil
	}
	sc := bufio.NewScanner(in)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		addr, err := netip.ParseAddr(line)
		if err != nil {
			return nil, usageErrorf("stdin line %d: %s is not an IP address", n, quote.Q(line))
		}
		addrs = append(addrs, addr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading IPs from stdin: %w", err)
	}
	if len(addrs) == 0 {
		return nil, usageErrorf("no IP addresses given: pass them as arguments or on stdin, one a line")
	}
	return addrs, nil
}

// --- export ---

type stExportOptions struct {
	feed       feedOptions
	tags       []string
	region     string
	ipv4, ipv6 bool
	format     string
	formatSet  bool // -f given, even as its default txt
	output     string
	name       string
	port       int
}

func newSTExportCmd(s *streams) *cobra.Command {
	opts := &stExportOptions{}
	cmd := &cobra.Command{
		Use:   "export --tag TAG[,TAG...]",
		Short: "Print the merged CIDRs of service tags, as a list or as firewall rules",
		Long: `Print the union of the tags' prefixes, merged to the fewest CIDRs: one a line (txt), CSV, JSON,
or ready-to-paste rules for nftables (nft -f), iptables with ipset, or Windows Firewall
(New-NetFirewallRule). With --region each tag is replaced by its regional variant
(Storage → Storage.WestEurope); tags without one are used whole (a note on stderr says which).`,
		Example: `  egressprobe servicetags export --tag AzureBackup,Storage,AzureActiveDirectory
  egressprobe servicetags export --tag AzureBackup,Storage --region westeurope --ipv4 -f nft > mars.nft`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.formatSet = c.Flags().Changed("format")
			return runSTExport(s, opts)
		},
	}
	f := cmd.Flags()
	opts.feed.bind(f)
	f.StringSliceVar(&opts.tags, "tag", nil, "service tags to export, `TAG[,TAG...]` (repeatable), e.g. AzureBackup,Storage")
	f.StringVar(&opts.region, "region", "", "use each tag's regional variant in `REGION`, e.g. westeurope")
	f.BoolVar(&opts.ipv4, "ipv4", false, "IPv4 prefixes only")
	f.BoolVar(&opts.ipv6, "ipv6", false, "IPv6 prefixes only")
	f.StringVarP(&opts.format, "format", "f", "txt", "output `FORMAT`: "+strings.Join(render.ExportFormats(), ", "))
	f.StringVarP(&opts.output, "output", "o", "", "the same as -f `FORMAT`, for table, json or csv like the other servicetags commands")
	f.StringVar(&opts.name, "name", "egressprobe-servicetags", "`NAME` of the nft table, ipsets and Windows rules")
	f.IntVar(&opts.port, "port", 443, "TCP `PORT` the nft/iptables/Windows rules allow")
	opts.feed.complete(cmd)
	completeRegion(cmd)
	completeWith(cmd, "format", render.ExportFormats()...)
	completeWith(cmd, "output", render.ServiceTagsFormats()...)
	return cmd
}

var ruleName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,30}$`)

func runSTExport(s *streams, opts *stExportOptions) error {
	if opts.output != "" {
		if err := oneOf("-o", "output format", opts.output, render.ServiceTagsFormats()); err != nil {
			return err
		}
		if opts.formatSet && !strings.EqualFold(opts.format, opts.output) {
			return flagErrorf("-o", "%s and -f %s disagree: give one of them", quote.Q(opts.output), quote.Q(opts.format))
		}
		opts.format = opts.output
	}
	if err := oneOf("-f", "format", opts.format, render.ExportFormats()); err != nil {
		return err
	}
	if opts.ipv4 && opts.ipv6 {
		return usageErrorf("--ipv4 and --ipv6 exclude each other; give neither for both families")
	}
	if len(opts.tags) == 0 {
		return flagErrorf("--tag", "required, e.g. --tag AzureBackup,Storage,AzureActiveDirectory")
	}
	if !ruleName.MatchString(opts.name) {
		return flagErrorf("--name", "%s is not a rule name; use a letter then up to 30 letters, digits, - or _ (it names ipsets and nft tables)", quote.Q(opts.name))
	}
	if opts.port < 1 || opts.port > 65535 {
		return flagErrorf("--port", "%d is not a port; give 1 to 65535", opts.port)
	}
	f, err := opts.feed.load()
	if err != nil {
		return err
	}
	fam := servicetags.BothFamilies
	switch {
	case opts.ipv4:
		fam = servicetags.IPv4Only
	case opts.ipv6:
		fam = servicetags.IPv6Only
	}
	ex, err := f.Export(servicetags.ExportRequest{Tags: opts.tags, Region: opts.region, Family: fam})
	if errors.Is(err, servicetags.ErrUnknownTag) {
		return &usageError{err}
	}
	if err != nil {
		return err
	}
	if len(ex.Global) > 0 {
		fmt.Fprintf(s.Err, "egressprobe: note: %s has no tag for region %s; exported whole\n", strings.Join(ex.Global, ", "), opts.region)
	}
	return render.ServiceTagsExport(s.Out, ex, opts.format, render.ExportOptions{Name: opts.name, Port: opts.port})
}

// --- diff ---

type stDiffOptions struct {
	tags   []string
	output string
}

func newSTDiffCmd(s *streams) *cobra.Command {
	opts := &stDiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show the prefixes added and removed per tag between two service-tag files",
		Example: `  egressprobe servicetags diff ServiceTags_Public_20250901.json ServiceTags_Public_20250908.json
  egressprobe servicetags diff old.json new.json --tag AzureBackup,Storage -o json`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error { return runSTDiff(s, opts, args[0], args[1]) },
	}
	cmd.Flags().StringSliceVar(&opts.tags, "tag", nil, "only these tags, `TAG[,TAG...]` (exact names; repeatable)")
	cmd.Flags().StringVarP(&opts.output, "output", "o", "table", "output `FORMAT`: "+strings.Join(render.ServiceTagsFormats(), ", "))
	completeWith(cmd, "output", render.ServiceTagsFormats()...)
	return cmd
}

func runSTDiff(s *streams, opts *stDiffOptions, oldPath, newPath string) error {
	if err := oneOf("-o", "output format", opts.output, render.ServiceTagsFormats()); err != nil {
		return err
	}
	var feeds [2]*servicetags.Feed
	for i, p := range []string{oldPath, newPath} {
		f, err := servicetags.LoadFile(p)
		if err != nil {
			return &usageError{err}
		}
		feeds[i] = f
	}
	if feeds[0].Cloud != feeds[1].Cloud {
		fmt.Fprintf(s.Err, "egressprobe: warning: %s is the %s feed and %s the %s feed: the diff compares two clouds, not two weeks of one\n",
			oldPath, feeds[0].Cloud, newPath, feeds[1].Cloud)
	}
	d, err := servicetags.Diff(feeds[0], feeds[1], opts.tags)
	if err != nil {
		return &usageError{err}
	}
	return render.ServiceTagsDiff(s.Out, d, opts.output)
}

// --- nsg-rules ---

type stNSGOptions struct {
	nsg, resourceGroup string
	priority           int
	output             string
}

// nsgTags are the service tags of the documented NSG set-up for the MARS agent.
var nsgTags = []string{"AzureBackup", "Storage", "AzureActiveDirectory"}

// azName is what we accept for NSG and resource-group names, so the printed
// commands need no shell quoting.
var azName = regexp.MustCompile(`^[A-Za-z0-9_.()-]{1,90}$`)

func newSTNSGRulesCmd(s *streams) *cobra.Command {
	opts := &stNSGOptions{}
	cmd := &cobra.Command{
		Use:   "nsg-rules --nsg NAME --resource-group RG",
		Short: "Print the az CLI commands creating the outbound NSG rules the MARS agent needs",
		Long: `Print 'az network nsg rule create' commands allowing outbound TCP 443 to the AzureBackup,
Storage and AzureActiveDirectory service tags, one rule each with distinct priorities
(from --priority, step 10). -o sh (default) prints the commands; table, json and csv list the rules.`,
		Example: `  egressprobe servicetags nsg-rules --nsg backup-nsg --resource-group rg-backup
  egressprobe servicetags nsg-rules --nsg backup-nsg --resource-group rg-backup --priority 300 -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSTNSGRules(s, opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.nsg, "nsg", "", "network security group `NAME` (required)")
	f.StringVar(&opts.resourceGroup, "resource-group", "", "resource group `NAME` of the NSG (required)")
	f.IntVar(&opts.priority, "priority", 100, "`PRIORITY` of the first rule; the others follow in steps of 10")
	f.StringVarP(&opts.output, "output", "o", "sh", "output `FORMAT`: "+strings.Join(render.NSGRulesFormats(), ", "))
	completeWith(cmd, "output", render.NSGRulesFormats()...)
	return cmd
}

func runSTNSGRules(s *streams, opts *stNSGOptions) error {
	if err := oneOf("-o", "output format", opts.output, render.NSGRulesFormats()); err != nil {
		return err
	}
	for _, v := range []struct{ flag, val string }{{"--nsg", opts.nsg}, {"--resource-group", opts.resourceGroup}} {
		if !azName.MatchString(v.val) {
			return flagErrorf(v.flag, "%s is not a name; give one of letters, digits and _ . ( ) - (required)", quote.Q(v.val))
		}
	}
	last := opts.priority + 10*(len(nsgTags)-1)
	if opts.priority < 100 || last > 4096 {
		return flagErrorf("--priority", "%d: NSG priorities run from 100 to 4096 and %d rules need %d..%d", opts.priority, len(nsgTags), opts.priority, last)
	}
	return render.ServiceTagsNSGRules(s.Out, nsgRules(opts.nsg, opts.resourceGroup, opts.priority), opts.output)
}

func nsgRules(nsg, rg string, priority int) []render.NSGRule {
	rules := make([]render.NSGRule, len(nsgTags))
	for i, tag := range nsgTags {
		r := render.NSGRule{Name: "Allow-" + tag + "-Outbound-443", Priority: priority + 10*i, Tag: tag}
		r.Command = fmt.Sprintf("az network nsg rule create --resource-group %s --nsg-name %s --name %s --priority %d"+
			" --direction Outbound --access Allow --protocol Tcp --source-address-prefixes VirtualNetwork --source-port-ranges '*'"+
			" --destination-address-prefixes %s --destination-port-ranges 443 --description 'MARS agent: HTTPS to %s'",
			rg, nsg, r.Name, r.Priority, tag, tag)
		rules[i] = r
	}
	return rules
}
