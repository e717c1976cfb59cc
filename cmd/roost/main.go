// Command roost hosts a web app behind a supervisor and reverse proxy, the
// way the ASP.NET Core Module hosts one behind IIS: it reads the app's
// web.config, runs the backend process and forwards requests to it.
//
// Usage:
//
//	roost run [flags] [APP]        run the app in the foreground
//	roost check [--json] [APP]     validate web.config and print the effective settings
//	roost logs [-f] [-n N] [APP]   print (and follow) the app's stdout log
//	roost status [--json] [APP]    ask the roost that runs APP how it is
//	roost service ACTION [APP]     install, uninstall, start, stop, restart, status
//	roost version                  print the version
//
// APP is the app folder or the path of its web.config (default: the current
// folder). Exit codes: 0 success, 1 runtime failure, 2 usage or
// configuration error; roost status also exits 1 when the backend is not
// ready and 3 when no roost runs for APP.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/roosthq/roost/supervisor"
	"github.com/roosthq/roost/supervisor/pid1"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module's build information.
var version = ""

func main() {
	// roost's binary is also the watchdog that kills the backends' process
	// groups if roost is killed: supervisor.StartWatchdog runs it so.
	if os.Getenv(supervisor.WatchdogEnv) == "1" {
		os.Exit(supervisor.RunWatchdog(os.Stdin))
	}
	// As PID 1 (a container without an init), roost's binary is the
	// init, reaping orphans, and roost runs as its child: see package pid1.
	if pid1.Needed() {
		os.Exit(pid1.Run(os.Args))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: roost <command> [arguments]

Commands:
  run [flags] [APP]        run the app in the foreground (roost run -h for flags)
  check [--json] [APP]     validate APP's web.config and print the effective settings
  logs [-f] [-n N] [APP]   print the app's newest stdout log lines; -f follows them
  status [--json] [APP]    print how the roost that runs APP is (exit 0 ready, 1 not ready, 3 not running)
  service ACTION [APP]     install|uninstall|start|stop|restart|status roost as a service
                           (roost service install -h for flags)
  version                  print roost's version

APP is the app folder or the path of its web.config (default: the current folder).
`

// run executes one roost command and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return runRun(rest, stdout, stderr)
	case "check":
		return runCheck(rest, stdout, stderr)
	case "service":
		return runService(rest, stdin, stdout, stderr)
	case "logs":
		return runLogs(rest, stdout, stderr)
	case "status":
		return runStatus(rest, stdout, stderr)
	case "version":
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "roost version: unexpected argument %q\n", rest[0])
			return exitUsage
		}
		fmt.Fprintf(stdout, "roost %s %s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "roost: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// parseFlags parses args with fs, allowing flags after positional
// arguments (roost check web.config --json), and returns the positional
// arguments. Everything after "--" is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a flag set that reports errors to stderr with the
// command's usage.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("roost "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: roost %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseApp parses args with fs (see parseFlags) and returns the one APP
// they name, "." when none. On an error it has said what is wrong on
// stderr, and returns the exit code.
func parseApp(fs *flag.FlagSet, args []string, stderr io.Writer) (app string, code int, ok bool) {
	positional, err := parseFlags(fs, args)
	if err != nil {
		return "", flagExit(err), false
	}
	switch len(positional) {
	case 0:
		return ".", exitOK, true
	case 1:
		return positional[0], exitOK, true
	}
	fmt.Fprintf(stderr, "%s: want at most one APP, got %d\n", fs.Name(), len(positional))
	return "", exitUsage, false
}

// flagExit maps a flag parsing error to an exit code: -h is not an error.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		return "devel-" + rev[:min(12, len(rev))] + modified
	}
	if v == "" {
		return "(devel)"
	}
	return v
}
