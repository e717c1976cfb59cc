//go:build aix || linux || solaris || zos

package logs

import "golang.org/x/sys/unix"

const ioctlReadTermios = unix.TCGETS
