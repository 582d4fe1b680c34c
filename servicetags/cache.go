package servicetags

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Cache is the per-cloud store of downloaded feeds: for each cloud the JSON as
// Microsoft published it (ServiceTags_<Cloud>.json), its compact form (.bin) and
// the download's validators (.meta.json).
type Cache struct{ Dir string }

// DefaultCache is os.UserCacheDir()/egressprobe/servicetags (on Linux
// $XDG_CACHE_HOME or ~/.cache; on Windows %LocalAppData%).
func DefaultCache() (Cache, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return Cache{}, fmt.Errorf("finding the user cache directory: %w; set XDG_CACHE_HOME (LocalAppData on Windows) or pass --service-tags FILE", err)
	}
	return Cache{Dir: filepath.Join(base, "egressprobe", "servicetags")}, nil
}

// JSONPath is where the cloud's feed is cached.
func (c Cache) JSONPath(cl Cloud) string { return c.path(cl, ".json") }

func (c Cache) binPath(cl Cloud) string  { return c.path(cl, ".bin") }
func (c Cache) metaPath(cl Cloud) string { return c.path(cl, ".meta.json") }

// path is the cache file of cl's feed with extension ext: the cache keeps one
// feed per cloud, named ServiceTags_<FeedName> like Microsoft's files.
func (c Cache) path(cl Cloud, ext string) string {
	return filepath.Join(c.Dir, "ServiceTags_"+cl.FeedName+ext)
}

// Meta is what the last download told us, for conditional requests, and the
// feed's publication date.
type Meta struct {
	Source       string `json:"source"` // URL or file the cached feed came from
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Published is the date (yyyy-mm-dd) in Microsoft's name of the file,
	// ServiceTags_<Cloud>_<yyyymmdd>.json; "" when the source had another name.
	Published string `json:"published,omitempty"`
}

// published is the feed's publication date, from Published or, for a meta
// written before it was kept, from the source's file name; zero when unknown.
func (m Meta) published() time.Time {
	if t, err := time.Parse(time.DateOnly, m.Published); err == nil {
		return t
	}
	t, _ := FeedDate(m.Source)
	return t
}

// feedDateRE matches Microsoft's file name at the end of a path or URL.
var feedDateRE = regexp.MustCompile(`(?:^|[/\\])ServiceTags_[A-Za-z]+_(\d{8})\.json$`)

// FeedDate is the publication date in Microsoft's file name
// ServiceTags_<Cloud>_<yyyymmdd>.json at the end of name (a file name, path or
// URL); ok is false when name carries none.
func FeedDate(name string) (t time.Time, ok bool) {
	m := feedDateRE.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102", m[1])
	return t, err == nil
}

// CacheInfo describes a cached feed.
type CacheInfo struct {
	Path     string    // the cached JSON
	Modified time.Time // when it was last downloaded or confirmed current
	// Published is the feed's own date (Meta.Published): its age, when known.
	Published time.Time
	Compact   bool // loaded from the compact form, without parsing JSON
	Meta      Meta
}

// ErrNotCached is wrapped when a cloud has no cached feed yet.
var ErrNotCached = errors.New("no cached service-tag feed")

// Load reads the cloud's cached feed, from the compact form when it matches the
// JSON, else by parsing the JSON (and then rewriting the compact form).
func (c Cache) Load(cl Cloud) (*Feed, CacheInfo, error) {
	f, _, info, err := c.load(cl)
	return f, info, err
}

// LoadIndex is Load followed by NewIndex, faster: from the compact form the
// index is built from the plan the form keeps, without sorting.
func (c Cache) LoadIndex(cl Cloud) (*Index, CacheInfo, error) {
	f, pl, info, err := c.load(cl)
	if err != nil {
		return nil, info, err
	}
	return newIndex(f, pl), info, nil
}

func (c Cache) load(cl Cloud) (*Feed, *plan, CacheInfo, error) {
	info := CacheInfo{Path: c.JSONPath(cl)}
	data, err := os.ReadFile(info.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, info, fmt.Errorf("%w for cloud %s in %s: run 'egressprobe servicetags update --cloud %s' or pass --service-tags FILE: %w",
			ErrNotCached, cl.ID, c.Dir, cl.ID, err)
	}
	if err != nil {
		return nil, nil, info, fmt.Errorf("reading cached service tags: %w", err)
	}
	if st, err := os.Stat(info.Path); err == nil {
		info.Modified = st.ModTime()
	}
	info.Meta = c.readMeta(cl)
	info.Published = info.Meta.published()
	f, pl, err := c.decode(cl, info.Path, data, &info)
	if err != nil {
		return nil, nil, info, err
	}
	// A file copied into the cache by hand may be another cloud's.
	if err := CheckCloud(info.Path, f, cl); err != nil {
		return nil, nil, info, fmt.Errorf("%w; run 'egressprobe servicetags update --cloud %s' to replace it", err, cl.ID)
	}
	return f, pl, info, nil
}

// decode takes the feed from the compact form when it matches data, else
// parses data (and then rewrites the compact form).
func (c Cache) decode(cl Cloud, path string, data []byte, info *CacheInfo) (*Feed, *plan, error) {
	k := keyOf(data)
	if bin, err := os.ReadFile(c.binPath(cl)); err == nil {
		if f, pl, err := decodeBinary(bin, k); err == nil {
			info.Compact = true
			return f, pl, nil
		}
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	pl := planOf(f)
	// The compact form only saves time on the next run; failing to write it
	// (read-only cache, full disk) must not fail this one.
	_ = writeAtomic(c.binPath(cl), encodePlanned(f, pl, k))
	return f, pl, nil
}

// Stat describes the cloud's cached feed without reading it: for the age line
// printed when an update fails.
func (c Cache) Stat(cl Cloud) (CacheInfo, error) {
	info := CacheInfo{Path: c.JSONPath(cl), Meta: c.readMeta(cl)}
	info.Published = info.Meta.published()
	st, err := os.Stat(info.Path)
	if err != nil {
		return info, err
	}
	info.Modified = st.ModTime()
	return info, nil
}

func (c Cache) readMeta(cl Cloud) Meta {
	var m Meta
	if b, err := os.ReadFile(c.metaPath(cl)); err == nil {
		_ = json.Unmarshal(b, &m) // a damaged meta only costs an unconditional download
	}
	return m
}

// store replaces the cloud's cached feed: the JSON first (atomically), then its
// compact form and meta. The caller has parsed and validated data into f.
func (c Cache) store(cl Cloud, data []byte, f *Feed, m Meta) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("creating the cache directory: %w", err)
	}
	if err := writeAtomic(c.JSONPath(cl), data); err != nil {
		return err
	}
	if err := writeAtomic(c.binPath(cl), encodeBinary(f, keyOf(data))); err != nil {
		return err
	}
	return c.writeMeta(cl, m)
}

func (c Cache) writeMeta(cl Cloud, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(c.metaPath(cl), append(b, '\n'))
}

// writeAtomic replaces path with data so that a reader sees the old file or the
// new one, never a mix: temp file in the same directory, fsync, rename (retried
// on Windows while a reader has path open), fsync dir.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = replaceFile(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// LoadFile reads and validates a service-tag file given by the user. An
// unreadable file's error names it and the fix, as a bad file's does.
func LoadFile(path string) (*Feed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w; give the path of a ServiceTags_<Cloud>_<yyyymmdd>.json from Microsoft's download page, or cache the feed with 'egressprobe servicetags update'", err)
	}
	return Parse(path, data)
}

// LoadCached is the entry point for other packages: the index of the cached feed
// of cloud (a --cloud value such as "public", or a feed name such as "Public") in
// the default cache directory.
func LoadCached(cloud string) (*Index, CacheInfo, error) {
	cl, err := ParseCloud(cloud)
	if err != nil {
		return nil, CacheInfo{}, err
	}
	c, err := DefaultCache()
	if err != nil {
		return nil, CacheInfo{}, err
	}
	return c.LoadIndex(cl)
}
