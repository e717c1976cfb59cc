// Package service installs roost as a service of the system's service
// manager (systemd or System V init on Linux, the Service Control Manager
// on Windows, launchd on macOS, through kardianos/service) and runs roost
// under the Windows one.
//
// It does not run the app itself: the runtime of `roost run` is package
// service/host, which the command hands to Run as a
// function, so that this package depends on neither the supervisor, the
// forwarder nor the file watching.
package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	kservice "github.com/kardianos/service"

	"github.com/roosthq/roost/config"
)

// Spec describes roost installed as a service for one app.
type Spec struct {
	Name        string   // service name; see DefaultName
	DisplayName string   // shown by the service manager; default "roost: <app folder>"
	Description string   // default says which web.config it runs
	User        string   // account to run as; "" for the manager's default (root / LocalSystem)
	Password    string   // User's password, for the Windows service manager; never logged or printed
	Config      string   // absolute path of the web.config
	Dir         string   // absolute app folder: the working directory
	RunArgs     []string // flags for roost run, after the app
	// StopTimeout is how long the service manager lets roost stop before
	// killing it: roost's own stop deadline and a margin.
	StopTimeout time.Duration
}

// stopMargin is what a service manager waits beyond roost's own stop
// deadline (config.Process.StopTimeLimit) before it kills roost: time for
// roost to exit once its backend is gone.
const stopMargin = 10 * time.Second

// NewSpec returns s for the app of cfg: Config, Dir and StopTimeout are
// set, and Name, DisplayName and Description filled with defaults where
// empty. Flags in s.RunArgs must already be valid.
func NewSpec(cfg *config.Config, s Spec) (Spec, error) {
	file, err := filepath.Abs(cfg.File)
	if err != nil {
		return Spec{}, err
	}
	s.Config, s.Dir = file, filepath.Dir(file)
	if s.Name == "" {
		s.Name = DefaultName(s.Dir)
	}
	if s.Name != SanitizeName(s.Name) {
		return Spec{}, fmt.Errorf("--name %q: a service name may hold letters, digits, '.', '_' and '-' only (for example %q)", s.Name, SanitizeName(s.Name))
	}
	if s.DisplayName == "" {
		s.DisplayName = "roost: " + filepath.Base(s.Dir)
	}
	if s.Description == "" {
		s.Description = "roost hosting the app of " + file
	}
	s.StopTimeout = cfg.Process.StopTimeLimit() + stopMargin
	return s, nil
}

// DefaultName is the service name for an app folder: "roost-" and the
// folder's name, sanitised.
func DefaultName(dir string) string {
	return SanitizeName("roost-" + filepath.Base(dir))
}

// SanitizeName keeps a name to the characters every service manager
// accepts: ASCII letters, digits, '.', '_' and '-'. Others become '-', runs
// of '-' shrink to one, and '-' and '.' are trimmed from the ends.
func SanitizeName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok || r == '-' {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		dash = false
		b.WriteRune(r)
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return "roost-app"
	}
	return s
}

// args is roost's command line under the service manager: --service
// says where it runs, rather than leaving roost to guess.
func (s Spec) args() []string {
	return append([]string{"run", "--service", s.Config}, s.RunArgs...)
}

// kardianosConfig turns s into kardianos' configuration for executable
// exe. Unit files and init scripts are rendered here, not by kardianos'
// templates, whose defaults (a 120 s restart delay, no stop timeout, a 10 s
// stop wait) do not fit roost.
func (s Spec) kardianosConfig(exe string) *kservice.Config {
	return &kservice.Config{
		Name:             s.Name,
		DisplayName:      s.DisplayName,
		Description:      s.Description,
		UserName:         s.User,
		Executable:       exe,
		Arguments:        s.args(),
		WorkingDirectory: s.Dir,
		Option: kservice.KeyValue{
			"SystemdScript": templateLiteral(systemdUnit(s, exe)),
			"SysvScript":    templateLiteral(sysvScript(s, exe)),
			// Windows: start with the machine and restart when roost dies.
			"StartType":              "automatic",
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "5s",
			"OnFailureResetPeriod":   3600,
			"Password":               s.Password, // Windows only; kardianos ignores ""
			// launchd: keep roost alive.
			"KeepAlive": true,
			"RunAtLoad": true,
		},
	}
}

// templateLiteral escapes text for kardianos' text/template, so that it is
// written as it is.
func templateLiteral(text string) string {
	return strings.ReplaceAll(text, "{{", `{{"{{"}}`)
}

// systemdUnit renders the unit file: Type=notify, so that systemd counts
// roost as started once it says READY=1 (see Notifier), and accepts that
// only from roost itself (NotifyAccess=main); restart on failure after 2
// s; SIGTERM to roost alone (KillMode=mixed) so that it stops its backend
// gracefully; and a stop timeout longer than roost's graceful stop.
func systemdUnit(s Spec, exe string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\nAfter=network-online.target\nWants=network-online.target\n", oneLine(s.Description))
	b.WriteString("StartLimitIntervalSec=60\nStartLimitBurst=10\n\n[Service]\nType=notify\nNotifyAccess=main\n")
	words := append([]string{exe}, s.args()...)
	for i, w := range words {
		words[i] = systemdQuote(w)
	}
	fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(words, " "))
	fmt.Fprintf(&b, "WorkingDirectory=%s\n", systemdQuote(s.Dir))
	if s.User != "" {
		// roost and the app run as User, may still bind ports below
		// 1024, and can never gain more privileges (setuid programs).
		fmt.Fprintf(&b, "User=%s\nAmbientCapabilities=CAP_NET_BIND_SERVICE\nNoNewPrivileges=yes\n", s.User)
	}
	b.WriteString("Restart=on-failure\nRestartSec=2\nKillMode=mixed\nKillSignal=SIGTERM\n")
	fmt.Fprintf(&b, "TimeoutStopSec=%d\n", int(s.StopTimeout.Round(time.Second)/time.Second))
	b.WriteString("\n[Install]\nWantedBy=multi-user.target\n")
	return b.String()
}

// systemdQuote quotes one word of a systemd command line: specifiers (%)
// and variables ($) are escaped, and a word with spaces, quotes or
// backslashes is double-quoted with C escapes.
func systemdQuote(w string) string {
	w = strings.ReplaceAll(w, "%", "%%")
	w = strings.ReplaceAll(w, "$", "$$")
	if w != "" && !strings.ContainsAny(w, " \t\"'\\;") {
		return w
	}
	return strconv.Quote(w)
}

// shellQuote quotes a word for the POSIX shell.
func shellQuote(w string) string {
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// sysvScript renders an init script for System V init: roost runs in a
// loop that restarts it when it dies (and ends when it exits cleanly), its
// log goes to /var/log/NAME.log, and stop waits as long as roost's
// graceful stop may take. status prints "Running" or "Stopped", as
// kardianos expects.
func sysvScript(s Spec, exe string) string {
	words := append([]string{exe}, s.args()...)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	wait := int(s.StopTimeout.Round(time.Second) / time.Second)
	return fmt.Sprintf(`#!/bin/sh
### BEGIN INIT INFO
# Provides:          %[1]s
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: %[2]s
# Description:       %[3]s
### END INIT INFO

name=%[1]s
pid_file=/var/run/$name.pid
log_file=/var/log/$name.log

is_running() {
    [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

case "$1" in
    start)
        if is_running; then
            echo "Running"
            exit 0
        fi
        cd %[4]s || exit 1
        (
            # Restart roost when it dies; a clean exit ends the loop.
            trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
            while :; do
                %[5]s >>"$log_file" 2>&1 &
                child=$!
                wait "$child" && exit 0
                sleep 2
            done
        ) </dev/null >/dev/null 2>&1 &
        echo $! >"$pid_file"
        echo "Started $name"
        ;;
    stop)
        if ! is_running; then
            rm -f "$pid_file"
            echo "Stopped"
            exit 0
        fi
        kill -TERM "$(cat "$pid_file")"
        i=0
        while is_running && [ "$i" -lt %[6]d ]; do
            sleep 1
            i=$((i + 1))
        done
        if is_running; then
            echo "$name did not stop within %[6]d s"
            exit 1
        fi
        rm -f "$pid_file"
        echo "Stopped"
        ;;
    restart)
        "$0" stop && "$0" start
        ;;
    status)
        if is_running; then echo "Running"; else echo "Stopped"; fi
        ;;
    *)
        echo "usage: $0 {start|stop|restart|status}"
        exit 2
        ;;
esac
`, s.Name, oneLine(s.DisplayName), oneLine(s.Description), shellQuote(s.Dir), strings.Join(words, " "), wait)
}

// Actions are the service subcommands.
var Actions = []string{"install", "uninstall", "start", "stop", "restart", "status"}

// ErrNotInstalled is returned by Control for a service that does not exist.
var ErrNotInstalled = errors.New("not installed")

// Control carries out action (one of Actions) for s through the system's
// service manager, and returns a line that says what happened.
func Control(s Spec, action string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", err
	}
	svc, err := kservice.New(noProgram{}, s.kardianosConfig(exe))
	if err != nil {
		return "", err
	}
	system := svc.Platform()
	status, statusErr := svc.Status()
	installed := statusErr == nil && status != kservice.StatusUnknown
	switch action {
	case "install":
		if installed {
			return "", fmt.Errorf("service %s is already installed (%s); run roost service uninstall first", s.Name, system)
		}
		if system == "unix-systemv" && s.User != "" {
			return "", fmt.Errorf("--user %s: the System V init script roost writes runs roost as root; install without --user, or under systemd, which applies it", s.User)
		}
		if err := svc.Install(); err != nil {
			return "", fmt.Errorf("install service %s (%s): %w", s.Name, system, err)
		}
		return fmt.Sprintf("installed service %s (%s): %s", s.Name, system, strings.Join(append([]string{exe}, s.args()...), " ")), nil
	case "status":
		if !installed {
			return fmt.Sprintf("%s: not installed", s.Name), ErrNotInstalled
		}
		return fmt.Sprintf("%s: %s", s.Name, statusName(status)), nil
	}
	if !installed {
		return "", fmt.Errorf("service %s: %w", s.Name, ErrNotInstalled)
	}
	switch action {
	case "uninstall":
		if status == kservice.StatusRunning {
			if err := svc.Stop(); err != nil {
				return "", fmt.Errorf("stop service %s before uninstalling: %w", s.Name, err)
			}
		}
		if err := svc.Uninstall(); err != nil {
			return "", fmt.Errorf("uninstall service %s: %w", s.Name, err)
		}
		cleanupSysv(system, s.Name)
		return fmt.Sprintf("uninstalled service %s", s.Name), nil
	case "start":
		err = svc.Start()
	case "stop":
		err = svc.Stop()
	case "restart":
		err = svc.Restart()
	default:
		return "", fmt.Errorf("unknown action %q (want %s)", action, strings.Join(Actions, ", "))
	}
	if err != nil {
		return "", fmt.Errorf("%s service %s: %w", action, s.Name, err)
	}
	status, _ = svc.Status()
	return fmt.Sprintf("%s: %s", s.Name, statusName(status)), nil
}

func statusName(s kservice.Status) string {
	switch s {
	case kservice.StatusRunning:
		return "running"
	case kservice.StatusStopped:
		return "stopped"
	}
	return "unknown"
}

// cleanupSysv removes the runlevel links kardianos creates for System V
// init and leaves behind on uninstall.
func cleanupSysv(system, name string) {
	if system != "unix-systemv" {
		return
	}
	for _, l := range []string{"2", "3", "4", "5"} {
		os.Remove("/etc/rc" + l + ".d/S50" + name)
	}
	for _, l := range []string{"0", "1", "6"} {
		os.Remove("/etc/rc" + l + ".d/K02" + name)
	}
}

// noProgram is the kardianos Interface for controlling a service from the
// command line, where nothing runs.
type noProgram struct{}

func (noProgram) Start(kservice.Service) error { return nil }
func (noProgram) Stop(kservice.Service) error  { return nil }
