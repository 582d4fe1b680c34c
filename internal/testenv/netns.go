package testenv

import (
	"os"
	"strings"
	"testing"
)

// WineNetns returns the addresses .ci/wine/netns prepared in the network
// namespace a test binary runs in under .ci/wine/exec as root: name →
// value, e.g. "unreachable" → "198.51.100.1", "resolvers" →
// "10.53.0.1,fd53::1" (the list is in that script). Without it the test is
// skipped, or fails under CI=true, where the harness must provide it.
func WineNetns(t testing.TB) map[string]string {
	t.Helper()
	v := os.Getenv("EGRESSPROBE_WINE_NETNS")
	if v == "" {
		const why = "needs the network namespace of .ci/wine/exec (run .ci/wine/test as root)"
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	out := map[string]string{}
	for _, kv := range strings.Fields(v) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("testenv: EGRESSPROBE_WINE_NETNS entry %q is not name=value", kv)
		}
		out[k] = val
	}
	return out
}
