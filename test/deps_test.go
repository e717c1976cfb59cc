package test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/roosthq/roost"

// goList runs go list in the repository and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	needGo(t)
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// layers is DESIGN.md's layering, package by package: the roost packages
// each may depend on (directly or not), and the third-party modules it
// must not reach. Every package of the module is listed, and every listed
// package must exist.
var layers = map[string]struct {
	may    []string // roost packages, relative to the module
	mayNot []string // third-party module paths
}{
	// Only service/host/metrics (and what imports it) reaches the
	// Prometheus library: the supervisor and the forwarder are told of
	// metrics through hooks and interfaces of their own.
	"config":     {nil, []string{kardianos, fsnotify, prometheus}},
	"logs":       {[]string{"config"}, []string{kardianos, prometheus}},
	"supervisor": {[]string{"config"}, []string{kardianos, fsnotify, prometheus}},
	"forwarder":  {[]string{"config", "forwarder/filter", "forwarder/http1"}, []string{kardianos, fsnotify, prometheus}},
	// Request filtering's matcher: rules in, a verdict out.
	"forwarder/filter": {[]string{"config"}, []string{kardianos, fsnotify, prometheus}},
	// roost's HTTP/1.x framing: bytes in, a head and a body framing out.
	"forwarder/http1": {[]string{"config"}, []string{kardianos, fsnotify, prometheus}},
	// The access log's writer: entries in, lines on disk out; it knows
	// no other roost package (host turns a request into an Entry).
	"logs/access": {nil, []string{kardianos, fsnotify, prometheus}},
	// roost's binary as a container's init: reaps orphans, runs roost.
	"supervisor/pid1": {nil, []string{kardianos, fsnotify, prometheus}},
	// The runtime of roost run knows no service manager.
	"service/host": {[]string{"config", "supervisor", "forwarder", "forwarder/filter", "forwarder/http1", "logs/access", "service/host/metrics"}, []string{kardianos}},
	// roost's Prometheus series: told what happened, by host and (per
	// request) the forwarder's path; it knows no other roost package.
	"service/host/metrics": {nil, []string{kardianos, fsnotify}},
	// The package that imports kardianos reaches neither the supervisor,
	// the forwarder nor fsnotify: it runs the runtime through a func.
	"service":   {[]string{"config"}, []string{fsnotify, prometheus}},
	"cmd/roost": {[]string{"config", "logs", "logs/access", "supervisor", "supervisor/pid1", "forwarder", "forwarder/filter", "forwarder/http1", "service", "service/host", "service/host/metrics"}, nil},
	// Tests and the programs they run depend on no roost package; the
	// supervisor's and the end-to-end tests share the fake backend.
	"test":               {nil, nil},
	"test/fakebackend":   {nil, []string{kardianos, fsnotify}},
	"test/testenv":       {nil, []string{kardianos, fsnotify}},
	"test/apps/hello":    {nil, []string{kardianos, fsnotify}},
	"test/bench/backend": {nil, []string{kardianos, fsnotify}},
}

const (
	kardianos  = "github.com/kardianos/service"
	fsnotify   = "github.com/fsnotify/fsnotify"
	prometheus = "github.com/prometheus"
)

// TestImportBoundaries enforces layers with go list -deps.
func TestImportBoundaries(t *testing.T) {
	existing := make(map[string]bool)
	for _, p := range goList(t, "./...") {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
		existing[rel] = true
		if _, ok := layers[rel]; !ok {
			t.Errorf("package %s is not in the layering table: add it to layers, with what it may depend on", p)
		}
	}
	for pkg, rule := range layers {
		if !existing[pkg] {
			t.Errorf("package %s is in the layering table but does not exist", pkg)
			continue
		}
		for _, dep := range goList(t, "-deps", "./"+pkg) {
			rel, ours := strings.CutPrefix(dep, module+"/")
			switch {
			case ours && rel != pkg && !slices.Contains(rule.may, rel):
				t.Errorf("%s depends on %s, which the layering does not allow", pkg, rel)
			case !ours && slices.ContainsFunc(rule.mayNot, func(m string) bool { return dep == m || strings.HasPrefix(dep, m+"/") }):
				t.Errorf("%s depends on %s, which the layering does not allow", pkg, dep)
			}
		}
	}
}

// TestDependencies keeps the binary's third-party dependencies to the ones
// DESIGN.md names. A new one must be justified there first.
func TestDependencies(t *testing.T) {
	allowed := []string{
		module,
		"github.com/kardianos/service",
		"github.com/fsnotify/fsnotify",
		"go.uber.org/zap",
		"go.uber.org/multierr", // zap's own dependency
		"golang.org/x/sys",
		"github.com/prometheus/client_golang",
		// client_golang's own dependencies.
		"github.com/prometheus/client_model",
		"github.com/prometheus/common",
		"github.com/prometheus/procfs",
		"github.com/beorn7/perks",
		"github.com/cespare/xxhash/v2",
		"github.com/munnerz/goautoneg",
		"google.golang.org/protobuf",
	}
	deps := goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./cmd/roost")
	for _, dep := range deps {
		ok := false
		for _, a := range allowed {
			if dep == a || strings.HasPrefix(dep, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("roost depends on %s, which DESIGN.md does not allow", dep)
		}
	}
}
