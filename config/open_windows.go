package config

import (
	"os"

	"golang.org/x/sys/windows"
)

// OpenShared opens a file for reading, sharing it for deletion too, so
// that others may still delete it, or rename it elsewhere, while roost
// reads it: a deploy tool removing app_offline.htm, the stdout log's
// rotation and retention while roost logs reads a file. os.Open does not
// share it so, and their delete or rename would fail. (Renaming another
// file over it still fails while it is open: Windows refuses that.)
func OpenShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
