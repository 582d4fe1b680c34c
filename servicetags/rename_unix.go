//go:build !windows

package servicetags

import "os"

// replaceFile renames tmp over path; POSIX replaces it even while it is open.
func replaceFile(tmp, path string) error { return os.Rename(tmp, path) }
