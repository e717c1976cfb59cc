package logs

import "time"

// utcClock stamps log lines in UTC, so that lines from machines in
// different zones sort and compare.
type utcClock struct{}

func (utcClock) Now() time.Time { return time.Now().UTC() }

func (utcClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
