package targets

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"egressprobe/internal/quote"
)

// wildcardLabelPrefix marks the probe names in DNS logs, so a DNS admin who
// sees them knows where they came from.
const wildcardLabelPrefix = "egressprobe-wildcard-"

// RandomLabel returns a name directly under a wildcard family's zone that
// nobody registered: "egressprobe-wildcard-<16 hex>.<zone>". If it resolves,
// the zone answers any label (wildcard DNS), so a firewall rule for the zone
// must itself be a wildcard; if it is NXDOMAIN, the members are individual
// names that a list of host rules can cover. The engine does the resolving.
// rnd is the randomness (crypto/rand.Reader in production).
func RandomLabel(family string, rnd io.Reader) (string, error) {
	if !strings.HasPrefix(family, "*.") || len(family) < 3 {
		return "", fmt.Errorf("family %s is not a wildcard (*.zone): it has no random labels to try", quote.Q(family))
	}
	var b [8]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("random label for %s: %w", family, err)
	}
	return wildcardLabelPrefix + hex.EncodeToString(b[:]) + family[1:], nil
}
