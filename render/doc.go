// Package render turns results into tables, JSON, CSV, Markdown and HTML: pure
// functions onto an io.Writer; nothing here reads the clock, the environment or
// os.Stdout.
package render
