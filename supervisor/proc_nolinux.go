//go:build unix && !linux

package supervisor

import "syscall"

// setPdeathsig does nothing: only Linux has a parent-death signal. The
// watchdog kills the backend's group when roost dies.
func setPdeathsig(*syscall.SysProcAttr) {}
