//go:build !windows

package servicetags

import "os"

// syncDir makes a rename in dir durable: POSIX only guarantees it once the
// directory itself is fsynced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
