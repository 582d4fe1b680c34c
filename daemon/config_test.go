package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"egressprobe/internal/testenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseFullConfig(t *testing.T) {
	cfg, err := LoadConfig("testdata/full.yaml", env(map[string]string{"EGRESSPROBE_PROXY_PASSWORD": "s3cr3t"}))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata/targets.yaml")
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"interval", cfg.Schedule.Interval.Duration, time.Minute},
		{"jitter", float64(cfg.Schedule.Jitter), 0.1},
		{"window interval", cfg.Schedule.Windows[0].Interval.Duration, 15 * time.Second},
		{"targets_file (relative to the config)", cfg.TargetsFile, abs},
		{"storage_accounts", strings.Join(cfg.StorageAccounts, ","), "contosobackup"},
		{"proxy URL with the password", cfg.ProxyURL, "http://svc-probe:s3cr3t@proxy.corp.example:3128"},
		{"records", cfg.Log.Records, RecordsAll},
		{"summary_every", cfg.Log.SummaryEvery.Duration, 15 * time.Minute},
		{"refresh", cfg.ServiceTags.Refresh.Duration, 168 * time.Hour},
		{"max_size_mb", cfg.Log.MaxSizeMB, 50},
		{"listen", cfg.Metrics.Listen, "127.0.0.1:9469"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(cfg.SHA256) != 64 {
		t.Errorf("config_sha256 %q", cfg.SHA256)
	}
}

// TestConfigPrivateEndpoint: private_endpoint reaches the plan as
// check's --private-endpoint, and an error about it names the key.
func TestConfigPrivateEndpoint(t *testing.T) {
	cfg, err := ParseConfig("/etc/egressprobe/d.yaml", []byte("version: 1\nregion: westeurope\nvaults: [42]\nprivate_endpoint: true\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.PlanOptions(); !o.PrivateEndpoint || len(o.Vaults) != 1 {
		t.Errorf("plan options %+v", o)
	}
	if got := configKeys.Replace("--private-endpoint says the vault uses a private endpoint: name the vault with --vault ID"); got !=
		"private_endpoint says the vault uses a private endpoint: name the vault with vaults ID" {
		t.Errorf("config error reads %q", got)
	}
}

// TestConfigDefaults: a config of one line gets check's defaults.
func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("/etc/egressprobe/d.yaml", []byte("version: 1\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cloud != "public" || cfg.Proxy != "auto" || cfg.Timeout.Duration != 10*time.Second || cfg.Concurrency != 32 ||
		cfg.Schedule.Interval.Duration != DefaultInterval || cfg.Metrics.Listen != DefaultMetricsListen || !*cfg.Log.Compress ||
		cfg.Log.Records != RecordsAll || cfg.ServiceTags.Refresh.Duration != DefaultFeedRefresh || cfg.Log.File != "" {
		t.Errorf("defaults: %+v", cfg)
	}
}

// TestConfigErrors: every bad config is one line naming the file, the line
// and the fix, and never a password.
func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"version: 2\n", "d.yaml:1: version: 2: this egressprobe reads version: 1"},
		{"cloud: public\n", "d.yaml: version: 0: this egressprobe reads version: 1"},
		{"version: 1\ntargetz: [a]\n", `d.yaml:2: unknown key "targetz"`},
		{"version: 1\nlog:\n  file: x\n  rotate: yes\n", `d.yaml:4: unknown key "rotate"`},
		{"version: 1\ntimeout: 10\n", `d.yaml:2: "10" is not a duration`},
		{"version: 1\ntimeout: 0s\n", "d.yaml:2: timeout: must be a positive duration"},
		{"version: 1\nschedule: {interval: 10s, jitter: 80%}\n", `d.yaml:2: jitter "80%"`},
		{"version: 1\nschedule:\n  interval: 100ms\n", "d.yaml:2: schedule: interval 100ms: want at least 1s"},
		{"version: 1\nschedule:\n  windows:\n  - {from: '22:00', to: '4:00', interval: 5s}\n", `d.yaml:4: window to: "4:00"`},
		{"version: 1\npath: sideways\n", `d.yaml:2: path: "sideways"`},
		{"version: 1\nconcurrency: -1\n", "d.yaml:2: concurrency: -1"},
		{"version: 1\nlog: {records: some}\n", `d.yaml:2: log.records: "some"`},
		{"version: 1\nmetrics: {listen: 9469}\n", `d.yaml:2: metrics.listen: "9469"`},
		{"version: 1\nproxy: http://u:pw0rd@p:3128\nproxy_password_env: P\n", "already has a password"},
		{"version: 1\nproxy: http://p:3128\nproxy_password_env: P\n", "names no user"},
		{"version: 1\nproxy: http://u@p:3128\nproxy_password_env: UNSET\n", "d.yaml:3: proxy_password_env: environment variable UNSET is not set"},
		{"version: 1\nservice_tags: {file: f.json, refresh: 1h}\n", "d.yaml:2: service_tags: refresh updates the cached feed"},
		{"version: 1\ntargets: [a\n", "d.yaml:1: YAML: did not find expected"},
		{"version: 1\ntargets: x: y\n", "d.yaml:2"},
	} {
		_, err := ParseConfig("d.yaml", []byte(c.yaml), env(map[string]string{"P": "pw0rd"}))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%q: %v, want a ConfigError", c.yaml, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.yaml, err, c.want)
		}
		if strings.Contains(err.Error(), "pw0rd") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %q prints the password or is not one line", c.yaml, err)
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(testenv.TempDir(t), "none.yaml"), env(nil))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("version: 1\nschedule: {windows: [{from: '02:30', to: '02:00', interval: 1s, days: [sun]}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig("f.yaml", b, env(map[string]string{"EGRESSPROBE_PROXY_PASSWORD": "pw"}))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		s := NewSchedule(cfg.Schedule)
		now := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
		if next := s.Next(now, 0); !next.After(now) {
			t.Errorf("Next(%v) = %v does not advance", now, next)
		}
	})
}

// TestShippedConfigs: the example config in dist/ and the systemd unit's
// command lines stay valid.
func TestShippedConfigs(t *testing.T) {
	cfg, err := LoadConfig("../deploy/egressprobe.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The example is Linux's: on Windows /var/log is relative (to the config's folder).
	if !strings.HasSuffix(filepath.ToSlash(cfg.Log.File), "/var/log/egressprobe/probes.jsonl") || cfg.Metrics.Listen != DefaultMetricsListen {
		t.Errorf("deploy/egressprobe.yaml: %+v", cfg)
	}
	unit, err := os.ReadFile("../deploy/systemd/egressprobe.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
		"LogsDirectory=egressprobe", "StateDirectory=egressprobe", "ExecReload=/bin/kill -HUP $MAINPID",
		"--config /etc/egressprobe/egressprobe.yaml --check-config"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
}

// TestConfigErrorsCutLongValues: a huge value is quoted cut, never whole.
func TestConfigErrorsCutLongValues(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	for _, field := range []string{"path: " + long, "log: {records: " + long + "}", "schedule: {interval: " + long + "}"} {
		_, err := ParseConfig("d.yaml", []byte("version: 1\ntargets: [a.test]\n"+field+"\n"), func(string) string { return "" })
		if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "…") {
			t.Errorf("%.20s…: error of %d bytes, want a cut one: %.200v", field, len(fmt.Sprint(err)), err)
		}
	}
}
