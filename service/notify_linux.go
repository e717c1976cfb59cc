package service

import (
	"io"
	"net"

	"golang.org/x/sys/unix"
)

// openNotifySocket connects to systemd's notification socket at addr: a
// path, or an abstract name written with a leading '@' (package net maps
// it to the leading NUL byte of an abstract address).
func openNotifySocket(addr string) (io.WriteCloser, error) {
	return net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, the clock systemd
// reads MONOTONIC_USEC with.
func monotonicUsec() (uint64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, false
	}
	return uint64(ts.Nano() / 1000), true
}
