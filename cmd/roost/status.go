package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/roosthq/roost/service/host"
)

// exitNotRunning is roost status's exit code when no roost runs for the
// app, as systemctl status's for an inactive unit.
const exitNotRunning = 3

// runStatus asks the roost that runs APP for its status, through the
// state file its admin listener wrote. Exit codes: 0 the backend is
// ready, 1 roost runs but the backend is not ready, 2 usage, 3 no roost
// runs for APP.
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "[--json] [APP]", stderr)
	asJSON := fs.Bool("json", false, "print the status as JSON, as the admin listener's /status has it")
	app, code, ok := parseApp(fs, args, stderr)
	if !ok {
		return code
	}
	dir, err := appFolder(app)
	if err != nil {
		fmt.Fprintf(stderr, "roost status: %v\n", err)
		return exitUsage
	}
	st, err := host.QueryStatus(context.Background(), dir)
	if err != nil {
		fmt.Fprintf(stderr, "roost status: %s: %v\n", dir, err)
		if errors.Is(err, host.ErrNotRunning) {
			return exitNotRunning
		}
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	} else {
		printStatus(stdout, st, time.Now())
	}
	if !st.Ready {
		return exitFailure
	}
	return exitOK
}

// printStatus prints st for people, one field a line.
func printStatus(w io.Writer, st *host.Status, now time.Time) {
	fmt.Fprintf(w, "roost %d runs %s (%s, <%s>), up %s, version %s\n", st.Roost.PID, st.AppDir,
		filepath.Base(st.File), st.Element, seconds(st.Roost.UptimeSeconds), st.Roost.Version)
	line := func(name, format string, args ...any) {
		fmt.Fprintf(w, "  %-11s %s\n", name+":", fmt.Sprintf(format, args...))
	}
	if st.Ready {
		line("ready", "yes")
	} else {
		line("ready", "no: %s", st.Reason)
	}
	line("state", "%s", st.State)
	for i, b := range st.Backends {
		name := "backend"
		if len(st.Backends) > 1 {
			name = fmt.Sprintf("backend %d", i+1)
		}
		line(name, "%s", describeBackend(b, now))
	}
	line("starts", "%d", st.Starts)
	if e := st.LastExit; e != nil {
		line("last exit", "%s", describeExit(e, now))
	}
	if t := st.RestartsPausedUntil; t != nil {
		line("restarts", "paused until %s (in %s)", t.Format(time.RFC3339), t.Sub(now).Round(time.Second))
	}
	line("generation", "%d", st.Generation)
	line("offline", "%s", yesNo(st.Offline))
	line("listeners", "%s", strings.Join(st.Listeners, ", "))
	line("admin", "%s", st.Admin)
	line("in flight", "%d", st.InFlight)
}

func describeBackend(b host.BackendStatus, now time.Time) string {
	parts := []string{b.State}
	if b.PID != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", b.PID), fmt.Sprintf("port %d", b.Port))
	}
	if b.ReadyAt != nil {
		parts = append(parts, "up "+seconds(b.UptimeSeconds))
	}
	if b.NextStartAt != nil {
		parts = append(parts, fmt.Sprintf("next start in %s", b.NextStartAt.Sub(now).Round(time.Second)))
	}
	s := strings.Join(parts, ", ")
	if b.Reason != "" {
		s += " (" + b.Reason + ")"
	}
	return s
}

func describeExit(e *host.ExitStatus, now time.Time) string {
	how := "signal " + e.Signal
	if e.ExitCode != nil {
		how = fmt.Sprintf("exit code %d", *e.ExitCode)
	}
	return fmt.Sprintf("pid %d, %s (%s), %s ago", e.PID, how, e.Reason, now.Sub(e.At).Round(time.Second))
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
