//go:build !windows

package logs

import "os"

// openShared opens a stdout log file for reading. Elsewhere than on
// Windows, an open file may be renamed and deleted: a plain open will do.
func openShared(path string) (*os.File, error) { return os.Open(path) }
