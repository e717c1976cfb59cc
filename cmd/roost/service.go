package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/roosthq/roost/service"
)

const serviceSynopsis = "install|uninstall|start|stop|restart|status [APP] [--name N] [--display-name D] [--description S] [--user U] [-- run flags]"

// runService handles roost service ACTION ...: everything after "--" is
// passed to roost run by the installed service.
func runService(args []string, stdout, stderr io.Writer) int {
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
	fs := newFlagSet("service "+action, "[APP] [--name N] [--display-name D] [--description S] [--user U] [-- run flags]", stderr)
	name := fs.String("name", "", "service name (default roost-<app folder name>)")
	displayName := fs.String("display-name", "", "name shown by the service manager (install)")
	description := fs.String("description", "", "description (install)")
	user := fs.String("user", "", "account the service runs as (install; default: the service manager's)")
	app, code, ok := parseApp(fs, args, stderr)
	if !ok {
		return code
	}
	if action != "install" && len(runArgs) > 0 {
		fmt.Fprintf(stderr, "roost service %s: run flags after -- are for install only\n", action)
		return exitUsage
	}

	var spec service.Spec
	if action == "install" {
		// Validate everything first: nothing is installed on a mistake.
		if err := checkRunArgs(runArgs); err != nil {
			fmt.Fprintf(stderr, "roost service install: run flags after --: %v\n", err)
			return exitUsage
		}
		cfg, ok := loadApp("service install", app, "; nothing was installed", stderr)
		if !ok {
			return exitUsage
		}
		var err error
		spec = service.Spec{Name: *name, DisplayName: *displayName, Description: *description, User: *user, RunArgs: runArgs}
		if spec, err = service.NewSpec(cfg, spec); err != nil {
			fmt.Fprintf(stderr, "roost service install: %v\n", err)
			return exitUsage
		}
	} else {
		spec.Name = *name
		if spec.Name == "" {
			dir, err := appFolder(app)
			if err != nil {
				fmt.Fprintf(stderr, "roost service %s: %v\n", action, err)
				return exitUsage
			}
			spec.Name = service.DefaultName(dir)
		}
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
