package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A file roost reads may be replaced and deleted meanwhile, as deploy
// tools do with web.config and app_offline.htm: on Windows, a plain open
// would make their rename and delete fail.
func TestOpenSharedLetsOthersReplaceAndDelete(t *testing.T) {
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
	next := filepath.Join(dir, "web.config.new")
	if err := os.WriteFile(next, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Errorf("renaming over a file roost reads: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Errorf("deleting a file roost reads: %v", err)
	}
	if data, err := io.ReadAll(f); err != nil || string(data) != "old" {
		t.Errorf("reading on: %q, %v; want the old content", data, err)
	}
}
