package servicetags

import (
	"errors"
	"fmt"

	"egressprobe/internal/cloud"
)

// Cloud is one of Microsoft's clouds, each with its own weekly feed; the one
// registry of clouds and their names is internal/cloud.
type Cloud = cloud.Cloud

// Clouds lists the clouds in --cloud order.
func Clouds() []Cloud { return cloud.All() }

// ParseCloud accepts any name of a cloud: a --cloud value, an alias such as
// AzureChinaCloud or mooncake, or a feed's cloud name, case-insensitively.
func ParseCloud(s string) (Cloud, error) { return cloud.Parse(s) }

// CheckCloud refuses a feed of another cloud than cl; the error names the
// file (name) and both clouds, and wraps ErrWrongCloud. Callers add the fix.
func CheckCloud(name string, f *Feed, cl Cloud) error {
	if f.Cloud == cl.FeedName {
		return nil
	}
	return fmt.Errorf("%s is the %s feed, not the %s feed of --cloud %s: %w", name, f.Cloud, cl.FeedName, cl.ID, ErrWrongCloud)
}

// ErrWrongCloud is wrapped when a feed is not the one of the cloud asked for.
var ErrWrongCloud = errors.New("feed of another cloud")
