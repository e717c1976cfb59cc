package supervisor

// RunWatchdogIfAsked returns at once: on Windows the job object that holds
// each backend kills it and its descendants when roost dies, so no
// watchdog process is needed.
func RunWatchdogIfAsked() {}

// watchdog does nothing on Windows; see RunWatchdogIfAsked.
type watchdog struct{}

func startWatchdog() (*watchdog, error)     { return &watchdog{}, nil }
func (*watchdog) add(*processTree) error    { return nil }
func (*watchdog) remove(*processTree) error { return nil }
func (*watchdog) stop() error               { return nil }
