// Package logs holds roost's logs: its own structured log, and the
// backend's stdout log files.
//
// New builds roost's log (zap): one line per event, human readable by
// default (coloured on a terminal), JSON on request, on stderr so that
// stdout stays free for command output, and also in web.config's debugFile
// at its debugLevel. It does not decide what is logged: each package logs
// its own events through the *zap.Logger it is given.
//
// StdoutSink writes what each backend process prints (the supervisor reads
// it and hands it over) to the stdout log files: one per process start,
// rotated by size, with the app's oldest files deleted beyond a count.
// Tail prints and follows those files, from the files alone, for roost
// logs.
package logs

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/roosthq/roost/config"
)

// Formats are the values of --log-format.
var Formats = []string{"console", "json"}

// Levels are the values of --log-level, least severe first.
var Levels = []string{"debug", "info", "warn", "error"}

// Options say how roost logs.
type Options struct {
	Format string    // "console" (default) or "json"
	Level  string    // "debug", "info" (default), "warn" or "error"
	Output io.Writer // where lines go; required (roost passes stderr)

	// Debug is web.config's debugFile and debugLevel: when Debug.File is
	// set, the log is also appended to that file (its folders created), at
	// Debug.Level (error, warning, info or trace, which is zap's debug;
	// info when not set), whatever Level says. With the CONSOLE sink
	// (Debug.Console), that level also applies to Output when it is more
	// verbose than Level. The EVENTLOG sink is not supported.
	Debug config.DebugLog
}

// New returns roost's logger, and a function to call when it is no longer
// used, which flushes it and closes the debug file. Times are UTC, in RFC
// 3339 with milliseconds. Console lines read "time LEVEL logger message
// {fields}", with the level coloured when Output is a terminal (and
// NO_COLOR is not set); JSON lines carry the keys time, level, logger, msg
// and the fields. Lines in the debug file also carry roost's pid.
//
// A debug file that cannot be opened is not an error: it is logged as a
// warning, and roost logs to Output alone.
func New(o Options) (*zap.Logger, func() error, error) {
	if err := o.Check(); err != nil {
		return nil, nil, err
	}
	level, _ := parseLevel(o.Level)
	format := cmp.Or(o.Format, "console")

	var fileLevel zapcore.Level
	if o.Debug.File != "" {
		fileLevel = debugLevel(o.Debug.Level)
		if o.Debug.Console && fileLevel < level {
			level = fileLevel
		}
	}
	core := zapcore.NewCore(encoder(format, isColorTerminal(o.Output) && format == "console"),
		zapcore.Lock(zapcore.AddSync(o.Output)), level)
	closeFile := func() error { return nil }
	var fileErr error
	if o.Debug.File != "" {
		var f *os.File
		if f, fileErr = openDebugFile(o.Debug.File); fileErr == nil {
			fileCore := zapcore.NewCore(encoder(format, false), zapcore.Lock(f), fileLevel).
				With([]zapcore.Field{zap.Int("pid", os.Getpid())})
			core = zapcore.NewTee(core, fileCore)
			closeFile = f.Close
		}
	}
	log := zap.New(core, zap.WithClock(utcClock{}))
	if fileErr != nil {
		log.Warn("cannot open the debug log file; logging to stderr only", zap.String("file", o.Debug.File), zap.Error(fileErr))
	}
	closeLog := func() error {
		log.Sync() //nolint:errcheck // syncing a terminal or pipe fails on some systems; nothing is lost
		return closeFile()
	}
	return log, closeLog, nil
}

// Check reports whether Format and Level are valid, the errors New
// returns, before there is a debug file to open.
func (o Options) Check() error {
	if _, err := parseLevel(o.Level); err != nil {
		return err
	}
	if !slices.Contains(Formats, cmp.Or(o.Format, "console")) {
		return fmt.Errorf("log format %q: want one of %s", o.Format, strings.Join(Formats, ", "))
	}
	return nil
}

func parseLevel(s string) (zapcore.Level, error) {
	name := cmp.Or(s, "info") // empty means the default
	l, err := zapcore.ParseLevel(name)
	if err != nil || !slices.Contains(Levels, strings.ToLower(name)) {
		return 0, fmt.Errorf("log level %q: want one of %s", s, strings.Join(Levels, ", "))
	}
	return l, nil
}

// debugLevel maps ANCM's debugLevel to zap's level.
func debugLevel(s string) zapcore.Level {
	switch s {
	case "error":
		return zapcore.ErrorLevel
	case "warning":
		return zapcore.WarnLevel
	case "trace":
		return zapcore.DebugLevel
	}
	return zapcore.InfoLevel
}

func encoder(format string, color bool) zapcore.Encoder {
	enc := zapcore.EncoderConfig{
		TimeKey:        "time",
		LevelKey:       "level",
		NameKey:        "logger",
		MessageKey:     "msg",
		StacktraceKey:  "stack",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeTime:     zapcore.TimeEncoderOfLayout("2006-01-02T15:04:05.000Z07:00"),
		EncodeDuration: zapcore.StringDurationEncoder,
		EncodeName:     zapcore.FullNameEncoder,
	}
	if format == "json" {
		enc.EncodeLevel = zapcore.LowercaseLevelEncoder
		return zapcore.NewJSONEncoder(enc)
	}
	enc.EncodeLevel = zapcore.CapitalLevelEncoder
	if color {
		enc.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	return zapcore.NewConsoleEncoder(enc)
}

// isColorTerminal reports whether w is a terminal that shows colours, and
// colours are wanted (https://no-color.org).
func isColorTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && os.Getenv("NO_COLOR") == "" && colorTerminal(f.Fd())
}

// openDebugFile opens the debug log for appending, creating its folders
// (ANCM did not, which its users reported as a bug).
func openDebugFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
}
