//go:build !windows

package config

import "os"

// OpenShared opens a file for reading. Elsewhere than on Windows, an open
// file may be renamed and deleted: a plain open will do.
func OpenShared(path string) (*os.File, error) { return os.Open(path) }
