package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
	"egressprobe/plan"
	"egressprobe/report"
)

// TestConfigTrustPath: trust_path reaches the plan as check's --trust-path;
// left out, the daemon checks the trust path as check does; a bad mode is a
// config error naming the key.
func TestConfigTrustPath(t *testing.T) {
	dir := testenv.TempDir(t)
	for _, tc := range []struct {
		line, want, errHas string
	}{
		{"", report.TrustPathCheck, ""},
		{"trust_path: required\n", report.TrustPathRequired, ""},
		{"trust_path: off\n", "", ""},
		{"trust_path: always\n", "", `trust_path: unknown mode "always"`},
	} {
		file := filepath.Join(dir, "d.yaml")
		if err := os.WriteFile(file, []byte("version: 1\ntargets: [127.0.0.1]\nresolvers: [127.0.0.1]\n"+tc.line), 0o600); err != nil {
			t.Fatal(err)
		}
		_, p, err := Load(&Deps{ConfigFile: file, Getenv: env(nil), PlanEnv: plan.Env{}})
		switch {
		case tc.errHas != "":
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%q: error %v, want %q", tc.line, err, tc.errHas)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.line, err)
		case tc.want == "" && p.TrustPath != nil, tc.want != "" && (p.TrustPath == nil || p.TrustPath.Mode != tc.want):
			t.Errorf("%q: trust path %+v, want mode %q", tc.line, p.TrustPath, tc.want)
		}
	}
}
