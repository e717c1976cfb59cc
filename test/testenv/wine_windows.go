package testenv

import "golang.org/x/sys/windows"

// Wine reports whether this process runs under wine, whose ntdll exports
// wine_get_version (Windows' own does not).
func Wine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
