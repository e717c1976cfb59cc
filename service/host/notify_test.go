package host

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// notices records a Notifier's calls as "Kind status within" lines.
type notices []string

func (n *notices) Ready(s string) { *n = append(*n, "Ready "+s) }
func (n *notices) Reloading(s string, w time.Duration) {
	*n = append(*n, fmt.Sprintf("Reloading %s %v", s, w))
}
func (n *notices) Status(s string, w time.Duration) {
	*n = append(*n, fmt.Sprintf("Status %s %v", s, w))
}
func (n *notices) Stopping(s string, w time.Duration) {
	*n = append(*n, fmt.Sprintf("Stopping %s %v", s, w))
}

// TestAnnouncer checks the order that Notifier promises, whatever order
// the announcements come in: Ready once, then Reloading and Ready in
// pairs, and nothing but Status and Stopping once stopping.
func TestAnnouncer(t *testing.T) {
	tests := []struct {
		name string
		do   func(a *announcer)
		want []string
	}{
		{"startup", func(a *announcer) {
			a.status("starting", time.Minute)
			a.settled("serving")
			a.status("starting again", time.Minute)
			a.settled("serving again")
		}, []string{"Status starting 1m0s", "Ready serving", "Status starting again 0s", "Status serving again 0s"}},
		{"recycle", func(a *announcer) {
			a.settled("serving")
			a.reload("recycling", time.Minute)
			a.status("starting", time.Minute)
			a.settled("recycled")
		}, []string{"Ready serving", "Reloading recycling 1m0s", "Status starting 1m0s", "Ready recycled"}},
		{"failed recycle", func(a *announcer) {
			a.settled("serving")
			a.reload("recycling", time.Minute)
			a.reloadFailed("kept the old one")
		}, []string{"Ready serving", "Reloading recycling 1m0s", "Ready kept the old one"}},
		{"recycle before ready", func(a *announcer) {
			a.reload("recycling", time.Minute)
			a.reloadFailed("kept the old one")
			a.settled("serving")
		}, []string{"Status recycling 1m0s", "Status kept the old one 0s", "Ready serving"}},
		{"stopping", func(a *announcer) {
			a.settled("serving")
			a.stop("stopping", time.Minute)
			a.settled("serving")
			a.reload("recycling", time.Minute)
			a.reloadFailed("abandoned")
			a.status("stopped", time.Minute)
		}, []string{"Ready serving", "Stopping stopping 1m0s", "Status stopped 0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got notices
			tt.do(&announcer{n: &got})
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	(&announcer{}).settled("no notifier: nothing happens")
}
