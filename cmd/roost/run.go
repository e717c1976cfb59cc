package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/logs"
	"github.com/roosthq/roost/logs/access"
	"github.com/roosthq/roost/service"
	"github.com/roosthq/roost/service/host"
	"github.com/roosthq/roost/supervisor"
)

// listenFlag collects repeated --listen values.
type listenFlag []string

func (l *listenFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listenFlag) Set(v string) error { *l = append(*l, v); return nil }

// runFlagValues are roost run's flags as given.
type runFlagValues struct {
	listen         listenFlag
	tlsCert        string
	tlsKey         string
	tlsClientCerts bool
	logLevel       string
	logFormat      string
	logFile        string
	service        bool
	trustedProxies []string // --trusted-proxies values, each a comma-separated list
	http1          string
	admin          string

	accessLog         string // a file, or - for stdout
	accessLogFormat   string
	accessLogMaxSize  string
	accessLogMaxFiles int
}

// newRunFlagSet returns roost run's flag set, which reports flag errors
// and -h to out, and the values it fills.
func newRunFlagSet(out io.Writer) (*flag.FlagSet, *runFlagValues) {
	fs := newFlagSet("run", "[flags] [APP]", out)
	v := &runFlagValues{}
	fs.Var(&v.listen, "listen", "address to serve on: host:port, http://host:port or https://host:port; repeatable (default :$PORT if PORT is set, else :8080)")
	fs.StringVar(&v.tlsCert, "tls-cert", "", "certificate file (PEM) for https listeners")
	fs.StringVar(&v.tlsKey, "tls-key", "", "private key file (PEM) for https listeners")
	fs.BoolVar(&v.tlsClientCerts, "tls-client-certs", false, "ask https clients for a certificate and pass it to the app in MS-ASPNETCORE-CLIENTCERT (not verified by roost)")
	fs.StringVar(&v.logLevel, "log-level", "info", "roost's log level: "+strings.Join(logs.Levels, ", "))
	fs.StringVar(&v.logFormat, "log-format", "console", "roost's log format: "+strings.Join(logs.Formats, ", "))
	fs.StringVar(&v.logFile, "log-file", "", "also append roost's log to this file (for services, which have no console)")
	fs.BoolVar(&v.service, "service", false, "run under the service manager, which roost service install says; on Windows, talk to the Service Control Manager")
	fs.StringVar(&v.admin, "admin", defaultAdmin, "address of the admin listener (/metrics, /healthz, /readyz, /status; roost status finds it): host:port, or off")
	fs.Func("trusted-proxies", "proxies in front of roost whose X-Forwarded-For and X-Forwarded-Proto are kept and appended to: IP addresses and CIDR prefixes, comma-separated; repeatable (default none: every client's are replaced)", func(s string) error {
		v.trustedProxies = append(v.trustedProxies, s)
		return nil
	})
	fs.StringVar(&v.http1, "http1", "roost", "server of HTTP/1.x connections: roost (roost's own, strict) or net/http (Go's, the fallback); HTTP/2 is always Go's")
	fs.StringVar(&v.accessLog, "access-log", "", "write an access log line per request to this file, or - for stdout (default none)")
	fs.StringVar(&v.accessLogFormat, "access-log-format", "w3c", "the access log's format: "+strings.Join(access.Formats, ", ")+" (w3c: IIS's W3C extended format)")
	fs.StringVar(&v.accessLogMaxSize, "access-log-max-size", defaultAccessLogMaxSize, "size at which the access log file is rotated: bytes, or a number with KB, MB or GB")
	fs.IntVar(&v.accessLogMaxFiles, "access-log-max-files", defaultAccessLogMaxFiles, "access log files kept, the one being written included")
	return fs, v
}

// runFlags are roost run's flags, checked.
type runFlags struct {
	opts    host.Options // Logger, Watchdog, Output and AccessLog are left for the caller
	log     logs.Options // Output is left for the caller
	logFile string
	service bool // run under the service manager

	accessLog     string         // --access-log: a file, - for stdout, "" for none
	accessOptions access.Options // Software, OnDropped and Logger are left for the caller
}

// check checks the values and turns them into runFlags. The logger is
// built later, after web.config, which may name a debug file.
func (v *runFlagValues) check() (runFlags, error) {
	f := runFlags{
		opts:    host.Options{TLSCert: v.tlsCert, TLSKey: v.tlsKey, TLSClientCerts: v.tlsClientCerts},
		log:     logs.Options{Format: v.logFormat, Level: v.logLevel},
		logFile: v.logFile,
		service: v.service,
	}
	if err := f.log.Check(); err != nil {
		return runFlags{}, err
	}
	engine, err := host.ParseEngine(v.http1)
	if err != nil {
		return runFlags{}, err
	}
	f.opts.HTTP1 = engine
	admin, err := parseAdmin(v.admin)
	if err != nil {
		return runFlags{}, err
	}
	f.opts.Admin = admin
	if f.accessLog, f.accessOptions, err = v.checkAccessLog(); err != nil {
		return runFlags{}, err
	}
	for _, s := range v.trustedProxies {
		p, err := host.ParseTrustedProxies(s)
		if err != nil {
			return runFlags{}, err
		}
		f.opts.TrustedProxies = append(f.opts.TrustedProxies, p...)
	}
	for _, s := range v.listen {
		l, err := host.ParseListen(s)
		if err != nil {
			return runFlags{}, err
		}
		f.opts.Listen = append(f.opts.Listen, l)
	}
	if len(f.opts.Listen) == 0 {
		f.opts.Listen = []host.Listen{host.DefaultListen(os.Getenv)}
	}
	if err := f.opts.Check(); err != nil {
		return runFlags{}, err
	}
	return f, nil
}

// The access log's rotation by default: about 500 000 lines of 200 bytes
// a file, 1 GiB at most in all.
const (
	defaultAccessLogMaxSize  = "100MB"
	defaultAccessLogMaxFiles = 10
)

// checkAccessLog checks the --access-log flags (also when --access-log is
// not given, so that a mistake shows at once).
func (v *runFlagValues) checkAccessLog() (string, access.Options, error) {
	format, err := access.ParseFormat(v.accessLogFormat)
	if err != nil {
		return "", access.Options{}, fmt.Errorf("--access-log-format: %w", err)
	}
	size, err := config.ParseSize(v.accessLogMaxSize, 1<<10, 1<<40)
	if err != nil {
		return "", access.Options{}, fmt.Errorf("--access-log-max-size: %w", err)
	}
	if v.accessLogMaxFiles < 1 || v.accessLogMaxFiles > 10000 {
		return "", access.Options{}, fmt.Errorf("--access-log-max-files %d: want 1-10000", v.accessLogMaxFiles)
	}
	return v.accessLog, access.Options{Format: format, MaxBytes: size, MaxFiles: v.accessLogMaxFiles}, nil
}

// accessLogHook returns host.Options.AccessLog for the flags: nil without
// --access-log; else what opens the file, or writes to stdout for -.
func accessLogHook(f runFlags, log *zap.Logger, stdout io.Writer) func(dropped func(int64)) (*access.Log, error) {
	if f.accessLog == "" {
		return nil
	}
	o := f.accessOptions
	o.Software, o.Logger = "roost "+buildVersion(), log.Named("access")
	return func(dropped func(int64)) (*access.Log, error) {
		o.OnDropped = dropped
		if f.accessLog == "-" {
			return access.New(stdout, o), nil
		}
		l, err := access.Open(f.accessLog, o)
		if err != nil {
			return nil, fmt.Errorf("--access-log: %w", err)
		}
		return l, nil
	}
}

// defaultAdmin is --admin's default: loopback only, on a port the system
// chooses, so that it is on but never public, and two roosts never clash.
const defaultAdmin = "127.0.0.1:0"

// parseAdmin checks an --admin value and returns the address to listen
// on, "" for off.
func parseAdmin(s string) (string, error) {
	if s == "off" {
		return "", nil
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("--admin %q: want host:port (such as 127.0.0.1:9100), or off", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("--admin %q: port %q is not 0-65535", s, port)
	}
	return s, nil
}

// checkRunArgs checks the flags `roost service install` passes to roost
// run, which supplies the app itself.
func checkRunArgs(args []string) error {
	fs, v := newRunFlagSet(io.Discard)
	positional, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return err
	case len(positional) > 0:
		return fmt.Errorf("unexpected argument %q: the app is given before --", positional[0])
	}
	_, err = v.check()
	return err
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs, v := newRunFlagSet(stderr)
	app, code, ok := parseApp(fs, args, stderr)
	if !ok {
		return code
	}
	f, err := v.check()
	if err != nil {
		fmt.Fprintf(stderr, "roost run: %v\n", err)
		return exitUsage
	}
	cfg, ok := loadApp("run", app, "; nothing was started", stderr)
	if !ok {
		return exitUsage
	}
	log, closeLog, err := openLog(f, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "roost run: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	for _, w := range cfg.Warnings {
		log.Warn("web.config", zap.String("warning", w.Error()))
	}
	log.Info("starting", zap.String("config", cfg.File), zap.String("element", cfg.Kind.String()),
		zap.String("version", buildVersion()))

	// Before the watchdog starts: it removes systemd's variables from the
	// environment that the watchdog and the backends inherit.
	notifier, stopNotifier := startNotifier(log)
	defer stopNotifier()
	wd, err := supervisor.StartWatchdog()
	if err != nil {
		log.Warn("no watchdog; if roost is killed, the backend's children may outlive it", zap.Error(err))
	}
	defer func() {
		if err := wd.Close(); err != nil {
			log.Warn("watchdog did not stop cleanly", zap.Error(err))
		}
	}()
	opts := f.opts
	opts.Logger, opts.Watchdog = log, wd
	if notifier != nil {
		opts.Notifier = notifier
	}
	opts.Version = buildVersion()
	opts.Output = func(cfg *config.Config, dropped func(int64)) func(int, time.Time) io.WriteCloser {
		return logs.StdoutSink(cfg.Stdout, log, logs.OnDropped(dropped))
	}
	opts.AccessLog = accessLogHook(f, log, stdout)
	return runExit(serve(cfg, opts, f.service), log, stderr)
}

// The systemd notifier is what roost run tells of the app's life.
var _ host.Notifier = (*service.Notifier)(nil)

// startNotifier returns the systemd notifier when NOTIFY_SOCKET is set,
// else nil, and runs its watchdog pings until the returned stop is
// called; stop then closes it.
func startNotifier(log *zap.Logger) (*service.Notifier, func()) {
	n, err := service.NewNotifier(log)
	if err != nil {
		log.Warn("cannot notify systemd; running without", zap.Error(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var pings sync.WaitGroup
	pings.Go(func() { n.RunWatchdog(ctx) })
	return n, func() {
		cancel()
		pings.Wait()
		n.Close()
	}
}

// openLog builds roost's logger for the flags and cfg's debug settings,
// writing to stderr and to --log-file when given. The closer closes both.
func openLog(f runFlags, cfg *config.Config, stderr io.Writer) (*zap.Logger, func(), error) {
	logOpts := f.log
	logOpts.Output = stderr
	logOpts.Debug = cfg.Debug
	var file *os.File
	if f.logFile != "" {
		var err error
		if file, err = os.OpenFile(f.logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		logOpts.Output = logs.Tee(stderr, file) // a service's stderr fails every write
	}
	log, closeLog, err := logs.New(logOpts)
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, nil, err
	}
	return log, func() {
		closeLog()
		if file != nil {
			file.Close()
		}
	}, nil
}

// serve runs the app until it is stopped: under the service manager
// (--service, which roost service install writes), by the manager's stop
// request; in a console, by Ctrl+C or SIGTERM.
func serve(cfg *config.Config, opts host.Options, underManager bool) error {
	run := func(ctx context.Context) error { return host.Run(ctx, cfg, opts) }
	if underManager {
		return service.Run(cfg.Dir, cfg.Process.StopTimeLimit(), run)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx)
}

// runExit maps the run's result to an exit code, saying what went wrong.
func runExit(err error, log *zap.Logger, stderr io.Writer) int {
	var listenErr *host.ListenError
	var optionErr *host.OptionError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &optionErr):
		fmt.Fprintf(stderr, "roost run: %v\n", optionErr)
		return exitUsage
	case errors.As(err, &listenErr):
		fields := []zap.Field{zap.String("flag", listenErr.Flag), zap.String("address", listenErr.Listen.String()), zap.Error(listenErr.Err)}
		if listenErr.Flag == "--admin" {
			fields = append(fields, zap.String("hint", "give --admin another address (host:port; port 0 lets the system choose), or --admin off"))
		}
		log.Error("cannot listen", fields...)
		return exitFailure
	default:
		log.Error("roost stopped with an error", zap.Error(err))
		return exitFailure
	}
}
