package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/logs"
	"github.com/roosthq/roost/service"
)

// listenFlag collects repeated --listen values.
type listenFlag []string

func (l *listenFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listenFlag) Set(v string) error { *l = append(*l, v); return nil }

// runFlags are roost run's flags, checked.
type runFlags struct {
	app            string
	listen         []service.Listen
	tlsCert        string
	tlsKey         string
	tlsClientCerts bool
	logFile        string
	log            logs.Options // Output is left for the caller
}

// parseRunFlags parses and checks roost run's arguments. Errors have been
// reported on stderr; the int is the exit code to return.
func parseRunFlags(args []string, stderr io.Writer) (runFlags, int, bool) {
	fs := newFlagSet("run", "[flags] [APP]", stderr)
	var listen listenFlag
	fs.Var(&listen, "listen", "address to serve on: host:port, http://host:port or https://host:port; repeatable (default :$PORT if PORT is set, else :8080)")
	tlsCert := fs.String("tls-cert", "", "certificate file (PEM) for https listeners")
	tlsKey := fs.String("tls-key", "", "private key file (PEM) for https listeners")
	tlsClientCerts := fs.Bool("tls-client-certs", false, "ask https clients for a certificate and pass it to the app in MS-ASPNETCORE-CLIENTCERT (not verified by roost)")
	logLevel := fs.String("log-level", "info", "roost's log level: "+strings.Join(logs.Levels, ", "))
	logFormat := fs.String("log-format", "console", "roost's log format: "+strings.Join(logs.Formats, ", "))
	logFile := fs.String("log-file", "", "also append roost's log to this file (for services, which have no console)")
	positional, err := parseFlags(fs, args)
	if err != nil {
		return runFlags{}, flagExit(err), false
	}
	if len(positional) > 1 {
		fmt.Fprintf(stderr, "roost run: want at most one APP, got %d\n", len(positional))
		return runFlags{}, exitUsage, false
	}
	f := runFlags{app: ".", tlsCert: *tlsCert, tlsKey: *tlsKey, tlsClientCerts: *tlsClientCerts, logFile: *logFile,
		log: logs.Options{Format: *logFormat, Level: *logLevel}}
	if len(positional) == 1 {
		f.app = positional[0]
	}
	// The flags are checked before web.config; the logger is built after
	// it, which may name a debug file.
	if err := f.log.Check(); err != nil {
		fmt.Fprintf(stderr, "roost run: %v\n", err)
		return runFlags{}, exitUsage, false
	}
	for _, v := range listen {
		l, err := service.ParseListen(v)
		if err != nil {
			fmt.Fprintf(stderr, "roost run: %v\n", err)
			return runFlags{}, exitUsage, false
		}
		if l.TLS && (f.tlsCert == "" || f.tlsKey == "") {
			fmt.Fprintf(stderr, "roost run: https listener %s needs --tls-cert and --tls-key\n", l)
			return runFlags{}, exitUsage, false
		}
		f.listen = append(f.listen, l)
	}
	if len(f.listen) == 0 {
		f.listen = []service.Listen{service.DefaultListen(os.Getenv)}
	}
	return f, exitOK, true
}

// checkRunArgs checks the flags `roost service install` passes to roost
// run, which supplies the app itself.
func checkRunArgs(args []string) error {
	var stderr strings.Builder
	f, _, ok := parseRunFlags(args, &stderr)
	switch {
	case !ok:
		return errors.New(strings.TrimSpace(strings.TrimPrefix(stderr.String(), "roost run: ")))
	case f.app != ".":
		return fmt.Errorf("unexpected argument %q: the app is given before --", f.app)
	}
	return nil
}

func runRun(args []string, stdout, stderr io.Writer) int {
	f, code, ok := parseRunFlags(args, stderr)
	if !ok {
		return code
	}
	app := f.app
	logOpts := f.log
	logOpts.Output = stderr
	if f.logFile != "" {
		file, err := os.OpenFile(f.logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "roost run: --log-file: %v\n", err)
			return exitUsage
		}
		defer file.Close()
		logOpts.Output = io.MultiWriter(stderr, file)
	}

	cfg, ok := loadApp("run", app, "; nothing was started", stderr)
	if !ok {
		return exitUsage
	}
	logOpts.Debug = cfg.Debug
	log, closeLog, err := logs.New(logOpts)
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

	opts := service.Options{
		Listen: f.listen, TLSCert: f.tlsCert, TLSKey: f.tlsKey, TLSClientCerts: f.tlsClientCerts, Logger: log,
		Output: func(cfg *config.Config) func(int, time.Time) io.WriteCloser { return logs.StdoutSink(cfg.Stdout, log) },
	}
	serve := func(ctx context.Context) error { return service.Run(ctx, cfg, opts) }
	// Under the Windows service manager, its stop request ends the run;
	// everywhere else (systemd, init scripts, launchd, a console), SIGINT
	// or SIGTERM do.
	handled, err := service.RunUnderServiceManager(cfg.Dir, serve)
	if !handled {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = serve(ctx)
	}
	var listenErr *service.ListenError
	var optionErr *service.OptionError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &optionErr):
		fmt.Fprintf(stderr, "roost run: %v\n", optionErr)
		return exitUsage
	case errors.As(err, &listenErr):
		log.Error("cannot listen", zap.String("address", listenErr.Listen.String()), zap.Error(listenErr.Err))
		return exitFailure
	default:
		log.Error("roost stopped with an error", zap.Error(err))
		return exitFailure
	}
}
