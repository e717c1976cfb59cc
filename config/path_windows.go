//go:build windows

package config

import (
	"io/fs"
	"os"
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

// onDriveOf resolves a path rooted without a drive (\logs\stdout) on the
// drive, or share, of dir: C:\logs\stdout for an app in C:\sites\shop. It
// reports false for any other path.
func onDriveOf(dir, path string) (string, bool) {
	if path == "" || !os.IsPathSeparator(path[0]) || filepath.VolumeName(path) != "" {
		return "", false
	}
	return filepath.Join(filepath.VolumeName(dir)+`\`, path), true
}
