package config

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A file roost reads may be deleted meanwhile, as deploy tools do with
// app_offline.htm: on Windows, a plain open would make the delete fail.
// Elsewhere it may be replaced by a rename too (Windows refuses to rename
// over a file that is open, shared or not).
func TestOpenSharedLetsOthersDelete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.config")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenShared(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if runtime.GOOS != "windows" {
		next := filepath.Join(dir, "web.config.new")
		if err := os.WriteFile(next, []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(next, path); err != nil {
			t.Errorf("renaming over a file roost reads: %v", err)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Errorf("deleting a file roost reads: %v", err)
	}
	if data, err := io.ReadAll(f); err != nil || string(data) != "old" {
		t.Errorf("reading on: %q, %v; want the old content", data, err)
	}
}
