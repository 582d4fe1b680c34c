package main

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"egressprobe/internal/providers"
	"egressprobe/report"
	"egressprobe/servicetags"
)

// loadTagsFor loads --service-tags FILE, else the cached feed of --cloud. No
// feed is not an error: the report says tags were not checked and how to
// fetch them.
func loadTagsFor(opts *checkOptions, s *streams) (func(netip.Addr) []report.TagMatch, report.ServiceTagsInfo) {
	var (
		ix   *servicetags.Index
		info report.ServiceTagsInfo
	)
	if opts.ServiceTags != "" {
		f, err := servicetags.LoadFile(opts.ServiceTags)
		if err != nil {
			info.Note = err.Error()
			return nil, info
		}
		ix, info.Source = servicetags.NewIndex(f), opts.ServiceTags
	} else {
		idx, ci, err := servicetags.LoadCached(opts.Cloud)
		switch {
		case errors.Is(err, servicetags.ErrNotCached):
			info.Note = fmt.Sprintf("no cached feed for --cloud %s; run 'egressprobe servicetags update --cloud %s' where Microsoft's download site is reachable, or pass --service-tags FILE", opts.Cloud, opts.Cloud)
			return nil, info
		case err != nil:
			info.Note = err.Error()
			return nil, info
		}
		ix, info.Source, info.Updated = idx, ci.Path, ci.Modified.UTC()
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
	}, info
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
