//go:build !windows

package service

import (
	"context"
	"time"
)

// RunUnderServiceManager reports handled=false: on Unix, systemd, System V
// init and launchd run roost as an ordinary process, which stops on
// SIGTERM like a console run.
func RunUnderServiceManager(dir string, stopWait time.Duration, run func(ctx context.Context) error) (handled bool, err error) {
	return false, nil
}
