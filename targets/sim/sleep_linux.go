package sim

import (
	"syscall"
	"time"
)

// spinWindow is the end of a sleep spent spinning: nanosleep overshoots by
// the kernel's timer slack (50 µs by default).
const spinWindow = 100 * time.Microsecond

// preciseSleep sleeps about d with the kernel's high-resolution timer, ending
// a little early; the caller spins the rest. The thread blocks in the
// system call (the Go scheduler hands its P to other goroutines when they
// need it), so it costs no CPU.
func preciseSleep(d time.Duration) {
	if d -= spinWindow; d <= 0 {
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
