package service

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows/svc"
)

// Run runs run as a service of the Windows Service Control Manager, which
// must have started this process (roost service install writes --service
// on the command line it registers, so that nothing is guessed). The
// working directory becomes dir, since services start in system32. A stop
// or shutdown request from the SCM cancels run's context, and roost tells
// the SCM it needs up to stopWait (its stop deadline) and a margin to
// stop; when run returns by itself with an error, the service stops with
// exit code 1, so that the recovery actions set at install restart it.
func Run(dir string, stopWait time.Duration, run func(ctx context.Context) error) error {
	if err := os.Chdir(dir); err != nil {
		return err
	}
	h := &scmHandler{run: run, stopWait: stopWait + stopMargin}
	// The name is ignored for a service that runs in its own process.
	if err := svc.Run("roost", h); err != nil {
		return fmt.Errorf("run as a Windows service (was roost started by the service manager?): %w", err)
	}
	return h.err
}

type scmHandler struct {
	run      func(ctx context.Context) error
	stopWait time.Duration
	err      error
}

func (h *scmHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case req := <-requests:
			switch req.Cmd {
			case svc.Interrogate:
				status <- req.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(h.stopWait / time.Millisecond)}
				cancel()
				h.err = <-done
				return false, exitCode(h.err)
			}
		case h.err = <-done:
			return false, exitCode(h.err)
		}
	}
}

func exitCode(err error) uint32 {
	if err != nil {
		return 1
	}
	return 0
}
