package servicetags

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// replaceWait bounds how long replaceFile waits for other processes to let go
// of the file it replaces.
const replaceWait = 5 * time.Second

// replaceFile renames tmp over path. Windows refuses (access denied, or a
// sharing violation) while another process has path open without
// FILE_SHARE_DELETE — an egressprobe reading the cache, a virus scanner
// looking at the new file — which lasts moments, so the rename is retried
// with a growing pause, as Go's own cmd/go does, before giving up.
func replaceFile(tmp, path string) error {
	deadline := time.Now().Add(replaceWait)
	pause := 10 * time.Millisecond
	for {
		err := os.Rename(tmp, path)
		if err == nil || !inUse(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: another process kept %s open for %s (a running egressprobe or a virus scanner); try again when it is done", err, path, replaceWait)
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
}

func inUse(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)
}
