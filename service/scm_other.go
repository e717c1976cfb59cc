//go:build !windows

package service

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Run runs run until the service manager stops it: systemd, System V init
// and launchd run roost as an ordinary process and stop it with SIGTERM
// (SIGINT too, as in a console), so this is what a console run does.
func Run(dir string, stopWait time.Duration, run func(ctx context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx)
}
