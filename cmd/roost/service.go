package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/roosthq/roost/service"
)

const serviceSynopsis = "install|uninstall|start|stop|restart|status [APP] [--name N] [--display-name D] [--description S] [--user U [--password-stdin]] [-- run flags]"

// serviceFlags are roost service's flags.
type serviceFlags struct {
	name, displayName, description, user string
	passwordStdin                        bool
}

// runService handles roost service ACTION ...: everything after "--" is
// passed to roost run by the installed service.
func runService(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
		fmt.Fprintf(stdout, "usage: roost service %s\n\nroost service ACTION -h lists the flags.\n", serviceSynopsis)
		return exitOK
	}
	if len(args) == 0 || !slices.Contains(service.Actions, args[0]) {
		fmt.Fprintf(stderr, "usage: roost service %s\n", serviceSynopsis)
		return exitUsage
	}
	action, args := args[0], args[1:]
	var runArgs []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, runArgs = args[:i], args[i+1:]
	}
	fs := newFlagSet("service "+action, "[APP] [--name N] [--display-name D] [--description S] [--user U [--password-stdin]] [-- run flags]", stderr)
	var f serviceFlags
	fs.StringVar(&f.name, "name", "", "service name (default roost-<app folder name>)")
	fs.StringVar(&f.displayName, "display-name", "", "name shown by the service manager (install)")
	fs.StringVar(&f.description, "description", "", "description (install)")
	fs.StringVar(&f.user, "user", "", "account the service runs as (install; default: the service manager's)")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the --user account's password from the first line of stdin (install; Windows)")
	app, code, ok := parseApp(fs, args, stderr)
	if !ok {
		return code
	}
	if action != "install" && (len(runArgs) > 0 || f.passwordStdin) {
		fmt.Fprintf(stderr, "roost service %s: run flags after -- and --password-stdin are for install only\n", action)
		return exitUsage
	}
	var spec service.Spec
	if action == "install" {
		spec, ok = installSpec(app, f, runArgs, stdin, stderr)
	} else {
		spec, ok = controlSpec(action, app, f.name, stderr)
	}
	if !ok {
		return exitUsage
	}
	msg, err := service.Control(spec, action)
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		if msg == "" {
			msg = err.Error()
		}
		fmt.Fprintln(stderr, msg)
		return exitFailure
	case err != nil:
		fmt.Fprintf(stderr, "roost service %s: %v\n", action, err)
		return exitFailure
	}
	fmt.Fprintln(stdout, msg)
	return exitOK
}

// installSpec checks everything roost service install is given, so that
// nothing is installed on a mistake, and returns the service to install.
// On failure it has said why on stderr.
func installSpec(app string, f serviceFlags, runArgs []string, stdin io.Reader, stderr io.Writer) (service.Spec, bool) {
	if err := checkRunArgs(runArgs); err != nil {
		fmt.Fprintf(stderr, "roost service install: run flags after --: %v\n", err)
		return service.Spec{}, false
	}
	spec := service.Spec{Name: f.name, DisplayName: f.displayName, Description: f.description, User: f.user, RunArgs: runArgs}
	if f.passwordStdin {
		password, err := readPassword(f.user, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "roost service install: --password-stdin: %v\n", err)
			return service.Spec{}, false
		}
		spec.Password = password
	}
	cfg, ok := loadApp("service install", app, "; nothing was installed", stderr)
	if !ok {
		return service.Spec{}, false
	}
	spec, err := service.NewSpec(cfg, spec)
	if err != nil {
		fmt.Fprintf(stderr, "roost service install: %v\n", err)
		return service.Spec{}, false
	}
	return spec, true
}

// readPassword reads the --user account's password from the first line of
// stdin, never from the command line, where other users and the shell's
// history would see it.
func readPassword(user string, stdin io.Reader) (string, error) {
	switch {
	case user == "":
		return "", errors.New("give --user, the account whose password it is")
	case runtime.GOOS != "windows":
		return "", errors.New("only the Windows service manager takes a password; systemd and init scripts run the service as --user without one")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("stdin held no password")
	}
	return password, nil
}

// controlSpec names the service that an action other than install acts
// on: --name, or the default name of APP's folder.
func controlSpec(action, app, name string, stderr io.Writer) (service.Spec, bool) {
	if name == "" {
		dir, err := appFolder(app)
		if err != nil {
			fmt.Fprintf(stderr, "roost service %s: %v\n", action, err)
			return service.Spec{}, false
		}
		name = service.DefaultName(dir)
	}
	return service.Spec{Name: name}, true
}

// appFolder returns the absolute app folder of app, a folder or a file,
// whether or not its web.config still exists (to uninstall the service of
// an app already removed).
func appFolder(app string) (string, error) {
	abs, err := filepath.Abs(app)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err == nil {
		if fi.IsDir() {
			return abs, nil
		}
		return filepath.Dir(abs), nil
	}
	// Gone: a name like a web.config file stands for its folder.
	if strings.Contains(strings.ToLower(filepath.Base(abs)), ".config") {
		return filepath.Dir(abs), nil
	}
	return abs, nil
}
