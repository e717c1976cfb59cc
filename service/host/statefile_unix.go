//go:build unix

package host

import (
	"os"
	"path/filepath"
)

// stateDirs are the folders a state file may be in, in order: the user's
// runtime folder ($XDG_RUNTIME_DIR/roost), /run/roost (only root writes
// there; everyone looks there, to find a roost that runs as a system
// service), and the user's cache folder (~/.cache/roost on Linux,
// ~/Library/Caches/roost on macOS).
func stateDirs(forWriting bool) []string {
	var dirs []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		dirs = append(dirs, filepath.Join(d, "roost"))
	}
	if !forWriting || os.Geteuid() == 0 {
		dirs = append(dirs, "/run/roost")
	}
	if d, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(d, "roost"))
	}
	return dirs
}

// foldCase returns path as is: names are compared exactly.
func foldCase(path string) string { return path }
