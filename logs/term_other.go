//go:build !aix && !darwin && !dragonfly && !freebsd && !linux && !netbsd && !openbsd && !solaris && !zos && !windows

package logs

// colorTerminal reports whether fd is a terminal that shows colours: on
// this system roost cannot tell, so it assumes not.
func colorTerminal(fd uintptr) bool { return false }
