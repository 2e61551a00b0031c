//go:build !linux

package sim

import "time"

// preciseSleep leaves the whole rest of the wait to the caller's spin where
// no high-resolution sleep is at hand.
func preciseSleep(time.Duration) {}
