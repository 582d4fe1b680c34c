package targets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"egressprobe/internal/quote"
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

// noSuchFile words a missing targets file the same on every OS (Windows
// says "Path not found.") and still unwraps to the OS error.
type noSuchFile struct{ err error }

func (e noSuchFile) Error() string { return "no such file or directory" }
func (e noSuchFile) Unwrap() error { return e.err }

// ReadFile reads and parses a targets file (see ParseFile). Errors name the
// file as the user gave it ("lab/targets.txt").
func ReadFile(path string) ([]Endpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is the FileError's
		}
		if errors.Is(err, fs.ErrNotExist) {
			err = noSuchFile{err}
		}
		return nil, &FileError{File: path, Err: fmt.Errorf("cannot read the targets file: %w", err)}
	}
	return ParseFile(path, data)
}

// ParseFile parses a targets file named name (used in errors and in each
// endpoint's Source as "name:line"). The file is UTF-8, or UTF-16 with a byte
// order mark as Windows PowerShell's Out-File and Notepad's "Unicode" write it.
// Two formats:
//
//   - YAML: a list of mappings {host, port, scheme, path, expect_tags,
//     expect_body, timeout, family}, at the top or under a "targets:" key;
//     recognised by the extension .yaml or .yml, or by its first line that is
//     not blank or a comment starting with "-", "---", "%" or "key:" (a target
//     cannot: a host name cannot start with a hyphen, and host:port has no
//     blank after its colon);
//   - a plain list: one target a line in the command-line syntax (ParseTarget);
//     blank lines and "#" comments (whole-line, or after a space) are ignored.
//
// An empty file, or one with only comments, is an error: a run with no targets
// is almost always a mistake in the file name.
func ParseFile(name string, data []byte) ([]Endpoint, error) {
	text, ferr := decodeText(data)
	if ferr != nil {
		ferr.File = name
		return nil, ferr
	}
	var eps []Endpoint
	var err error
	if isYAMLName(name) || looksLikeYAML(text) {
		eps, err = parseYAML(name, text)
	} else {
		eps, err = parseList(name, text)
	}
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		return nil, &FileError{File: name, Err: errors.New("no targets in the file (only blank lines and comments?)")}
	}
	return eps, nil
}

// decodeText turns a file's bytes into text: UTF-8 (a BOM dropped), or UTF-16
// LE or BE with a BOM. Anything else gets one line saying what to do, never a
// dump of the bytes.
func decodeText(data []byte) (string, *FileError) {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")): // Notepad's UTF-8 BOM
		data = data[3:]
	case bytes.HasPrefix(data, []byte("\xff\xfe")):
		order = binary.LittleEndian
	case bytes.HasPrefix(data, []byte("\xfe\xff")):
		order = binary.BigEndian
	}
	if order != nil {
		data = data[2:]
		if len(data)%2 != 0 {
			return "", unreadable(0, "UTF-16 with an odd number of bytes: the file is cut short")
		}
		units := make([]uint16, len(data)/2)
		for i := range units {
			units[i] = order.Uint16(data[2*i:])
		}
		data = []byte(string(utf16.Decode(units)))
		if i := bytes.IndexRune(data, utf8.RuneError); i >= 0 {
			return "", unreadable(lineAt(data, i), "UTF-16 that does not decode (a lone surrogate)")
		}
	}
	if i := invalidUTF8(data); i >= 0 {
		return "", unreadable(lineAt(data, i), fmt.Sprintf("byte 0x%02X is not UTF-8 (a legacy code page?)", data[i]))
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "", unreadable(lineAt(data, i), "a NUL byte (UTF-16 without a byte order mark?)")
	}
	return string(data), nil
}

// invalidUTF8 is the offset of the first byte that is not UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

func lineAt(b []byte, i int) int { return bytes.Count(b[:i], []byte("\n")) + 1 }

func unreadable(line int, what string) *FileError {
	return &FileError{Line: line, Err: fmt.Errorf("%s; save the file as UTF-8 (Notepad: Save As, Encoding UTF-8; PowerShell: Out-File -Encoding utf8)", what)}
}

func isYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// yamlStart matches a first line that only YAML has: a list item, a document
// start, a directive, or a mapping key followed by a blank or the line's end.
var yamlStart = regexp.MustCompile(`^(-|%|[A-Za-z_][A-Za-z0-9_-]*:(\s|$))`)

func looksLikeYAML(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		return yamlStart.MatchString(l)
	}
	return false
}

func parseList(name string, text string) ([]Endpoint, error) {
	var eps []Endpoint
	for i, line := range strings.Split(text, "\n") {
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

// FileKeys are the keys of one target in a YAML targets file (for help).
func FileKeys() []string { return slices.Clone(yamlKeys) }

func parseYAML(name string, text string) ([]Endpoint, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, yamlSyntaxError(name, text, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // "---" and nothing else: no targets
	}
	if root.Kind == yaml.MappingNode {
		// "targets:" over the list, as other tools' files nest theirs.
		list, err := targetsKey(root)
		if err != nil {
			return nil, &FileError{File: name, Line: err.line, Err: err.err}
		}
		if list == nil {
			return nil, nil
		}
		root = list
	}
	if root.Kind != yaml.SequenceNode {
		return nil, &FileError{File: name, Line: root.Line, Err: errNotList}
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

var errNotList = errors.New("expected a list of targets (each item starting with \"- host: ...\")")

type lineError struct {
	line int
	err  error
}

// targetsKey is the list under a top-level mapping's only key, "targets"; nil
// when that key has no value.
func targetsKey(m *yaml.Node) (*yaml.Node, *lineError) {
	var list *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if slices.Contains(yamlKeys, k.Value) {
			return nil, &lineError{k.Line, errNotList}
		}
		if k.Value != "targets" {
			return nil, &lineError{k.Line, fmt.Errorf("unknown top-level key %s; the file is a list of targets, or one key \"targets:\" holding it", quote.Q(k.Value))}
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil, nil
		}
		if v.Kind != yaml.SequenceNode {
			return nil, &lineError{v.Line, fmt.Errorf("targets: %w", errNotList)}
		}
		list = v
	}
	return list, nil
}

// yamlSyntaxError keeps the line number the YAML parser reports ("yaml: line
// 3: ...") in our file:line form. The parser's own errors (not the scanner's)
// report the line before the one at fault, a 0-based number printed as is
// (go-yaml v3); they are the ones that start "did not find expected" or name a
// directive or tag. The line is kept within the file.
func yamlSyntaxError(name, text string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		for _, p := range []string{"did not find expected", "found undefined tag", "found duplicate", "found incompatible"} {
			if strings.HasPrefix(msg, p) {
				line++
			}
		}
		line = min(line, strings.Count(strings.TrimRight(text, "\r\n"), "\n")+1)
		return &FileError{File: name, Line: line, Err: fmt.Errorf("YAML: %s", quote.Cut(msg))}
	}
	return &FileError{File: name, Err: fmt.Errorf("YAML: %s", quote.Cut(msg))}
}

func yamlTarget(item *yaml.Node) (Endpoint, error) {
	if item.Kind != yaml.MappingNode {
		return Endpoint{}, errors.New("a target must be a mapping such as {host: example.com, port: 443}")
	}
	vals := map[string]*yaml.Node{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if !slices.Contains(yamlKeys, k.Value) {
			return Endpoint{}, &FileError{Line: k.Line, Err: fmt.Errorf("unknown key %s; valid keys: %s", quote.Q(k.Value), strings.Join(yamlKeys, ", "))}
		}
		if _, dup := vals[k.Value]; dup {
			return Endpoint{}, &FileError{Line: k.Line, Err: fmt.Errorf("key %s given twice", quote.Q(k.Value))}
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
	for _, k := range []string{"scheme", "port", "path", "expect_body"} {
		if _, given := vals[k]; given {
			e.shaped = true // probed as written, not as the catalog would (AsCatalog)
		}
	}
	for _, s := range yamlSetters {
		if n, ok := vals[s.key]; ok {
			if err := s.set(&e, n); err != nil {
				return e, at(s.key, err)
			}
		}
	}
	return e, nil
}

// yamlSetters apply the keys of a YAML target after host, one entry a key, in
// the order they depend on one another: scheme before port (a scheme moves a
// default port), path before expect_body (which implies "/").
var yamlSetters = []struct {
	key string
	set func(e *Endpoint, n *yaml.Node) error
}{
	{"scheme", func(e *Endpoint, n *yaml.Node) error {
		s, err := scalar(n)
		if err != nil {
			return err
		}
		switch s = strings.ToLower(s); s {
		case SchemeHTTPS, SchemeHTTP:
			if e.Scheme != s && e.Port == defaultPort(e.Scheme) {
				e.Port = defaultPort(s)
			}
			e.Scheme = s
			return nil
		}
		return fmt.Errorf("%s is not supported; use https or http", quote.Q(s))
	}},
	{"port", func(e *Endpoint, n *yaml.Node) error {
		var p int
		if err := n.Decode(&p); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("%s is not a number from 1 to 65535", quote.Q(n.Value))
		}
		e.Port = p
		return nil
	}},
	{"path", func(e *Endpoint, n *yaml.Node) error {
		p, err := scalar(n)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("%s must start with /", quote.Q(p))
		}
		e.Path = p
		return nil
	}},
	{"expect_tags", func(e *Endpoint, n *yaml.Node) error {
		var tags []string
		if err := n.Decode(&tags); err != nil {
			return errors.New("must be a list of service-tag names, e.g. [AzureBackup, Storage.WestEurope]")
		}
		for _, t := range tags {
			if t == "" || strings.ContainsAny(t, " \t,") {
				return fmt.Errorf("%s is not a service-tag name", quote.Q(t))
			}
		}
		e.ExpectedTags = tags
		return nil
	}},
	{"expect_body", func(e *Endpoint, n *yaml.Node) error {
		b, err := scalar(n)
		if err != nil {
			return err
		}
		e.ExpectBody = b
		if e.Path == "" {
			e.Path = "/"
		}
		return nil
	}},
	{"timeout", func(e *Endpoint, n *yaml.Node) error {
		s, err := scalar(n)
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s is not a positive duration such as 3s, 1500ms or 1m", quote.Q(s))
		}
		e.Timeout = d
		return nil
	}},
	{"family", func(e *Endpoint, n *yaml.Node) error {
		f, err := scalar(n)
		if err != nil || f == "" {
			return errors.New("must be a non-empty string")
		}
		e.Family = f
		return nil
	}},
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
