package supervisor

import "sync"

// One watchdog serves every Supervisor of the process: during a recycle
// two generations of the app run side by side, and a second watchdog
// process would only cost memory. It starts with the first Run and stops
// when the last Run returns.
var shared struct {
	mu    sync.Mutex
	users int
	wd    *watchdog
	err   error
}

// acquireWatchdog returns the process's watchdog, starting it if needed.
// A nil watchdog (with the error) means roost runs without one.
func acquireWatchdog() (*watchdog, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.users == 0 {
		shared.wd, shared.err = startWatchdog()
	}
	shared.users++
	return shared.wd, shared.err
}

// releaseWatchdog stops the watchdog when its last user is done.
func releaseWatchdog() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.users--
	if shared.users > 0 || shared.wd == nil {
		return nil
	}
	wd := shared.wd
	shared.wd = nil
	return wd.stop()
}
