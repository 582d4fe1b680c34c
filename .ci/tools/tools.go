//go:build tools

// Package tools pins the linters CI builds, so CI never depends on
// `go install tool@latest` being served.
package tools

import (
	_ "honnef.co/go/tools/cmd/staticcheck"
)
