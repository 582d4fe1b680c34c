package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"egressprobe/plan"
	"egressprobe/servicetags"
)

// tagFeed is a config's attribution: its fixed service-tag file, or the
// cached feed of its cloud, which Refresh updates as `servicetags update`.
type tagFeed struct {
	cfg   *Config
	cache *servicetags.Cache // nil: the user's cache folder

	mu  sync.Mutex
	cur plan.Attribution
}

// NewFeed loads the feed a config names. No feed is not an error: results
// say tags were not checked, and a refresh may bring one.
func NewFeed(cfg *Config) Feed {
	f := &tagFeed{cfg: cfg}
	if cfg.ServiceTags.CacheDir != "" {
		f.cache = &servicetags.Cache{Dir: cfg.ServiceTags.CacheDir}
	}
	cur, err := plan.LoadAttributionFrom(cfg.PlanOptions(), f.cache)
	if err != nil {
		cur.TagsInfo.Note = err.Error() // as a missing feed: results say tags were not checked
	}
	f.cur = cur
	return f
}

func (f *tagFeed) Current() plan.Attribution {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

// refreshTimeout bounds one refresh, retries included.
const refreshTimeout = 2 * time.Minute

func (f *tagFeed) Refresh(ctx context.Context) (bool, error) {
	if f.cfg.ServiceTags.File != "" {
		return false, nil // a fixed file is the user's to replace
	}
	cl, err := servicetags.ParseCloud(f.cfg.Cloud)
	if err != nil {
		return false, err
	}
	cache := f.cache
	if cache == nil {
		c, err := servicetags.DefaultCache()
		if err != nil {
			return false, err
		}
		cache = &c
	}
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	u := &servicetags.Updater{Cache: *cache}
	res, err := u.Update(ctx, cl, f.cfg.ServiceTags.Source)
	if err != nil {
		return false, fmt.Errorf("updating the %s service tags: %w", cl.ID, err)
	}
	next, err := plan.LoadAttributionFrom(f.cfg.PlanOptions(), f.cache)
	if err != nil {
		return false, fmt.Errorf("loading the updated service tags: %w", err)
	}
	if next.Tags == nil {
		return false, errors.New("loading the updated service tags: " + next.TagsInfo.Note)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := res.Status == servicetags.Updated || f.cur.Tags == nil
	f.cur = next
	return changed, nil
}
