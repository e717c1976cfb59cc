package pid1

import (
	"syscall"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		ws   syscall.WaitStatus // as wait4 fills it
		want int
	}{
		{"clean", 0, 0},
		{"exit code 3", 3 << 8, 3},
		{"killed by SIGKILL", syscall.WaitStatus(syscall.SIGKILL), 137},
		{"killed by SIGTERM", syscall.WaitStatus(syscall.SIGTERM), 143},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.ws); got != tt.want {
				t.Errorf("exitCode(%#x) = %d, want %d", int(tt.ws), got, tt.want)
			}
		})
	}
	if Needed() {
		t.Error("Needed in a test process, which is not PID 1")
	}
}
