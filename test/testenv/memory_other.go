//go:build !linux && !windows

package testenv

import "errors"

// PeakMemoryKiB is not measured here.
func PeakMemoryKiB(pid int) (int, error) { return 0, errors.ErrUnsupported }
