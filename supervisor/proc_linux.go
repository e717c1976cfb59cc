package supervisor

import "syscall"

// setPdeathsig has the kernel kill the backend if roost dies, even by
// SIGKILL. Only the backend itself gets this signal; the watchdog takes
// care of its descendants.
func setPdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
