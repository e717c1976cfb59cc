package host

import (
	"os"
	"path/filepath"
	"strings"
)

// stateDirs are the folders a state file may be in: roost in the user's
// local application data folder (%LOCALAPPDATA%\roost).
func stateDirs(forWriting bool) []string {
	if d, err := os.UserCacheDir(); err == nil {
		return []string{filepath.Join(d, "roost")}
	}
	return nil
}

// foldCase returns path in lower case: Windows compares names ignoring
// case.
func foldCase(path string) string { return strings.ToLower(path) }
