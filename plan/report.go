package plan

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"egressprobe/internal/providers"
	"egressprobe/probe"
	"egressprobe/report"
	"egressprobe/servicetags"
)

// RunOptions are the engine's options for this plan; progress may be nil.
func (p *Plan) RunOptions(progress func(done, total int)) probe.RunOptions {
	opt := probe.RunOptions{Concurrency: p.Concurrency, Progress: progress, IPv6: p.IPv6, Family: p.Family, Trace: p.Trace, TraceTimeout: p.TraceBudget}
	if p.TrustPath != nil {
		opt.TrustPath = &probe.TrustPathOptions{Timeout: p.TrustBudget, Resolver: p.Resolvers[0], WinHTTP: p.WinHTTP}
	}
	return opt
}

// Report joins the observations of p's targets (probe.Run's result) with the
// plan and the attribution into the run's report.
func (p *Plan) Report(started, finished time.Time, obs []probe.Observation, a Attribution) *report.Report {
	return report.Build(report.Input{
		Started: started, Finished: finished,
		Cloud: p.Cloud, Region: p.Region,
		Resolvers: p.Resolvers, Proxy: p.Proxy, Proxies: p.Proxies, IPv6: p.IPv6,
		Endpoints: p.Endpoints, Observations: obs, NotProbed: p.NotProbed,
		Tags: a.Tags, TagsInfo: a.TagsInfo, Provider: a.Provider, TrustPath: p.TrustPath,
	})
}

// Attribution says who owns an address: the service tags containing it and
// the CDN, WAF or cloud provider.
type Attribution struct {
	Tags     func(netip.Addr) []report.TagMatch // nil: no feed loaded (TagsInfo.Note says why)
	TagsInfo report.ServiceTagsInfo
	Provider func(netip.Addr) *report.Provider
}

// LoadAttribution loads opts.ServiceTags, else the cached feed of opts.Cloud
// (any of its names). A --service-tags file that cannot be read, is not a
// feed, or is the feed of another cloud is an *InputError: a run stops on it
// before probing. No cached feed is not an error: the report says tags were
// not checked and how to fetch them.
func LoadAttribution(opts Options) (Attribution, error) {
	return LoadAttributionFrom(opts, nil)
}

// LoadAttributionFrom is LoadAttribution reading the cached feed from cache
// instead of the user's cache folder (a service keeps its own); nil: the
// user's.
func LoadAttributionFrom(opts Options, cache *servicetags.Cache) (Attribution, error) {
	cl, err := servicetags.ParseCloud(opts.Cloud)
	if err != nil {
		return Attribution{}, &InputError{fmt.Errorf("--cloud: %w", err)}
	}
	tags, info, err := loadTags(opts.ServiceTags, cl, cache)
	if err != nil {
		return Attribution{}, err
	}
	return Attribution{Tags: tags, TagsInfo: info, Provider: providerLookup()}, nil
}

func loadTags(file string, cl servicetags.Cloud, cache *servicetags.Cache) (func(netip.Addr) []report.TagMatch, report.ServiceTagsInfo, error) {
	var (
		ix   *servicetags.Index
		info report.ServiceTagsInfo
	)
	if file != "" {
		f, err := servicetags.LoadFile(file)
		if err != nil {
			return nil, info, &InputError{fmt.Errorf("--service-tags: %w", err)}
		}
		if err := servicetags.CheckCloud(file, f, cl); err != nil {
			fix := "pass the feed of --cloud"
			if other, perr := servicetags.ParseCloud(f.Cloud); perr == nil {
				fix = "pass --cloud " + other.ID
			}
			return nil, info, &InputError{fmt.Errorf("--service-tags: %w; %s, or the %s feed (ServiceTags_%s_<yyyymmdd>.json)", err, fix, cl.FeedName, cl.FeedName)}
		}
		ix, info.Source = servicetags.NewIndex(f), file
		info.Published, _ = servicetags.FeedDate(file)
	} else {
		idx, ci, err := loadCached(cl, cache)
		switch {
		case errors.Is(err, servicetags.ErrNotCached):
			info.Note = fmt.Sprintf("no cached feed for --cloud %s; run 'egressprobe servicetags update --cloud %s' where Microsoft's download site is reachable, or pass --service-tags FILE", cl.ID, cl.ID)
			return nil, info, nil
		case err != nil:
			info.Note = err.Error()
			return nil, info, nil
		}
		ix, info.Source, info.Updated, info.Published = idx, ci.Path, ci.Modified.UTC(), ci.Published
	}
	feed := ix.Feed()
	info.Cloud, info.ChangeNumber = feed.Cloud, int(feed.ChangeNumber)
	return func(a netip.Addr) []report.TagMatch {
		ms := ix.Lookup(a)
		out := make([]report.TagMatch, len(ms))
		for i, m := range ms {
			out[i] = report.TagMatch{Tag: m.Tag, Region: m.Region, SystemService: m.SystemService, Prefix: m.Prefix.String()}
		}
		return out
	}, info, nil
}

// loadCached is the index of cl's feed in cache, nil: the user's.
func loadCached(cl servicetags.Cloud, cache *servicetags.Cache) (*servicetags.Index, servicetags.CacheInfo, error) {
	if cache == nil {
		return servicetags.LoadCached(cl.ID)
	}
	return cache.LoadIndex(cl)
}

// providerLookup names the CDN, WAF or cloud owning an address, with
// cdncheck's ranges as generated into internal/providers (the binary does not
// link cdncheck: its init costs every start ~170 ms). The table is decoded on
// first use; if it cannot be (a build defect: its tests decode it), no address
// gets a provider, as with cdncheck.
func providerLookup() func(netip.Addr) *report.Provider {
	table := sync.OnceValue(func() *providers.Table {
		t, err := providers.Load()
		if err != nil {
			return nil
		}
		return t
	})
	return func(a netip.Addr) *report.Provider {
		if !a.IsGlobalUnicast() || a.IsPrivate() {
			return nil // no provider owns loopback or private space: skip decoding the table
		}
		t := table()
		if t == nil {
			return nil
		}
		name, kind, ok := t.Lookup(a)
		if !ok {
			return nil
		}
		return &report.Provider{Name: name, Kind: kind}
	}
}
