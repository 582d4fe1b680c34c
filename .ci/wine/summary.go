//go:build ignore

// summary reads `go test -json` on stdin and prints what `go test` prints
// without -v — a line per package, the output of failed tests — and then
// every skipped test with its reason, so that what did not run under Wine is
// in the CI log. It exits 1 when a test or package failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	out := map[string][]string{} // package + "\x00" + test: output lines
	var skips []string
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Print(sc.Text(), "\n") // a build error, printed by go test itself
			if strings.HasPrefix(sc.Text(), "FAIL") {
				failed = true
			}
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Print(e.Output)
		case "build-fail":
			failed = true
		case "output":
			out[key] = append(out[key], e.Output)
		case "skip":
			if e.Test == "" {
				fmt.Printf("?   \t%s\t[no test files]\n", e.Package)
				continue
			}
			reason := ""
			for _, l := range out[key] {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- SKIP") {
					reason = l
				}
			}
			skips = append(skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, reason))
		case "fail":
			failed = true
			if e.Test == "" {
				// Output outside any test: a panic, a TestMain failure.
				for _, l := range out[key] {
					if !strings.HasPrefix(l, "FAIL") {
						fmt.Print(l)
					}
				}
				fmt.Printf("FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
				delete(out, key)
				continue
			}
			fmt.Print(strings.Join(out[key], ""))
		case "pass":
			if e.Test == "" {
				fmt.Printf("ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
		}
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			delete(out, key)
		}
	}
	sort.Strings(skips)
	fmt.Printf("\n%d tests skipped:\n", len(skips))
	for _, s := range skips {
		fmt.Println("  " + s)
	}
	if failed {
		os.Exit(1)
	}
}
