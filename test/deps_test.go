package test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/roosthq/roost"

// goList runs go list in the repository and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// TestImportBoundaries enforces DESIGN.md's layering: config imports no
// roost package, and supervisor and forwarder never import each other.
func TestImportBoundaries(t *testing.T) {
	forbidden := map[string][]string{
		"config":     {module + "/"},
		"supervisor": {module + "/forwarder", module + "/service", module + "/cmd"},
		"forwarder":  {module + "/supervisor", module + "/service", module + "/cmd"},
		"logs":       {module + "/supervisor", module + "/forwarder", module + "/service", module + "/cmd"},
	}
	existing := make(map[string]bool)
	for _, p := range goList(t, "./...") {
		existing[p] = true
	}
	for pkg, bans := range forbidden {
		path := module + "/" + pkg
		if !existing[path] {
			continue // not written yet
		}
		for _, dep := range goList(t, "-deps", "./"+pkg) {
			if dep == path {
				continue
			}
			for _, ban := range bans {
				if strings.HasPrefix(dep, ban) || dep == strings.TrimSuffix(ban, "/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
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
