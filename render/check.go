package render

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"egressprobe/internal/quote"
	"egressprobe/report"
)

// Format is an output format of `egressprobe check`.
type Format string

// The output formats, as the -o flag spells them.
const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatJSONL    Format = "jsonl"
	FormatCSV      Format = "csv"
	FormatMarkdown Format = "markdown"
	FormatHTML     Format = "html"
)

// Formats lists every format in the order help texts show them.
func Formats() []Format {
	return []Format{FormatTable, FormatJSON, FormatJSONL, FormatCSV, FormatMarkdown, FormatHTML}
}

// ParseFormat turns the -o flag's value into a Format. Case and surrounding
// spaces are ignored; anything else unknown is an error naming the value and
// the valid ones.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %s%s", quote.Q(s), quote.OneOf(s, FormatNames()))
}

// FormatNames are Formats as strings, for help texts and shell completion.
func FormatNames() []string {
	names := make([]string, 0, len(Formats()))
	for _, v := range Formats() {
		names = append(names, string(v))
	}
	return names
}

// CheckOptions says how to show a check report. The caller decides every
// field from the world (terminal, NO_COLOR, -v, terminal size); render never
// looks itself.
type CheckOptions struct {
	Format  Format // "" means table
	Color   bool   // ANSI colours in the table (stdout is a terminal and NO_COLOR is unset)
	Verbose bool   // per-step timings (DNS, TCP, proxy CONNECT, TLS, HTTP) in the table, Markdown and HTML
	Width   int    // terminal width in columns; 0: unlimited
}

// Check writes r to w in opt.Format.
func Check(w io.Writer, r *report.Report, opt CheckOptions) error {
	if r == nil {
		return fmt.Errorf("render check: no report to show")
	}
	var err error
	switch opt.Format {
	case FormatTable, "":
		err = checkTable(w, r, opt)
	case FormatJSON:
		err = checkJSON(w, r)
	case FormatJSONL:
		err = checkJSONL(w, r)
	case FormatCSV:
		err = checkCSV(w, r)
	case FormatMarkdown:
		err = checkMarkdown(w, r, opt.Verbose)
	case FormatHTML:
		err = checkHTML(w, r, opt.Verbose)
	default:
		_, err = ParseFormat(string(opt.Format))
		return err
	}
	if err != nil {
		return fmt.Errorf("render check as %s: %w", formatName(opt.Format), err)
	}
	return nil
}

func formatName(f Format) Format {
	if f == "" {
		return FormatTable
	}
	return f
}

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	// The output is read by people and scripts, never embedded in HTML:
	// keep URLs with '&' and names with '<' readable.
	enc.SetEscapeHTML(false)
	return enc
}

// jsonResultsKey is where the envelope's results go in the indented JSON of a
// Report without them: a key at depth one follows a newline and two spaces,
// and no string value holds a raw newline.
var jsonResultsKey = []byte("\n  \"results\": null")

// checkJSON writes the report as it is: the documented, versioned contract,
// byte for byte what encoding/json writes for the whole Report. The results
// are encoded one at a time into the envelope as it is written: at 10,000
// results the whole document in memory (compact, then indented, each grown by
// doubling) was most of a run's peak memory.
func checkJSON(w io.Writer, r *report.Report) error {
	envelope := *r
	envelope.Results = nil
	var head bytes.Buffer
	enc := newJSONEncoder(&head)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&envelope); err != nil {
		return err
	}
	if r.Results == nil {
		_, err := w.Write(head.Bytes())
		return err
	}
	before, after, ok := bytes.Cut(head.Bytes(), jsonResultsKey)
	if !ok {
		return fmt.Errorf("no %q key in the report's JSON", "results")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(before)
	bw.WriteString("\n  \"results\": [")
	var item bytes.Buffer
	enc = newJSONEncoder(&item)
	enc.SetIndent("    ", "  ") // an element of the results array
	for i := range r.Results {
		item.Reset()
		if err := enc.Encode(&r.Results[i]); err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(item.Bytes(), []byte("\n")))
	}
	if len(r.Results) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteByte(']')
	bw.Write(after)
	return bw.Flush() // the first write error, if any, is kept until here
}

// checkJSONL writes one result object a line, without the envelope, for
// line-oriented tools (jq -c, log shippers).
func checkJSONL(w io.Writer, r *report.Report) error {
	enc := newJSONEncoder(w)
	for i := range r.Results {
		if err := enc.Encode(&r.Results[i]); err != nil {
			return err
		}
	}
	return nil
}

// CSVHeader is the fixed header of `check -o csv`, one row per result.
// Lists (warnings: their codes; service_tags: their distinct names) are joined
// with ';'. Absent values are empty cells: ip when resolution failed, the
// proxy_connect_* cells without a proxy, the tls_* cells when no handshake was
// attempted, expected_tags_ok when not judged. Times are milliseconds.
func CSVHeader() []string {
	return []string{
		"host", "port", "family", "ip", "path", "proxy", "resolver", "status", "error", "warnings",
		"dns_ms", "tcp_ms", "proxy_connect_status", "proxy_connect_ms",
		"tls_version", "tls_issuer", "tls_verified", "tls_intercepted_by", "tls_ms",
		"service_tags", "expected_tags_ok", "provider",
	}
}

func checkCSV(w io.Writer, r *report.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return err
	}
	for i := range r.Results {
		if err := cw.Write(csvRow(&r.Results[i])); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(res *report.Result) []string {
	codes := make([]string, 0, len(res.Warnings))
	for _, w := range res.Warnings {
		codes = append(codes, w.Code)
	}
	var connectStatus, connectMS string
	if res.ProxyConnect != nil {
		connectStatus = strconv.Itoa(res.ProxyConnect.StatusCode)
		connectMS = csvMS(res.ProxyConnect.MS)
	}
	var tlsVersion, tlsIssuer, tlsVerified, tlsBy, tlsMS string
	if res.TLS != nil {
		tlsVersion, tlsIssuer, tlsBy = res.TLS.Version, res.TLS.Issuer, res.TLS.InterceptedBy
		tlsVerified = strconv.FormatBool(res.TLS.Verified)
		tlsMS = csvMS(res.TLS.MS)
	}
	var tcpMS string
	if res.TCP != nil {
		tcpMS = csvMS(res.TCP.MS)
	}
	var tagsOK, provider string
	if res.ExpectedTagsOK != nil {
		tagsOK = strconv.FormatBool(*res.ExpectedTagsOK)
	}
	if res.Provider != nil {
		provider = res.Provider.Name
	}
	return []string{
		csvText(res.Host), strconv.Itoa(res.Port), csvText(res.Family), csvText(deref(res.IP)),
		csvText(string(res.Path)), csvText(deref(res.Proxy)), csvText(res.Resolver), csvText(string(res.Status)),
		csvText(res.Error), csvText(strings.Join(codes, ";")),
		csvMS(res.DNS.MS), tcpMS, connectStatus, connectMS,
		csvText(tlsVersion), csvText(tlsIssuer), tlsVerified, csvText(tlsBy), tlsMS,
		csvText(strings.Join(report.TagNames(res.ServiceTags), ";")), tagsOK, csvText(provider),
	}
}

func csvMS(ms float64) string { return strconv.FormatFloat(ms, 'f', -1, 64) }

// csvText defuses a text cell a spreadsheet would run as a formula (a leading
// = + - @, tab or CR: CSV injection) by prefixing a quote, as OWASP advises;
// names and errors never legitimately start that way.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
