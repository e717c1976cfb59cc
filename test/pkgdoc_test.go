package test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs checks that every package has exactly one doc comment,
// and that it says what the package is: "Package x ..." or, for a
// program, "Command x ...".
func TestPackageDocs(t *testing.T) {
	dirs := make(map[string][]string) // folder -> its .go files
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, files := range dirs {
		rel, _ := filepath.Rel(repoRoot, dir)
		// Packages made only of tests carry their doc in a test file.
		var nonTest []string
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				nonTest = append(nonTest, f)
			}
		}
		if len(nonTest) > 0 {
			files = nonTest
		}
		var docs []string
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if f.Doc == nil {
				continue
			}
			docs = append(docs, filepath.Base(path))
			text := f.Doc.Text()
			want := "Package " + f.Name.Name + " "
			if f.Name.Name == "main" {
				want = "Command " + filepath.Base(dir) + " "
			}
			if !strings.HasPrefix(text, want) {
				t.Errorf("%s: package doc starts %q, want %q", filepath.Join(rel, filepath.Base(path)), firstLine(text), want)
			}
		}
		if len(docs) != 1 {
			t.Errorf("%s: %d files with a package doc comment (%s), want exactly 1", rel, len(docs), strings.Join(docs, ", "))
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
