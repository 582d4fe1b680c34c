package targets

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileError is a problem at one line of a targets file.
type FileError struct {
	File string
	Line int // 1-based; 0 when the problem is the file as a whole
	Err  error
}

func (e *FileError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ReadFile reads and parses a targets file (see ParseFile). Errors name the file.
func ReadFile(path string) ([]Endpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("targets file: %w", err)
	}
	return ParseFile(filepath.Base(path), data)
}

// ParseFile parses a targets file named name (used in errors and in each
// endpoint's Source as "name:line"). Two formats, told apart by content:
//
//   - YAML: a list of mappings {host, port, scheme, path, expect_tags,
//     expect_body, timeout, family}; recognised by its first significant line
//     starting with "-" or "---" (a host name cannot start with a hyphen);
//   - a plain list: one target a line in the command-line syntax (ParseTarget);
//     blank lines and "#" comments (whole-line, or after a space) are ignored.
//
// An empty file, or one with only comments, is an error: a run with no targets
// is almost always a mistake in the file name.
func ParseFile(name string, data []byte) ([]Endpoint, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Notepad's UTF-8 BOM
	var eps []Endpoint
	var err error
	if looksLikeYAML(data) {
		eps, err = parseYAML(name, data)
	} else {
		eps, err = parseList(name, data)
	}
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		return nil, &FileError{File: name, Err: errors.New("no targets in the file (only blank lines and comments?)")}
	}
	return eps, nil
}

func looksLikeYAML(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		return strings.HasPrefix(l, "-")
	}
	return false
}

func parseList(name string, data []byte) ([]Endpoint, error) {
	var eps []Endpoint
	for i, line := range strings.Split(string(data), "\n") {
		l := stripComment(strings.TrimSpace(line))
		if l == "" {
			continue
		}
		e, err := ParseTarget(l)
		if err != nil {
			return nil, &FileError{File: name, Line: i + 1, Err: err}
		}
		e.Source = fmt.Sprintf("%s:%d", name, i+1)
		eps = append(eps, e)
	}
	return eps, nil
}

// stripComment drops a "#" comment that starts the line or follows a blank;
// a "#" inside a word (a URL fragment) is left to ParseTarget to reject.
func stripComment(l string) string {
	if strings.HasPrefix(l, "#") {
		return ""
	}
	if i := strings.IndexAny(l, " \t"); i >= 0 {
		if j := strings.Index(l[i:], "#"); j >= 0 && strings.TrimSpace(l[i:i+j]) == "" {
			return strings.TrimSpace(l[:i])
		}
	}
	return l
}

// yamlKeys are the keys of one YAML target, in the order documented.
var yamlKeys = []string{"host", "port", "scheme", "path", "expect_tags", "expect_body", "timeout", "family"}

func parseYAML(name string, data []byte) ([]Endpoint, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlSyntaxError(name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // "---" and nothing else: no targets
	}
	if root.Kind != yaml.SequenceNode {
		return nil, &FileError{File: name, Line: root.Line, Err: errors.New("expected a list of targets (each item starting with \"- host: ...\")")}
	}
	eps := make([]Endpoint, 0, len(root.Content))
	for _, item := range root.Content {
		e, err := yamlTarget(item)
		if err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				fe.File = name
				return nil, fe
			}
			return nil, &FileError{File: name, Line: item.Line, Err: err}
		}
		e.Source = fmt.Sprintf("%s:%d", name, item.Line)
		eps = append(eps, e)
	}
	return eps, nil
}

// yamlSyntaxError keeps the line number the YAML parser reports ("yaml: line
// 3: ...") in our file:line form.
func yamlSyntaxError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		return &FileError{File: name, Line: line, Err: fmt.Errorf("YAML: %s", msg)}
	}
	return &FileError{File: name, Err: fmt.Errorf("YAML: %s", msg)}
}

func yamlTarget(item *yaml.Node) (Endpoint, error) {
	if item.Kind != yaml.MappingNode {
		return Endpoint{}, errors.New("a target must be a mapping such as {host: example.com, port: 443}")
	}
	vals := map[string]*yaml.Node{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if !slices.Contains(yamlKeys, k.Value) {
			return Endpoint{}, &FileError{Line: k.Line, Err: fmt.Errorf("unknown key %q; valid keys: %s", k.Value, strings.Join(yamlKeys, ", "))}
		}
		if _, dup := vals[k.Value]; dup {
			return Endpoint{}, &FileError{Line: k.Line, Err: fmt.Errorf("key %q given twice", k.Value)}
		}
		vals[k.Value] = v
	}
	at := func(key string, err error) error {
		return &FileError{Line: vals[key].Line, Err: fmt.Errorf("%s: %w", key, err)}
	}

	hostNode, ok := vals["host"]
	if !ok {
		return Endpoint{}, errors.New("the target has no host")
	}
	host, err := scalar(hostNode)
	if err != nil {
		return Endpoint{}, at("host", err)
	}
	e, err := ParseTarget(host)
	if err != nil {
		return Endpoint{}, at("host", err)
	}
	if n, ok := vals["scheme"]; ok {
		s, err := scalar(n)
		if err != nil {
			return e, at("scheme", err)
		}
		switch s = strings.ToLower(s); s {
		case SchemeHTTPS, SchemeHTTP:
			if e.Scheme != s && e.Port == defaultPort(e.Scheme) {
				e.Port = defaultPort(s)
			}
			e.Scheme = s
		default:
			return e, at("scheme", fmt.Errorf("%q is not supported; use https or http", s))
		}
	}
	if n, ok := vals["port"]; ok {
		var p int
		if err := n.Decode(&p); err != nil || p < 1 || p > 65535 {
			return e, at("port", fmt.Errorf("%q is not a number from 1 to 65535", n.Value))
		}
		e.Port = p
	}
	if n, ok := vals["path"]; ok {
		p, err := scalar(n)
		if err != nil {
			return e, at("path", err)
		}
		if !strings.HasPrefix(p, "/") {
			return e, at("path", fmt.Errorf("%q must start with /", p))
		}
		e.Path = p
	}
	if n, ok := vals["expect_tags"]; ok {
		var tags []string
		if err := n.Decode(&tags); err != nil {
			return e, at("expect_tags", errors.New("must be a list of service-tag names, e.g. [AzureBackup, Storage.WestEurope]"))
		}
		for _, t := range tags {
			if t == "" || strings.ContainsAny(t, " \t,") {
				return e, at("expect_tags", fmt.Errorf("%q is not a service-tag name", t))
			}
		}
		e.ExpectedTags = tags
	}
	if n, ok := vals["expect_body"]; ok {
		b, err := scalar(n)
		if err != nil {
			return e, at("expect_body", err)
		}
		e.ExpectBody = b
		if e.Path == "" {
			e.Path = "/"
		}
	}
	if n, ok := vals["timeout"]; ok {
		s, err := scalar(n)
		if err != nil {
			return e, at("timeout", err)
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return e, at("timeout", fmt.Errorf("%q is not a positive duration such as 3s, 1500ms or 1m", s))
		}
		e.Timeout = d
	}
	if n, ok := vals["family"]; ok {
		f, err := scalar(n)
		if err != nil || f == "" {
			return e, at("family", errors.New("must be a non-empty string"))
		}
		e.Family = f
	}
	return e, nil
}

func defaultPort(scheme string) int {
	if scheme == SchemeHTTP {
		return 80
	}
	return 443
}

func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("must be a single value, not a list or mapping")
	}
	return n.Value, nil
}
