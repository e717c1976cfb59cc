package supervisor

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestReadWatchdogOrders(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []int // the groups to kill
	}{
		{"nothing", "", nil},
		{"roost died", "+100\n+200\n", []int{100, 200}},
		{"a group gone before roost died", "+100\n+200\n-100\n", []int{200}},
		{"no final line end", "+100\n+200", []int{100, 200}},
		{"disarmed", "+100\n+200\ndisarm\n", nil},
		{"disarmed, then more", "+100\ndisarm\n+200\n", nil},
		{"nonsense skipped", "+\n+x\n*300\n+1\n+0\n+-5\nhello\n+400\n", []int{400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Sorted(maps.Keys(readWatchdogOrders(strings.NewReader(tt.input))))
			if !slices.Equal(got, tt.want) {
				t.Errorf("readWatchdogOrders(%q) = %v, want %v", tt.input, got, tt.want)
			}
		})
	}
}

func TestNilWatchdog(t *testing.T) {
	var w *Watchdog
	if err := w.Close(); err != nil {
		t.Errorf("nil Close = %v", err)
	}
	if err := w.add(&processTree{}); err != nil {
		t.Errorf("nil add = %v", err)
	}
}
