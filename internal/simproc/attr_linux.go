package simproc

import "syscall"

// childAttr asks the kernel to kill the server when its parent dies, so a
// client killed with SIGKILL (or one that exits without stopping it)
// leaves no simulator behind. The signal follows the thread that started
// the child; the Go runtime keeps its threads unless a goroutine locked
// to one exits, which nothing here does.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
