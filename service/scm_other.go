//go:build !windows

package service

import "context"

// RunUnderServiceManager reports handled=false: on Unix, systemd, System V
// init and launchd run roost as an ordinary process, which stops on
// SIGTERM like a console run.
func RunUnderServiceManager(dir string, run func(ctx context.Context) error) (handled bool, err error) {
	return false, nil
}
