// Package pid1 is what roost's binary does when it starts as the first
// process of a PID namespace, as in a container without an init (Linux):
// there, every process whose parent dies is handed to PID 1, and stays a
// zombie until PID 1 waits for it.
//
// PID 1 then does only an init's work, as tini and docker run --init do:
// it runs roost's binary again with the same arguments as its only child,
// which does everything roost does; it passes the signals that stop roost
// on to that child; it waits for every process handed to it; and it exits
// with the child's exit code once the child has exited.
//
// Reaping and roost's own waiting never meet: the backends are the
// child's children, and the child waits for them (os/exec) as it does
// anywhere else, while PID 1 waits for any process (wait4(-1)) and starts
// none but the child. Reaping in roost's own process instead would race
// with os/exec for the backends' exit statuses, and with every future
// use of os/exec.
//
// It imports no roost package; the program's main calls it first:
//
//	if pid1.Needed() {
//		os.Exit(pid1.Run(os.Args))
//	}
package pid1

// Needed reports whether this process is PID 1 of its namespace, on
// Linux, and must therefore Run.
func Needed() bool { return needed() }

// Run runs args (os.Args: roost's binary is started again, as found by
// os.Executable) as PID 1's only child, passes on to it the signals that
// stop roost (SIGTERM from a container runtime, SIGINT from a terminal)
// and the others a person may send (SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2),
// so that roost gets what it would without PID 1 in between, reaps
// every process that exits, and returns the child's exit code once it has
// exited: its own, or 128 + the signal that killed it, as a shell says.
// When the child cannot be started, it says why on stderr and returns 1.
func Run(args []string) int { return run(args) }
