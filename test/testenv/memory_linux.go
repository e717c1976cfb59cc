package testenv

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PeakMemoryKiB returns the peak resident memory of process pid, in KiB
// (VmHWM).
func PeakMemoryKiB(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}
