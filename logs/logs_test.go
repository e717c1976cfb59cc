package logs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	log, closeLog, err := New(Options{Format: "json", Level: "debug", Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	log.Named("supervisor").Info("backend exited", zap.Int("pid", 42), zap.Duration("uptime", 1500*time.Millisecond), zap.Int("exit_code", 3))
	log.Warn("web.config", zap.String("warning", `say "hi"`))
	closeLog()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("%v: %s", err, lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatalf("%v: %s", err, lines[1])
	}
	ts, err := time.Parse("2006-01-02T15:04:05.000Z07:00", first["time"].(string))
	if err != nil || !strings.HasSuffix(first["time"].(string), "Z") || time.Since(ts) > time.Minute {
		t.Errorf("time %q: want now, in UTC, with milliseconds", first["time"])
	}
	want := map[string]any{"level": "info", "logger": "supervisor", "msg": "backend exited", "pid": 42.0, "uptime": "1.5s", "exit_code": 3.0}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	if second["level"] != "warn" || second["warning"] != `say "hi"` {
		t.Errorf("second line %v", second)
	}
}

func TestConsoleLines(t *testing.T) {
	var out bytes.Buffer
	log, closeLog, err := New(Options{Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Named("forwarder").Info("listening", zap.String("url", "http://[::]:8080"))
	closeLog()
	line := out.String()
	if !strings.Contains(line, "\tINFO\tforwarder\tlistening\t{\"url\": \"http://[::]:8080\"}\n") || strings.Contains(line, "hidden") {
		t.Errorf("console line %q", line)
	}
	if strings.Contains(line, "\x1b[") {
		t.Errorf("colour in a line that is not for a terminal: %q", line)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{{Level: "verbose"}, {Level: "warning"}, {Format: "xml"}} {
		o.Output = &bytes.Buffer{}
		if _, _, err := New(o); err == nil || o.Check() == nil {
			t.Errorf("New(%+v) accepted it", o)
		}
	}
}

func TestDebugFile(t *testing.T) {
	tests := []struct {
		debug      config.DebugLog
		level      string
		wantStderr []string
		wantFile   []string
	}{
		{config.DebugLog{Level: "trace"}, "error", []string{"e"}, []string{"d", "i", "w", "e"}},
		{config.DebugLog{Level: "warning"}, "info", []string{"i", "w", "e"}, []string{"w", "e"}},
		{config.DebugLog{Level: "error"}, "info", []string{"i", "w", "e"}, []string{"e"}},
		{config.DebugLog{}, "error", []string{"e"}, []string{"i", "w", "e"}},
		{config.DebugLog{Level: "info", Console: true}, "error", []string{"i", "w", "e"}, []string{"i", "w", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.debug.Level+"/"+tt.level, func(t *testing.T) {
			var stderr bytes.Buffer
			tt.debug.File = filepath.Join(t.TempDir(), "logs", "aspnetcore-debug.log")
			log, closeLog, err := New(Options{Format: "json", Level: tt.level, Output: &stderr, Debug: tt.debug})
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			if err := closeLog(); err != nil {
				t.Fatal(err)
			}
			if got := messages(t, stderr.Bytes(), false); strings.Join(got, " ") != strings.Join(tt.wantStderr, " ") {
				t.Errorf("stderr got %v, want %v", got, tt.wantStderr)
			}
			data, err := os.ReadFile(tt.debug.File)
			if err != nil {
				t.Fatal(err)
			}
			if got := messages(t, data, true); strings.Join(got, " ") != strings.Join(tt.wantFile, " ") {
				t.Errorf("debug file got %v, want %v", got, tt.wantFile)
			}
		})
	}
}

// messages returns the msg of each JSON line, checking that file lines
// carry roost's pid.
func messages(t *testing.T, data []byte, file bool) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if pid, ok := m["pid"]; ok != file || (file && pid != float64(os.Getpid())) {
			t.Errorf("line %s: pid %v", line, pid)
		}
		out = append(out, m["msg"].(string))
	}
	return out
}

func TestDebugFileUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	log, closeLog, err := New(Options{Output: &stderr, Debug: config.DebugLog{File: filepath.Join(blocker, "debug.log"), Level: "trace"}})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("still logging")
	closeLog()
	if got := stderr.String(); !strings.Contains(got, "cannot open the debug log file; logging to stderr only") || !strings.Contains(got, "still logging") {
		t.Errorf("stderr:\n%s", got)
	}
}
