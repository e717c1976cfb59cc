package service

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/roosthq/roost/config"
)

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"roost-myapp", "roost-myapp"},
		{"roost-My App (2)", "roost-My-App-2"},
		{"roost-café", "roost-caf"},
		{"roost-a/b\\c", "roost-a-b-c"},
		{"--x--", "x"},
		{"...", "roost-app"},
		{"roost-v1.2_beta", "roost-v1.2_beta"},
	}
	for _, tt := range tests {
		if got := SanitizeName(tt.in); got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := DefaultName(filepath.FromSlash("/srv/My Shop")); got != "roost-My-Shop" {
		t.Errorf("DefaultName = %q", got)
	}
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shop app")
	return &config.Config{File: filepath.Join(dir, "web.config"), Dir: dir, Process: config.Process{
		ShutdownTimeLimit: 10 * time.Second, ShutdownDelay: 2 * time.Second,
	}}
}

func TestNewSpec(t *testing.T) {
	cfg := testConfig(t)
	s, err := NewSpec(cfg, Spec{RunArgs: []string{"--listen", ":80"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "roost-shop-app" || s.DisplayName != "roost: shop app" || !strings.Contains(s.Description, cfg.File) {
		t.Errorf("defaults: %+v", s)
	}
	if s.StopTimeout != 22*time.Second {
		t.Errorf("StopTimeout = %v, want shutdownDelay + shutdownTimeLimit + 10 s", s.StopTimeout)
	}
	if got := strings.Join(s.args(), " "); got != "run --service "+cfg.File+" --listen :80" {
		t.Errorf("args = %q", got)
	}
	if _, err := NewSpec(cfg, Spec{Name: "bad name"}); err == nil || !strings.Contains(err.Error(), `"bad-name"`) {
		t.Errorf("a bad --name: %v, want an error suggesting bad-name", err)
	}
}

// linuxOnly skips t on Windows: systemd units and init scripts are
// written on Linux only, with Linux paths.
func linuxOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("systemd units and System V scripts are written on Linux only")
	}
}

func TestSystemdUnit(t *testing.T) {
	linuxOnly(t)
	cfg := testConfig(t)
	s, err := NewSpec(cfg, Spec{Name: "roost-shop", User: "www-data", RunArgs: []string{"--listen", "127.0.0.1:8080", "--log-format", "json"}})
	if err != nil {
		t.Fatal(err)
	}
	unit := systemdUnit(s, "/usr/local/bin/roost")
	for _, want := range []string{
		"[Unit]\n",
		"Description=roost hosting the app of " + cfg.File + "\n",
		"After=network-online.target\n",
		"[Service]\nType=notify\nNotifyAccess=main\n",
		`ExecStart=/usr/local/bin/roost run --service "` + cfg.File + `" --listen 127.0.0.1:8080 --log-format json` + "\n",
		`WorkingDirectory="` + cfg.Dir + `"` + "\n",
		"User=www-data\nAmbientCapabilities=CAP_NET_BIND_SERVICE\nNoNewPrivileges=yes\n",
		"Restart=on-failure\n",
		"RestartSec=2\n",
		"KillMode=mixed\n",
		"KillSignal=SIGTERM\n",
		"TimeoutStopSec=22\n",
		"[Install]\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	root, err := NewSpec(cfg, Spec{Name: "roost-shop"})
	if err != nil {
		t.Fatal(err)
	}
	if unit := systemdUnit(root, "/usr/local/bin/roost"); strings.Contains(unit, "User=") || strings.Contains(unit, "AmbientCapabilities") {
		t.Errorf("a unit without --user sets a user or capabilities:\n%s", unit)
	}
	// kardianos renders the script as a template: it must come out as is.
	if templateLiteral("a {{x}} b") != `a {{"{{"}}x}} b` {
		t.Errorf("templateLiteral = %q", templateLiteral("a {{x}} b"))
	}
}

func TestSystemdQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/roost", "/usr/bin/roost"},
		{"/srv/my app", `"/srv/my app"`},
		{"100%", "100%%"},
		{"$HOME", "$$HOME"},
		{`a"b`, `"a\"b"`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := systemdQuote(tt.in); got != tt.want {
			t.Errorf("systemdQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSysvScript(t *testing.T) {
	linuxOnly(t)
	cfg := testConfig(t)
	s, err := NewSpec(cfg, Spec{Name: "roost-shop", RunArgs: []string{"--listen", ":80"}})
	if err != nil {
		t.Fatal(err)
	}
	script := sysvScript(s, "/usr/local/bin/roost")
	for _, want := range []string{
		"#!/bin/sh\n",
		"# Provides:          roost-shop\n",
		"cd '" + cfg.Dir + "' || exit 1\n",
		"'/usr/local/bin/roost' 'run' '--service' '" + cfg.File + "' '--listen' ':80' >>\"$log_file\" 2>&1 &\n",
		`wait "$child" && exit 0`,
		`while is_running && [ "$i" -lt 22 ]; do`,
		`if is_running; then echo "Running"; else echo "Stopped"; fi`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}
