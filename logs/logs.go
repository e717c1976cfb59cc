// Package logs builds roost's own structured log: one line per event, human
// readable by default, JSON on request, always on stderr so that stdout
// stays free for command output.
//
// It does not decide what is logged (each package logs its own events
// through the *zap.Logger it is given), and it does not capture the
// backend's output, which package supervisor reads.
package logs

import (
	"fmt"
	"io"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
}

// New returns roost's logger. Times are UTC, in RFC 3339 with
// milliseconds. Console lines read "time LEVEL logger message {fields}";
// JSON lines carry the keys time, level, logger, msg and the fields.
func New(o Options) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(orDefault(o.Level, "info"))
	if err != nil || !contains(Levels, strings.ToLower(o.Level), true) {
		return nil, fmt.Errorf("log level %q: want one of %s", o.Level, strings.Join(Levels, ", "))
	}
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
	var encoder zapcore.Encoder
	switch orDefault(o.Format, "console") {
	case "console":
		enc.EncodeLevel = zapcore.CapitalLevelEncoder
		encoder = zapcore.NewConsoleEncoder(enc)
	case "json":
		enc.EncodeLevel = zapcore.LowercaseLevelEncoder
		encoder = zapcore.NewJSONEncoder(enc)
	default:
		return nil, fmt.Errorf("log format %q: want one of %s", o.Format, strings.Join(Formats, ", "))
	}
	core := zapcore.NewCore(encoder, zapcore.Lock(zapcore.AddSync(o.Output)), level)
	return zap.New(core, zap.WithClock(utcClock{})), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contains(list []string, s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
