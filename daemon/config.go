// Package daemon runs check's probes on a schedule for days or weeks: the
// schedule (interval, jitter, windows in a time zone), per-target state that
// turns result streams into transition records, the JSON-lines record sink
// with rotation, and the Prometheus metrics. One cycle is plan → probe.Run →
// report.Build, exactly as `egressprobe check`; the daemon adds time.
package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"egressprobe/internal/quote"
	"egressprobe/plan"
	"egressprobe/probe"
	"egressprobe/proxy"
)

// ConfigVersion is the only `version:` this build reads.
const ConfigVersion = 1

// Defaults of the keys a config may leave out (check's defaults for check's
// options).
const (
	DefaultInterval      = 60 * time.Second
	DefaultMetricsListen = "127.0.0.1:9469"
	DefaultSummaryEvery  = 15 * time.Minute
	DefaultMaxSizeMB     = 50
	DefaultMaxBackups    = 10
	DefaultMaxAgeDays    = 30
	DefaultFeedRefresh   = 168 * time.Hour
)

// Config is one daemon config file, decoded strictly. The check options carry
// check's meaning and defaults, spelled in snake_case (--storage-account is
// storage_accounts).
type Config struct {
	Version  int            `yaml:"version"`
	Schedule ScheduleConfig `yaml:"schedule"`

	// check's options.
	Cloud            string    `yaml:"cloud"`
	Region           string    `yaml:"region"`
	Members          []string  `yaml:"members"`
	StorageAccounts  []string  `yaml:"storage_accounts"`
	Vaults           []string  `yaml:"vaults"`
	PrivateEndpoint  bool      `yaml:"private_endpoint"`
	Targets          []string  `yaml:"targets"`
	TargetsFile      string    `yaml:"targets_file"`
	Resolvers        []string  `yaml:"resolvers"`
	Proxy            string    `yaml:"proxy"`
	ProxyPasswordEnv string    `yaml:"proxy_password_env"`
	Path             string    `yaml:"path"`
	CAFile           string    `yaml:"ca_file"`
	Timeout          Duration  `yaml:"timeout"`
	Concurrency      int       `yaml:"concurrency"`
	NoWildcardCheck  bool      `yaml:"no_wildcard_check"`
	TrustPath        string    `yaml:"trust_path"` // off, check (default) or required
	ServiceTags      TagConfig `yaml:"service_tags"`

	Log     LogConfig     `yaml:"log"`
	Metrics MetricsConfig `yaml:"metrics"`

	// File is the config's path, SHA256 the hex digest of its bytes (every
	// record carries it, so a record names the config that produced it).
	File   string `yaml:"-"`
	SHA256 string `yaml:"-"`
	// ProxyURL is Proxy with the password from ProxyPasswordEnv filled in:
	// never print it (proxy.Redact).
	ProxyURL string `yaml:"-"`
}

// ScheduleConfig is `schedule:`.
type ScheduleConfig struct {
	Interval Duration       `yaml:"interval"`
	Jitter   Percent        `yaml:"jitter"`
	Windows  []WindowConfig `yaml:"windows"`
}

// WindowConfig is one `schedule.windows` item: from `from` to `to` local
// wall-clock time of TimeZone, starting on Days, probe every Interval.
type WindowConfig struct {
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	TimeZone string   `yaml:"time_zone"`
	Interval Duration `yaml:"interval"`
	line     int
}

// TagConfig is `service_tags:`.
type TagConfig struct {
	File    string   `yaml:"file"`    // as check --service-tags; empty: the cached feed of cloud
	Refresh Duration `yaml:"refresh"` // try `servicetags update` this often (cached feed only); 0: never
	// Source is where a refresh takes the feed, as `servicetags update
	// --source` (an https URL or a file, e.g. an internal mirror); empty:
	// Microsoft's download page.
	Source string `yaml:"source"`
	// CacheDir holds the cached feed; empty: the user's cache folder, as
	// `servicetags update` uses (a service account's is an odd place).
	CacheDir string `yaml:"cache_dir"`
}

// Records says which records the log keeps.
type Records string

// The `log.records` values.
const (
	RecordsAll         Records = "all"         // every result, transition, summary and lifecycle record
	RecordsFailures    Records = "failures"    // results that are not ok, and the rest
	RecordsTransitions Records = "transitions" // no results: transitions, summaries, lifecycle
)

// LogConfig is `log:`.
type LogConfig struct {
	File         string   `yaml:"file"` // empty: records go to stdout (a service manager's journal)
	MaxSizeMB    int      `yaml:"max_size_mb"`
	MaxBackups   int      `yaml:"max_backups"`
	MaxAgeDays   int      `yaml:"max_age_days"`
	Compress     *bool    `yaml:"compress"`
	Records      Records  `yaml:"records"`
	SummaryEvery Duration `yaml:"summary_every"`
}

// MetricsConfig is `metrics:`.
type MetricsConfig struct {
	// Listen is host:port; "" keeps the default loopback address, "off"
	// serves no metrics. A non-loopback address is the user asking for it.
	Listen string `yaml:"listen"`
}

// Duration is a YAML duration ("60s", "1h30m").
type Duration struct {
	time.Duration
	set bool
}

// UnmarshalYAML parses a Go duration; the error names the line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v < 0 || n.Kind != yaml.ScalarNode {
		return lineErrorf(n.Line, "%s is not a duration: want e.g. 60s, 1500ms or 1h", quote.Q(n.Value))
	}
	d.Duration, d.set = v, true
	return nil
}

// Percent is "10%" (or a fraction 0.1).
type Percent float64

// UnmarshalYAML parses "10%" or 0.1; from 0 to 50%.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if pct {
		v /= 100
	}
	if err != nil || v < 0 || v > 0.5 || n.Kind != yaml.ScalarNode {
		return lineErrorf(n.Line, "jitter %s: want a percentage from 0%% to 50%%, e.g. 10%%", quote.Q(n.Value))
	}
	*p = Percent(v)
	return nil
}

// UnmarshalYAML keeps the item's line for errors found after decoding.
func (w *WindowConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain WindowConfig
	if err := n.Decode((*plain)(w)); err != nil {
		return err
	}
	w.line = n.Line
	return nil
}

// ConfigError is a bad config: the file, the line when known, and the fix.
type ConfigError struct {
	File string
	Line int
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// lineError is an error found at a line, before the file name is known.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

func lineErrorf(line int, format string, a ...any) error {
	return &lineError{line, fmt.Errorf(format, a...)}
}

// LoadConfig reads and validates the config file at path. getenv reads
// proxy_password_env. Relative paths in the file are relative to its folder
// (a service starts in another working directory).
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	return ParseConfig(path, data, getenv)
}

// maxConfigBytes bounds what ParseConfig reads: a config is a page of YAML.
const maxConfigBytes = 1 << 20

// ParseConfig decodes data (the file name is for errors and relative paths).
func ParseConfig(name string, data []byte, getenv func(string) string) (*Config, error) {
	if len(data) > maxConfigBytes {
		return nil, &ConfigError{File: name, Err: fmt.Errorf("%d bytes: a config is at most %d", len(data), maxConfigBytes)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	lines := keyLines(&doc)
	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, yamlError(name, err)
	}
	sum := sha256.Sum256(data)
	cfg.File, cfg.SHA256 = name, hex.EncodeToString(sum[:])
	if err := cfg.validate(getenv); err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, &ConfigError{File: name, Line: le.line, Err: le.err}
		}
		var ke *keyError
		if errors.As(err, &ke) {
			return nil, &ConfigError{File: name, Line: lines[ke.key], Err: ke}
		}
		return nil, &ConfigError{File: name, Err: err}
	}
	cfg.resolvePaths(filepath.Dir(name))
	return cfg, nil
}

// keyError is a bad value of a key (dotted: "log.records"), whose line
// ParseConfig looks up.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.key + ": " + e.err.Error() }

func keyErrorf(key, format string, a ...any) error {
	return &keyError{key, fmt.Errorf(format, a...)}
}

// keyLines maps every key of the document's top two levels ("log",
// "log.records") to its line.
func keyLines(doc *yaml.Node) map[string]int {
	lines := map[string]int{}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return lines
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		lines[k.Value] = k.Line
		if v.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(v.Content); j += 2 {
				lines[k.Value+"."+v.Content[j].Value] = v.Content[j].Line
			}
		}
	}
	return lines
}

var (
	yamlLineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlError turns the YAML decoder's errors into "FILE:LINE: what" lines; an
// unknown key names the key and where the known ones are documented.
func yamlError(name string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return &ConfigError{File: name, Line: le.line, Err: le.err}
	}
	var msgs []string
	var te *yaml.TypeError
	syntax := !errors.As(err, &te)
	if syntax {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	} else {
		msgs = te.Errors
	}
	// The first problem is the one to fix first; the others often follow from it.
	msg := msgs[0]
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &ConfigError{File: name, Err: fmt.Errorf("YAML: %s", msg)}
	}
	line, _ := strconv.Atoi(m[1])
	what := m[2]
	if syntax {
		what = "YAML: " + what
	}
	if u := unknownFieldRE.FindStringSubmatch(what); u != nil {
		what = fmt.Sprintf("unknown key %q (the keys are listed in the README, \"Scheduled probes\")", u[1])
	}
	if len(msgs) > 1 {
		what += fmt.Sprintf(" (and %d more problems)", len(msgs)-1)
	}
	return &ConfigError{File: name, Line: line, Err: errors.New(what)}
}

func (c *Config) validate(getenv func(string) string) error {
	if c.Version != ConfigVersion {
		return keyErrorf("version", "%d: this egressprobe reads version: %d; put \"version: 1\" at the top", c.Version, ConfigVersion)
	}
	if c.Cloud == "" {
		c.Cloud = "public"
	}
	if c.Proxy == "" {
		c.Proxy = "auto"
	}
	if !c.Timeout.set {
		c.Timeout.Duration = probe.DefaultTimeout
	} else if c.Timeout.Duration <= 0 {
		return keyErrorf("timeout", "must be a positive duration such as 10s or 1500ms")
	}
	if c.Concurrency == 0 {
		c.Concurrency = probe.DefaultConcurrency
	} else if c.Concurrency < 0 {
		return keyErrorf("concurrency", "%d: must be at least 1", c.Concurrency)
	}
	if c.Path != "" && !slices.Contains(plan.PathChoices, c.Path) {
		return keyErrorf("path", "%s: unknown route%s", quote.Q(c.Path), quote.OneOf(c.Path, plan.PathChoices))
	}
	if err := c.proxyURL(getenv); err != nil {
		return err
	}
	if err := c.validateSchedule(); err != nil {
		return err
	}
	if c.ServiceTags.File != "" && c.ServiceTags.Refresh.Duration > 0 {
		return keyErrorf("service_tags", "refresh updates the cached feed; a fixed file is not refreshed: drop one of file and refresh")
	}
	if !c.ServiceTags.Refresh.set && c.ServiceTags.File == "" {
		c.ServiceTags.Refresh.Duration = DefaultFeedRefresh
	}
	if err := c.Log.validate(); err != nil {
		return err
	}
	return c.Metrics.validate()
}

func (c *Config) validateSchedule() error {
	s := &c.Schedule
	if !s.Interval.set {
		s.Interval.Duration = DefaultInterval
	}
	if s.Interval.Duration < time.Second {
		return keyErrorf("schedule", "interval %v: want at least 1s", s.Interval.Duration)
	}
	for i := range s.Windows {
		if _, err := s.Windows[i].window(); err != nil {
			return &lineError{s.Windows[i].line, err}
		}
	}
	return nil
}

// proxyURL fills ProxyURL: Proxy, with the password of proxy_password_env.
func (c *Config) proxyURL(getenv func(string) string) error {
	c.ProxyURL = c.Proxy
	if c.ProxyPasswordEnv == "" {
		return nil
	}
	switch strings.ToLower(c.Proxy) {
	case "auto", "none", "direct":
		return keyErrorf("proxy_password_env", "needs proxy: http://USER@HOST:PORT (the user, without the password)")
	}
	u, err := proxy.ParseURL(c.Proxy)
	if err != nil {
		return keyErrorf("proxy", "%w", err)
	}
	if u.User == nil || u.User.Username() == "" {
		return keyErrorf("proxy_password_env", "proxy %s names no user: write it as http://USER@HOST:PORT", proxy.Redact(c.Proxy))
	}
	if _, has := u.User.Password(); has {
		return keyErrorf("proxy_password_env", "proxy %s already has a password; drop it from the URL", proxy.Redact(c.Proxy))
	}
	pw := getenv(c.ProxyPasswordEnv)
	if pw == "" {
		return keyErrorf("proxy_password_env", "environment variable %s is not set or empty", c.ProxyPasswordEnv)
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	c.ProxyURL = u.String()
	return nil
}

func (l *LogConfig) validate() error {
	switch l.Records {
	case "":
		l.Records = RecordsAll
	case RecordsAll, RecordsFailures, RecordsTransitions:
	default:
		return keyErrorf("log.records", "%s: use all, failures or transitions", quote.Q(string(l.Records)))
	}
	for _, v := range []struct {
		key string
		n   *int
		def int
	}{{"log.max_size_mb", &l.MaxSizeMB, DefaultMaxSizeMB}, {"log.max_backups", &l.MaxBackups, DefaultMaxBackups}, {"log.max_age_days", &l.MaxAgeDays, DefaultMaxAgeDays}} {
		switch {
		case *v.n < 0:
			return keyErrorf(v.key, "%d: want 0 or more", *v.n)
		case *v.n == 0:
			*v.n = v.def
		}
	}
	if l.Compress == nil {
		yes := true
		l.Compress = &yes
	}
	if !l.SummaryEvery.set {
		l.SummaryEvery.Duration = DefaultSummaryEvery
	}
	return nil
}

func (m *MetricsConfig) validate() error {
	if m.Listen == "" {
		m.Listen = DefaultMetricsListen
	}
	if m.Listen == "off" {
		return nil
	}
	if _, port, err := net.SplitHostPort(m.Listen); err != nil || port == "" {
		return keyErrorf("metrics.listen", "%s: want HOST:PORT such as 127.0.0.1:9469, or off", quote.Q(m.Listen))
	}
	return nil
}

// PlanOptions are check's options of the config, for plan.Build.
func (c *Config) PlanOptions() plan.Options {
	return plan.Options{
		Targets: c.Targets, TargetsFile: c.TargetsFile, Cloud: c.Cloud, Region: c.Region,
		Members: c.Members, StorageAccounts: c.StorageAccounts, Vaults: c.Vaults, PrivateEndpoint: c.PrivateEndpoint,
		Resolvers: c.Resolvers, Proxy: c.ProxyURL, Path: c.Path, CAFile: c.CAFile,
		ServiceTags: c.ServiceTags.File, Timeout: c.Timeout.Duration, Concurrency: c.Concurrency,
		NoWildcardCheck: c.NoWildcardCheck, TrustPath: c.TrustPath,
	}
}

// resolvePaths makes the file paths of the config absolute, relative to dir.
func (c *Config) resolvePaths(dir string) {
	for _, p := range []*string{&c.TargetsFile, &c.CAFile, &c.ServiceTags.File, &c.ServiceTags.CacheDir, &c.Log.File} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
}
