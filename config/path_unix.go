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

// nativeArgPath turns an argument that is a path written for Windows into
// one for this system: a word that starts with .\ or ..\ (a relative
// path), or with / and holds a backslash (an absolute path from a
// variable, as in %HOME%\site\app.jar), has its backslashes turned into
// slashes. Every other word is left alone, since a backslash in it may be
// meant (a regular expression, an escape).
func nativeArgPath(w string) string {
	if strings.HasPrefix(w, `.\`) || strings.HasPrefix(w, `..\`) || strings.HasPrefix(w, "/") {
		return strings.ReplaceAll(w, `\`, "/")
	}
	return w
}

// isForeignPath reports whether p (as written, before nativePath) can only
// be a Windows path: one that starts with a drive letter, like D:\home.
func isForeignPath(p string) bool {
	p = strings.TrimPrefix(p, `\\?\`)
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('a' <= p[0] && p[0] <= 'z' || 'A' <= p[0] && p[0] <= 'Z')
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

// onDriveOf reports false: a path that starts with / is absolute here.
func onDriveOf(dir, path string) (string, bool) { return "", false }
