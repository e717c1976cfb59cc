//go:build unix

package testenv

import (
	"errors"
	"syscall"
)

// ProcessAlive reports whether process pid exists, by sending it signal 0.
// EPERM means it exists but belongs to someone else. A zombie counts as
// alive; the backends the tests ask about are children of roost, which
// waits for them before it logs their stop or exits.
func ProcessAlive(pid int) (bool, error) {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return true, nil
	case errors.Is(err, syscall.ESRCH):
		return false, nil
	}
	return false, err
}
