package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LookPath finds the program to run for Path, as ANCM does but portably:
//
//   - An absolute path is used as is.
//   - A relative path (".\bin\app.exe", "bin/app", "MyApp.exe", "python")
//     is tried in the app folder first.
//   - A bare name (no separator) is then looked up in PATH.
//
// On systems other than Windows, a name ending in .exe that does not exist
// is tried again without .exe, so a web.config written for Windows finds
// ./bin/app for .\bin\app.exe and python3 for python3.exe. On Windows a name
// without an extension is also tried with .exe, as CreateProcess does.
// The error names every place that was tried.
func (p *Process) LookPath() (string, error) {
	path := p.Path
	var tried []string
	if filepath.IsAbs(path) {
		for _, cand := range exeCandidates(path) {
			if err := checkExecutable(cand); err == nil {
				return cand, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("processPath %q: %w", quoted(p.Path), err)
			}
			tried = append(tried, cand)
		}
		return "", fmt.Errorf("processPath %q: no such file (tried %s)", quoted(p.Path), strings.Join(tried, ", "))
	}
	for _, cand := range exeCandidates(resolveIn(p.Dir, path)) {
		if err := checkExecutable(cand); err == nil {
			return cand, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("processPath %q: %w", quoted(p.Path), err)
		}
		tried = append(tried, cand)
	}
	if !strings.ContainsAny(path, `/\`) {
		for _, cand := range exeCandidates(path) {
			if found, err := exec.LookPath(cand); err == nil {
				return found, nil
			}
		}
		tried = append(tried, "PATH")
	}
	return "", fmt.Errorf("processPath %q: not found (tried %s)", quoted(p.Path), strings.Join(tried, ", "))
}

// checkExecutable returns nil if path is a file this process may run.
func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a folder, not a program", path)
	}
	if !isExecutable(fi) {
		return fmt.Errorf("%s is not executable (chmod +x it, or run it through its interpreter)", path)
	}
	return nil
}

// resolveIn resolves path against the folder dir, as Windows and ANCM do:
// an absolute path stays as it is (cleaned); on Windows, a path rooted
// without a drive (\logs\stdout) is on dir's drive (or share); any other
// path is under dir.
func resolveIn(dir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	if rooted, ok := onDriveOf(dir, path); ok {
		return rooted
	}
	return filepath.Join(dir, path)
}
