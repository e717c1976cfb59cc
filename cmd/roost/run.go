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

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
	"github.com/roosthq/roost/logs"
	"github.com/roosthq/roost/service"
)

// listenFlag collects repeated --listen values.
type listenFlag []string

func (l *listenFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listenFlag) Set(v string) error { *l = append(*l, v); return nil }

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "[flags] [APP]", stderr)
	var listen listenFlag
	fs.Var(&listen, "listen", "address to serve on: host:port, http://host:port or https://host:port; repeatable (default :$PORT if PORT is set, else :8080)")
	tlsCert := fs.String("tls-cert", "", "certificate file (PEM) for https listeners")
	tlsKey := fs.String("tls-key", "", "private key file (PEM) for https listeners")
	tlsClientCerts := fs.Bool("tls-client-certs", false, "ask https clients for a certificate and pass it to the app in MS-ASPNETCORE-CLIENTCERT (not verified by roost)")
	logLevel := fs.String("log-level", "info", "roost's log level: "+strings.Join(logs.Levels, ", "))
	logFormat := fs.String("log-format", "console", "roost's log format: "+strings.Join(logs.Formats, ", "))
	positional, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(positional) > 1 {
		fmt.Fprintf(stderr, "roost run: want at most one APP, got %d\n", len(positional))
		return exitUsage
	}
	app := "."
	if len(positional) == 1 {
		app = positional[0]
	}

	log, err := logs.New(logs.Options{Format: *logFormat, Level: *logLevel, Output: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "roost run: %v\n", err)
		return exitUsage
	}
	defer log.Sync()

	var specs []service.Listen
	for _, v := range listen {
		l, err := service.ParseListen(v)
		if err != nil {
			fmt.Fprintf(stderr, "roost run: %v\n", err)
			return exitUsage
		}
		specs = append(specs, l)
	}
	if len(specs) == 0 {
		specs = []service.Listen{service.DefaultListen(os.Getenv)}
	}

	path, err := config.FindFile(app)
	if err != nil {
		fmt.Fprintf(stderr, "roost run: %v\n", err)
		return exitUsage
	}
	cfg, err := config.Load(path)
	var invalid *config.Error
	switch {
	case errors.As(err, &invalid):
		for _, w := range invalid.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		for _, e := range invalid.Errors {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "roost run: %s has %d error(s); nothing was started\n", path, len(invalid.Errors))
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "roost run: %v\n", err)
		return exitUsage
	}
	for _, w := range cfg.Warnings {
		log.Warn("web.config", zap.String("warning", w.Error()))
	}
	log.Info("starting", zap.String("config", path), zap.String("element", cfg.Kind.String()),
		zap.String("version", buildVersion()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = service.Run(ctx, cfg, service.Options{Listen: specs, TLSCert: *tlsCert, TLSKey: *tlsKey, TLSClientCerts: *tlsClientCerts, Logger: log})
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
