package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecipes checks the README's recipes: every web.config in
// testdata/recipes is valid for roost check, with no warning but a
// program that is not installed here, and the README shows it as it is,
// in the ```xml block that follows its path.
func TestRecipes(t *testing.T) {
	readme := string(mustRead(t, filepath.Join(repoRoot, "README.md")))
	dirs, err := os.ReadDir(filepath.Join("testdata", "recipes"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(readme, "(`test/testdata/recipes/"); n != len(dirs) {
		t.Errorf("the README names %d recipe files, testdata/recipes has %d", n, len(dirs))
	}
	for _, d := range dirs {
		t.Run(d.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", "recipes", d.Name())
			file := string(mustRead(t, filepath.Join(dir, "web.config")))
			name := "test/testdata/recipes/" + d.Name() + "/web.config"
			if got, ok := readmeBlockAfter(readme, "`"+name+"`"); !ok {
				t.Errorf("the README has no ```xml block after %s", name)
			} else if got != strings.ReplaceAll(file, "\r\n", "\n") {
				t.Errorf("the README's copy of %s differs from the file:\n%s", name, got)
			}

			cmd := exec.Command(roostBin, "check", dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("roost check %s: %v\n%s%s", name, err, stdout.String(), stderr.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if line != "" && !strings.Contains(line, "processPath") {
					t.Errorf("roost check %s warns: %s", name, line)
				}
			}
		})
	}
}

// readmeBlockAfter returns the content of the first ```xml block in
// readme after marker.
func readmeBlockAfter(readme, marker string) (string, bool) {
	_, rest, ok := strings.Cut(readme, marker)
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, "```xml\n")
	if !ok {
		return "", false
	}
	block, _, ok := strings.Cut(rest, "```")
	return block, ok
}
