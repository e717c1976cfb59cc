// Package config turns a web.config into one validated, typed Config.
//
// It reads the <aspNetCore> element of the ASP.NET Core Module (ANCM) or the
// <httpPlatform> element of HttpPlatformHandler, with ANCM's attribute names,
// types, defaults and ranges, their child collections and handler settings,
// and IIS's request filtering rules. Every problem is reported at once, each with
// the file, line and attribute it is about. Parse has no side effects: it
// touches neither the file system nor the process environment, so it can be
// table-tested and fuzzed. Load and FindFile read files; Process.LookPath
// looks up the program to run.
//
// The package does not start, watch or signal anything, and imports no other
// package of roost.
package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kind says which element configures the app.
type Kind int

const (
	// AspNetCore is <aspNetCore>, the ASP.NET Core Module's element.
	AspNetCore Kind = iota + 1
	// HTTPPlatform is <httpPlatform>, HttpPlatformHandler's element.
	HTTPPlatform
)

// String returns the element name, as written in web.config.
func (k Kind) String() string {
	switch k {
	case AspNetCore:
		return "aspNetCore"
	case HTTPPlatform:
		return "httpPlatform"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// PortVariable returns the environment variable that carries the assigned
// port to the backend: ASPNETCORE_PORT or HTTP_PLATFORM_PORT.
func (k Kind) PortVariable() string {
	if k == HTTPPlatform {
		return "HTTP_PLATFORM_PORT"
	}
	return "ASPNETCORE_PORT"
}

// Config is a web.config that has been parsed, filled with defaults and
// validated. Only Parse and Load make one, so code that receives a *Config
// may rely on every field being valid.
type Config struct {
	File string // the web.config path, as given
	Dir  string // the app folder: the backend's working directory, and the base of relative paths
	Kind Kind

	Process Process   // what the supervisor needs
	Proxy   Proxy     // what the forwarder needs
	Stdout  StdoutLog // the backend's stdout log files
	Debug   DebugLog  // roost's own diagnostic log file (handlerSettings debugFile, debugLevel)

	// DisallowRotationOnConfigChange (handlerSettings
	// disallowRotationOnConfigChange) makes roost ignore changes to
	// web.config instead of recycling the app. Default false.
	DisallowRotationOnConfigChange bool

	// HostingModel is the hostingModel attribute in lower case: "" (not
	// set), "outofprocess" or "inprocess". roost always runs the app out of
	// process. Always "" for <httpPlatform>.
	HostingModel string

	// RecycleOnFileChange lists the <recycleOnFileChange> file paths. ANCM
	// keeps the collection for backward compatibility and ignores it; so
	// does roost.
	RecycleOnFileChange []string

	// Warnings are problems that do not stop the app: unknown attributes and
	// elements, IIS settings roost does not apply, values roost overrides.
	Warnings []*Diagnostic

	settings []Setting
}

// Process is what the supervisor needs to run the backend.
type Process struct {
	Kind Kind
	Dir  string // working directory: the app folder

	// Path is processPath after %VAR% expansion, with Windows separators
	// turned into / on other systems. It may be relative or a bare program
	// name; LookPath finds the file to run. Required.
	Path string

	// Arguments is the arguments attribute after %VAR% expansion. Default "".
	// Use Args (or CommandLine on Windows) to get what to pass for a port.
	Arguments Template

	// Env holds <environmentVariables> in file order, after %VAR%
	// expansion, one entry per name (the last one written wins). Values may
	// hold port placeholders.
	Env []EnvVar

	// Port is the fixed port set by ASPNETCORE_PORT (for <aspNetCore>,
	// 1025-48000) or HTTP_PLATFORM_PORT (for <httpPlatform>, 1-65535) in
	// Env. Zero means roost picks a free port for every start.
	Port int

	// StartupTimeLimit (startupTimeLimit, whole seconds, 0-3600) bounds the
	// time from starting the process until it accepts connections on its
	// port. Default 120 s for <aspNetCore>, 10 s for <httpPlatform>. Zero
	// allows a single readiness check.
	StartupTimeLimit time.Duration

	// ShutdownTimeLimit (shutdownTimeLimit, whole seconds, 0-600) bounds a
	// graceful stop before the process tree is killed. Default 10 s. Zero
	// kills at once. <httpPlatform> has no such attribute and uses 10 s.
	ShutdownTimeLimit time.Duration

	// ShutdownDelay (handlerSettings shutdownDelay, milliseconds, 0 or
	// more) is how long roost keeps serving after it is asked to stop,
	// before it starts draining. Default 0.
	ShutdownDelay time.Duration

	// RapidFailsPerMinute (rapidFailsPerMinute, 0-100) is how many failures
	// within a rolling minute are tolerated before restarts pause. Default 10.
	RapidFailsPerMinute int

	// StartupRetryCount (<httpPlatform> startupRetryCount, 0-100, default
	// 10) bounds consecutive failed starts before restarts pause. -1 for
	// <aspNetCore>, which has no such bound beyond RapidFailsPerMinute.
	StartupRetryCount int

	// ProcessesPerApplication (processesPerApplication, 1-100) is how many
	// backend processes to run. Default 1.
	ProcessesPerApplication int

	// ConsoleRedirection (handlerSettings
	// enableOutOfProcessConsoleRedirection) captures the backend's stdout
	// and stderr when the stdout log is off. Default true; false gives the
	// backend no standard output at all.
	ConsoleRedirection bool
}

// StopTimeLimit is how long roost takes at most to stop, from the moment
// it is asked to: ShutdownDelay of serving as usual, then
// ShutdownTimeLimit to let requests finish and stop the backend
// gracefully, after which what is left is killed. A service manager must
// wait at least this long (plus a margin for roost's own exit) before it
// kills roost.
func (p *Process) StopTimeLimit() time.Duration { return p.ShutdownDelay + p.ShutdownTimeLimit }

// EnvVar is one <environmentVariable>.
type EnvVar struct {
	Name  string
	Value Template
	Line  int // where it was set in web.config
}

// Args returns the arguments split into words by SplitCommandLine, with
// port placeholders filled with port, or left as written when port is 0.
// On systems other than Windows, a word
// that starts with .\ or ..\ is a relative Windows path and has its
// backslashes turned into slashes, so arguments=".\MyApp.dll" works.
func (p *Process) Args(port int) []string {
	line := p.Arguments.String()
	if port > 0 {
		line = p.Arguments.Fill(port)
	}
	words := SplitCommandLine(line)
	for i, w := range words {
		words[i] = nativeArgPath(w)
	}
	return words
}

// CommandLine returns the arguments as written, with port placeholders
// filled with port: on Windows this string is passed to the backend as is.
func (p *Process) CommandLine(port int) string { return p.Arguments.Fill(port) }

// Proxy is what the forwarder needs.
type Proxy struct {
	Kind Kind

	// RequestTimeout (requestTimeout, a TimeSpan) bounds how long the
	// backend may stay silent while a request waits on it: an inactivity
	// limit, not a total deadline. Default 2 minutes; at most 360 hours for
	// <aspNetCore> and 720 hours for <httpPlatform>. Zero means no limit.
	RequestTimeout time.Duration

	// MaxAllowedContentLength (<security><requestFiltering><requestLimits
	// maxAllowedContentLength>, bytes, 0-4294967295) is the largest request
	// body accepted. Default 30000000.
	MaxAllowedContentLength int64

	// Filtering is the rest of IIS's request filtering: what a request
	// must pass before it reaches the backend. Parse always sets it; nil
	// (in a Proxy made by hand) filters nothing.
	Filtering *RequestFiltering

	// DisableStartUpErrorPage (disableStartUpErrorPage) sends the 502 of a
	// failed start with no body. Default false. <aspNetCore> only.
	DisableStartUpErrorPage bool

	// ForwardWindowsAuthToken (forwardWindowsAuthToken) is accepted for
	// compatibility. roost has no Windows authentication, so there is never
	// a token to forward. Default true for <aspNetCore>, false for
	// <httpPlatform>.
	ForwardWindowsAuthToken bool

	// ForwardResponseConnectionHeader (handlerSettings
	// forwardResponseConnectionHeader) passes the backend's Connection
	// response header to the client. Default false.
	ForwardResponseConnectionHeader bool

	// DetailedErrors is true when error pages may show the backend's last
	// output: ASPNETCORE_DETAILEDERRORS is 1 or true, or
	// ASPNETCORE_ENVIRONMENT (else DOTNET_ENVIRONMENT) is Development,
	// looked up in roost's environment first and then in web.config's.
	DetailedErrors bool
}

// StdoutLog says where the backend's output is written.
type StdoutLog struct {
	// Enabled (stdoutLogEnabled) writes the backend's stdout and stderr to
	// files. Default false.
	Enabled bool

	// Path (stdoutLogFile) is the absolute base name of the files; each
	// start writes Path_<UTC yyyyMMddHHmmss>_<pid>.log. Default
	// .\aspnetcore-stdout for <aspNetCore>, .\httpplatform-stdout for
	// <httpPlatform>, relative to the app folder.
	Path string

	// MaxBytes (handlerSettings roost.stdoutLogMaxBytes) is the size at
	// which a log file is rotated. Default 10 MB, range 1 KB-1 TB. Parse
	// always sets it; 0 (in a StdoutLog made by hand) means no rotation.
	MaxBytes int64

	// MaxFiles (handlerSettings roost.stdoutLogMaxFiles) is how many of
	// the app's stdout log files are kept; older ones are deleted. Default
	// 10, range 1-10000. Parse always sets it; 0 (in a StdoutLog made by
	// hand) means none is deleted.
	MaxFiles int

	// Timestamps (handlerSettings roost.stdoutLogTimestamps) starts every
	// line with the UTC time it arrived. Default false.
	Timestamps bool
}

// DebugLog is roost's own log written to a file, set by the handler
// settings debugFile and debugLevel that ANCM reads.
type DebugLog struct {
	// File is the absolute path of the file, or "" for none. debugFile
	// sets it; debugLevel naming FILE (or no sink at all) without debugFile
	// uses aspnetcore-debug.log in the app folder, as ANCM does.
	File string

	// Level is "error", "warning", "info" or "trace" (the most verbose level
	// debugLevel names), or "" when debugLevel is not set. Default "".
	Level string

	// Console and EventLog are the other sinks debugLevel may name.
	Console, EventLog bool
}

// Setting is one effective value, for display by roost check.
type Setting struct {
	Element string `json:"element"`        // aspNetCore, httpPlatform, environmentVariables, handlerSettings, or a request filtering element (requestLimits, requestFiltering, hiddenSegments, fileExtensions, denyUrlSequences, verbs, headerLimits)
	Name    string `json:"name"`           // attribute, variable or handler setting name; a request filtering entry's key
	Value   string `json:"value"`          // the effective value, written as web.config would write it; for a request filtering entry, what it does
	Line    int    `json:"line,omitempty"` // the web.config line that set it; 0 when it did not
	Source  string `json:"source"`         // "web.config", "default", "environment variable NAME", or "stdoutLogFile"
}

// Settings returns every effective setting in a fixed order: the element's
// attributes, then environment variables, handler settings, and request
// filtering (its limits and attributes, then each rule of its collections).
func (c *Config) Settings() []Setting {
	return append([]Setting(nil), c.settings...)
}

// Options tell Parse about the file it reads.
type Options struct {
	// File names the file in diagnostics. Default "web.config".
	File string

	// Dir is the app folder, against which relative paths are resolved.
	// It should be absolute.
	Dir string

	// Getenv looks up roost's environment for %VAR% expansion, the
	// ANCM_LAUNCHER_PATH and ANCM_LAUNCHER_ARGS overrides and the detailed
	// error switches. Nil means an empty environment. Load uses LookupEnv.
	Getenv func(name string) (string, bool)
}

// Parse reads a web.config from r. On failure the error is an *Error that
// lists every problem found.
func Parse(r io.Reader, opts Options) (*Config, error) {
	if opts.File == "" {
		opts.File = "web.config"
	}
	p := &parser{opts: opts, cfg: &Config{File: opts.File, Dir: opts.Dir}}
	root, err := readDocument(r, opts.File)
	if err != nil {
		d := err.(*Diagnostic)
		return nil, &Error{Errors: []*Diagnostic{d}}
	}
	p.readConfiguration(root)
	if len(p.errs) > 0 {
		return nil, &Error{Errors: p.errs, Warnings: p.warns}
	}
	p.cfg.Warnings = p.warns
	p.cfg.settings = p.settings
	return p.cfg, nil
}

// Load reads and parses the web.config at path. The app folder is the
// file's folder, and %VAR% references are expanded from the process
// environment (see LookupEnv).
func Load(path string) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	f, err := OpenShared(path) // a deploy may rename a new file over it meanwhile
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, Options{File: path, Dir: dir, Getenv: LookupEnv})
}

// LookupEnv looks name up in the process environment. Names are matched
// exactly first and then ignoring case, because web.config files are
// written for Windows, where %home% and %HOME% are the same variable.
func LookupEnv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	for _, kv := range os.Environ() {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" && strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// FindFile returns the web.config for app, which is either an app folder
// or the path of a web.config file (of any name). In a folder, web.config
// is found in any letter case, as on Windows.
func FindFile(app string) (string, error) {
	if app == "" {
		app = "."
	}
	fi, err := os.Stat(app)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return app, nil
	}
	path := filepath.Join(app, "web.config")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	entries, err := os.ReadDir(app)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), "web.config") && e.Type().IsRegular() {
			return filepath.Join(app, e.Name()), nil
		}
	}
	return "", fmt.Errorf("no web.config in %s", app)
}
