//go:build windows

package config

import (
	"io/fs"
	"path/filepath"
)

// nativePath returns p unchanged: Windows reads Windows paths.
func nativePath(p string) string { return p }

// nativeArgPath returns w unchanged: on Windows the arguments are passed as
// written.
func nativeArgPath(w string) string { return w }

// exeCandidates lists the names to try for a program: as written, then with
// .exe when it has no extension, as CreateProcess does.
func exeCandidates(p string) []string {
	if filepath.Ext(p) == "" {
		return []string{p, p + ".exe"}
	}
	return []string{p}
}

// isForeignPath reports false: every path is native on Windows.
func isForeignPath(string) bool { return false }

func isExecutable(fs.FileInfo) bool { return true }
