//go:build !windows

package config

import (
	"io/fs"
	"strings"
)

// nativePath turns a path written for Windows into one for this system:
// backslashes become slashes, and the \\?\ long-path prefix is dropped.
func nativePath(p string) string {
	p = strings.TrimPrefix(p, `\\?\`)
	return strings.ReplaceAll(p, `\`, "/")
}

// nativeArgPath turns an argument that is a relative Windows path (.\x or
// ..\x) into one for this system, and leaves every other word alone.
func nativeArgPath(w string) string {
	if strings.HasPrefix(w, `.\`) || strings.HasPrefix(w, `..\`) {
		return strings.ReplaceAll(w, `\`, "/")
	}
	return w
}

// exeCandidates lists the names to try for a program: as written, then
// without a .exe suffix.
func exeCandidates(p string) []string {
	if len(p) > 4 && strings.EqualFold(p[len(p)-4:], ".exe") {
		return []string{p, p[:len(p)-4]}
	}
	return []string{p}
}

func isExecutable(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o111 != 0 }
