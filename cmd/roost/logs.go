package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/roosthq/roost/logs"
)

// runLogs prints the end of the app's newest stdout log file and, with -f,
// follows the files until Ctrl+C or SIGTERM.
func runLogs(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("logs", "[-f] [-n N] [APP]", stderr)
	follow := fs.Bool("f", false, "follow: keep printing new lines, across rotation and restarts, until Ctrl+C")
	lines := fs.Int("n", 10, "print the last `N` lines the newest process wrote")
	app, code, ok := parseApp(fs, args, stderr)
	if !ok {
		return code
	}
	if *lines < 0 {
		fmt.Fprintf(stderr, "roost logs: -n %d: want 0 or more lines\n", *lines)
		return exitUsage
	}

	cfg, ok := loadApp("logs", app, "", stderr)
	if !ok {
		return exitUsage
	}
	if !cfg.Stdout.Enabled {
		fmt.Fprintf(stderr, "roost logs: stdout logging is off in web.config; set stdoutLogEnabled=\"true\" (%s)\n", cfg.File)
		return exitFailure
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := logs.Tail(ctx, cfg.Stdout.Path, stdout, logs.TailOptions{Lines: *lines, Follow: *follow, Notes: stderr})
	switch {
	case errors.Is(err, logs.ErrNoFiles):
		fmt.Fprintf(stderr, "roost logs: no stdout log file yet (%s_*.log); roost writes one when it starts the app\n", cfg.Stdout.Path)
		return exitFailure
	case err != nil:
		fmt.Fprintf(stderr, "roost logs: %v\n", err)
		return exitFailure
	}
	return exitOK
}
