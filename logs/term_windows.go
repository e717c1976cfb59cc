package logs

import "golang.org/x/sys/windows"

// colorTerminal reports whether fd is a console that shows ANSI colours,
// turning on their processing where the console can do it (Windows 10 and
// later).
func colorTerminal(fd uintptr) bool {
	h := windows.Handle(fd)
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return false
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}
