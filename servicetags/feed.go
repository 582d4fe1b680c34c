// Package servicetags reads Microsoft's weekly "Azure IP Ranges and Service Tags"
// feeds (Public, China, AzureGovernment, AzureGermany): parsing and validation,
// an allocation-free prefix index answering "which tags contain this IP", the
// per-cloud cache with its atomic update, export of merged CIDRs and the diff of
// two feeds. It never prints: rendering lives in package render.
package servicetags

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"egressprobe/internal/quote"
)

// Feed is one validated service-tag file.
type Feed struct {
	ChangeNumber int64
	Cloud        string // as in the file: Public, China, AzureGovernment, AzureGermany
	Tags         []Tag  // in file order; names are unique
}

// Tag is one entry of the feed's "values" array.
type Tag struct {
	Name            string
	ID              string
	ChangeNumber    int64
	Region          string // "" for a global tag
	RegionID        int64
	Platform        string
	SystemService   string
	Prefixes        []netip.Prefix // masked, in file order
	NetworkFeatures []string
}

// NumPrefixes is the number of prefixes over all tags.
func (f *Feed) NumPrefixes() int {
	n := 0
	for i := range f.Tags {
		n += len(f.Tags[i].Prefixes)
	}
	return n
}

// Tag returns the tag named name.
func (f *Feed) Tag(name string) (*Tag, bool) {
	for i := range f.Tags {
		if f.Tags[i].Name == name {
			return &f.Tags[i], true
		}
	}
	return nil, false
}

// rawFeed mirrors Microsoft's schema. Pointers tell a missing field from a zero one.
type rawFeed struct {
	ChangeNumber *int64   `json:"changeNumber"`
	Cloud        *string  `json:"cloud"`
	Values       []rawTag `json:"values"`
}

type rawTag struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Properties struct {
		ChangeNumber    int64    `json:"changeNumber"`
		Region          string   `json:"region"`
		RegionID        int64    `json:"regionId"`
		Platform        string   `json:"platform"`
		SystemService   string   `json:"systemService"`
		AddressPrefixes []string `json:"addressPrefixes"`
		NetworkFeatures []string `json:"networkFeatures"`
	} `json:"properties"`
}

// maxTags bounds the tags of a feed: the index packs a tag's number into 24
// bits. Microsoft's largest feed has about 3,000.
const maxTags = 1<<24 - 1

// fix is appended to every feed error: the cure for a bad file is a fresh one.
const fix = "re-download with 'egressprobe servicetags update'"

// ErrInvalid is wrapped by every error Parse returns for a bad file.
var ErrInvalid = errors.New("invalid service-tag file")

// invalid builds a parse error naming the file: "FILE: what; fix".
func invalid(name, format string, a ...any) error {
	return fmt.Errorf("%s: %s; %s: %w", name, fmt.Sprintf(format, a...), fix, ErrInvalid)
}

// Parse decodes and validates a service-tag file. name (usually the file's base
// name) is used only in errors, which name the file, the tag and the bad value.
func Parse(name string, data []byte) (*Feed, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, invalid(name, "file is empty")
	case trimmed[0] == '<':
		return nil, invalid(name, "file is HTML, not JSON (a proxy block page, a login page or the download page instead of the file?)")
	case trimmed[0] != '{':
		return nil, invalid(name, "file is not a JSON object (starts with %s)", quote.Q(string(trimmed[:min(len(trimmed), 4*quote.MaxRunes)])))
	}
	raw, ok := decodeFast(data)
	if !ok {
		raw = rawFeed{}
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, decodeError(name, data, err)
		}
	}
	return validate(name, &raw)
}

// decodeError explains a JSON error. The fast path decodes the whole file in one
// go; only on failure do we decode tag by tag to name the offending tag.
func decodeError(name string, data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// encoding/json reports a cut-off file as a syntax error at its very end.
		if syn.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))) {
			return invalid(name, "file is truncated after %d bytes: %v", len(data), err)
		}
		return invalid(name, "not valid JSON at byte %d: %v", syn.Offset, err)
	}
	var top struct {
		Values []json.RawMessage `json:"values"`
	}
	if json.Unmarshal(data, &top) == nil {
		for i, v := range top.Values {
			var t rawTag
			if terr := json.Unmarshal(v, &t); terr != nil {
				var nameOnly struct {
					Name any `json:"name"`
				}
				_ = json.Unmarshal(v, &nameOnly)
				return invalid(name, "tag %v (values[%d]): %v", quoteAny(nameOnly.Name), i, typeErrorText(terr))
			}
		}
	}
	return invalid(name, "%v", typeErrorText(err))
}

func typeErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q is a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return quote.Q(s)
	}
	return quote.Cut(fmt.Sprintf("%v", v))
}

// parsePrefixes fills tags[i].Prefixes from raw[i].
func parsePrefixes(name string, tags []Tag, raw []rawTag) error {
	for i := range tags {
		src := raw[i].Properties.AddressPrefixes
		ps := make([]netip.Prefix, len(src))
		for k, s := range src {
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				return invalid(name, "tag %s: bad prefix %s: %v", quote.Q(tags[i].Name), quote.Q(s), err)
			}
			if pfx.Addr().Is4In6() {
				// Lookups unmap addresses, so such a prefix could never match.
				return invalid(name, "tag %s: bad prefix %s: an IPv4-mapped IPv6 prefix; write it as IPv4", quote.Q(tags[i].Name), quote.Q(s))
			}
			ps[k] = pfx.Masked()
		}
		tags[i].Prefixes = ps
	}
	return nil
}

func validate(name string, raw *rawFeed) (*Feed, error) {
	if raw.Cloud == nil || *raw.Cloud == "" {
		return nil, invalid(name, `"cloud" is missing or empty`)
	}
	if raw.ChangeNumber == nil {
		return nil, invalid(name, `"changeNumber" is missing`)
	}
	if len(raw.Values) == 0 {
		return nil, invalid(name, `"values" has no tags`)
	}
	if len(raw.Values) > maxTags {
		return nil, invalid(name, `"values" has %d tags, more than the %d an index holds`, len(raw.Values), maxTags)
	}
	f := &Feed{ChangeNumber: *raw.ChangeNumber, Cloud: *raw.Cloud, Tags: make([]Tag, len(raw.Values))}
	seen := make(map[string]int, len(raw.Values))
	for i := range raw.Values {
		r := &raw.Values[i]
		if r.Name == "" {
			return nil, invalid(name, "values[%d] has no name", i)
		}
		if j, dup := seen[r.Name]; dup {
			return nil, invalid(name, "tag %s appears twice (values[%d] and values[%d])", quote.Q(r.Name), j, i)
		}
		seen[r.Name] = i
		p := &r.Properties
		if len(p.NetworkFeatures) == 0 {
			p.NetworkFeatures = nil // null and [] mean the same
		}
		f.Tags[i] = Tag{
			Name: r.Name, ID: r.ID, ChangeNumber: p.ChangeNumber, Region: p.Region, RegionID: p.RegionID,
			Platform: p.Platform, SystemService: p.SystemService, NetworkFeatures: p.NetworkFeatures,
		}
	}
	// Parsing ~90,000 prefixes is a good part of the load: two halves in
	// parallel, and of their errors the one of the earlier tag.
	half := len(f.Tags) / 2
	var (
		wg   sync.WaitGroup
		errA error
	)
	wg.Go(func() { errA = parsePrefixes(name, f.Tags[:half], raw.Values[:half]) })
	errB := parsePrefixes(name, f.Tags[half:], raw.Values[half:])
	wg.Wait()
	if err := cmp.Or(errA, errB); err != nil {
		return nil, err
	}
	return f, nil
}
