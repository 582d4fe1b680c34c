package render

import (
	"html/template"
	"io"

	"egressprobe/report"
)

// checkHTML writes one self-contained page (inline CSS, no script, nothing
// fetched) that can be mailed or attached to a ticket. html/template escapes
// every string that came from the report.
func checkHTML(w io.Writer, r *report.Report, verbose bool) error {
	t, err := template.New("check").Funcs(template.FuncMap{"timings": timingsLine}).Parse(checkHTMLTemplate)
	if err == nil {
		_, err = t.New("trust").Parse(trustHTML)
	}
	if err != nil {
		return err
	}
	v := newCheckView(r)
	columns := 7 // host, ip, path, status, detail, tags, provider
	if v.ShowResolve {
		columns++
	}
	if verbose {
		columns++
	}
	return t.Execute(w, struct {
		checkView
		Verbose bool
		Span    int // of a warning row: every column but the first
	}{v, verbose, columns - 1})
}

const checkHTMLTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.25em 0.8em 0.25em 0; border-bottom: 1px solid #ddd; vertical-align: top; }
th { border-bottom: 2px solid #999; }
code, td.mono { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 0.95em; }
.ok { color: #18794e; font-weight: 600; }
.failed { color: #c62828; font-weight: 600; }
.warn { color: #8a5a00; }
tr.warn td { border-bottom: 1px solid #ddd; font-size: 0.92em; }
.allsame { color: #c62828; font-weight: 600; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}}</p>
<p><strong>{{.Overall}}</strong></p>
{{- if .AllSame}}
<p class="allsame">{{.AllSame}}</p>
{{- end}}
{{- range .Families}}
<h2><code>{{.Name}}</code></h2>
{{- if .Summary}}
<p>{{.Summary}}</p>
{{- end}}
<table>
<thead><tr><th>host</th><th>ip</th><th>path</th>{{if $.ShowResolve}}<th>resolver</th>{{end}}<th>status</th><th>detail</th><th>tags</th><th>provider</th>{{if $.Verbose}}<th>timings</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="mono">{{.Host}}</td><td class="mono">{{.IP}}</td><td>{{.Path}}</td>{{if $.ShowResolve}}<td class="mono">{{.Resolver}}</td>{{end}}<td class="{{if .OK}}ok{{else}}failed{{end}}">{{.Status}}</td><td>{{.Detail}}</td><td{{if .TagsMismatch}} class="warn"{{end}}>{{.Tags}}</td><td>{{.Provider}}</td>{{if $.Verbose}}<td>{{timings .}}</td>{{end}}</tr>
{{- range .Warnings}}
<tr class="warn"><td></td><td colspan="{{$.Span}}">! {{.}}</td></tr>
{{- end}}
{{- end}}
</tbody>
</table>
{{- end}}
{{template "trust" .}}
<h2>Summary</h2>
<ul>
{{- range .Families}}{{if .Summary}}
<li><code>{{.Name}}</code>: {{.Summary}}</li>
{{- end}}{{end}}
<li>Overall: {{.Overall}}</li>
{{- if .Clock}}
<li class="warn">{{.Clock}}</li>
{{- end}}
<li>{{.Tags}}</li>
{{- if .NotProbed}}
<li class="warn">{{.NotProbed}}</li>
{{- end}}
{{- range .Wildcards}}
<li>Wildcard DNS: {{.}}</li>
{{- end}}
</ul>
{{- if .Open}}
<h2>What to open</h2>
<ol>
{{- range .Open}}
<li><strong>{{.Hop}}</strong>: {{.Change}}{{if .Details}}<ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}</li>
{{- end}}
</ol>
{{- end}}
{{- if .NothingOpen}}
<p class="ok">{{.NothingOpen}}</p>
{{- end}}
</body>
</html>
`
