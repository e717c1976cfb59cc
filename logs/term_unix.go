//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || zos

package logs

import "golang.org/x/sys/unix"

// colorTerminal reports whether fd is a terminal, which shows ANSI colours.
func colorTerminal(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), ioctlReadTermios)
	return err == nil
}
