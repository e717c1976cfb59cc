//go:build !linux

package service

import "io"

// openNotifySocket fails: only systemd, which runs on Linux alone, sets
// NOTIFY_SOCKET.
func openNotifySocket(string) (io.WriteCloser, error) { return nil, errNoSystemd }

// monotonicUsec is not needed without systemd.
func monotonicUsec() (uint64, bool) { return 0, false }
