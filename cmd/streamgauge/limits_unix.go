//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// ensureFiles raises the process's open-file limit to need (up to the hard
// limit) and fails with a clear message when the system cannot allow it.
func ensureFiles(need uint64, why string) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // unknown: let the run find out
	}
	if lim.Cur >= need {
		return nil
	}
	if need > lim.Max {
		return fmt.Errorf("%s needs about %d open files, but this system allows %d (ulimit -Hn); lower it, raise the hard limit, or split the load into shards", why, need, lim.Max)
	}
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("%s needs about %d open files; raising the limit from %d failed: %v (try ulimit -n %d)", why, need, lim.Cur, err, need)
	}
	return nil
}
