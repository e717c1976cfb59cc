//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package logs

import "golang.org/x/sys/unix"

const ioctlReadTermios = unix.TIOCGETA
