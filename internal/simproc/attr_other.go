//go:build !linux

package simproc

import "syscall"

// childAttr is nil where there is no parent-death signal: Stop is then
// the only way the server ends.
func childAttr() *syscall.SysProcAttr { return nil }
