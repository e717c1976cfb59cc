package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// realDir is the app folder the real-world samples are parsed for.
const realDir = "/srv/app"

// realPort is the port the samples' placeholders are filled with.
const realPort = 8080

// realEnvVar is an <environmentVariable> as Parse should return it.
type realEnvVar struct {
	name   string
	value  string // Value.String()
	filled string // Value.Fill(realPort)
}

// realWarning is a warning Parse should report. message is a substring of
// Diagnostic.Message; the other fields must match exactly.
type realWarning struct {
	line      int
	element   string
	attribute string
	message   string
}

func (w realWarning) matches(d *Diagnostic) bool {
	return d.Line == w.line && d.Element == w.element && d.Attribute == w.attribute && strings.Contains(d.Message, w.message)
}

func realFormatWarnings(ds []*Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\n\t%d %s %s: %s", d.Line, d.Element, d.Attribute, d.Message)
	}
	return b.String()
}

// TestRealWorldFiles parses web.config files written the way dotnet
// publish, Visual Studio, Microsoft's documentation and Azure App Service
// write them (testdata/real), and checks every effective value.
func TestRealWorldFiles(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		getenv map[string]string // roost's environment, for %VAR% expansion

		kind         Kind
		hostingModel string
		path         string   // Process.Path (checked on systems other than Windows)
		args         []string // Process.Args(realPort) (checked on systems other than Windows)
		commandLine  string   // Process.CommandLine(realPort)
		env          []realEnvVar
		port         int // Process.Port

		startupTimeLimit  time.Duration
		shutdownTimeLimit time.Duration
		startupRetryCount int
		rapidFails        int
		processes         int
		requestTimeout    time.Duration
		maxContentLength  int64
		forwardToken      bool
		detailedErrors    bool

		stdoutEnabled bool
		stdoutPath    string // checked on systems other than Windows
		debugFile     string // checked on systems other than Windows
		debugLevel    string

		warnings []realWarning
		// foreign are the warnings about Windows drive paths, given on
		// systems other than Windows after the others.
		foreign []realWarning
	}{
		{
			// UTF-8 BOM, CRLF line ends and the ProjectGuid comment after
			// </configuration>, as the SDK writes them.
			name:              "dotnet publish out of process",
			file:              "dotnet-publish-outofprocess.config",
			kind:              AspNetCore,
			hostingModel:      "outofprocess",
			path:              "dotnet",
			args:              []string{"./MyApp.dll"},
			commandLine:       `.\MyApp.dll`,
			startupTimeLimit:  120 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: -1,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			forwardToken:      true,
			stdoutPath:        "/srv/app/logs/stdout",
		},
		{
			// Self-contained publish: the app's own executable, no arguments.
			name:              "dotnet publish in process self-contained",
			file:              "dotnet-publish-inprocess.config",
			kind:              AspNetCore,
			hostingModel:      "inprocess",
			path:              "./MyApp.exe",
			args:              []string{},
			commandLine:       "",
			startupTimeLimit:  120 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: -1,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			forwardToken:      true,
			stdoutPath:        "/srv/app/logs/stdout",
			warnings: []realWarning{
				{8, "aspNetCore", "hostingModel", `"inprocess" is not supported`},
			},
		},
		{
			// The ASP.NET Core Module configuration sample, with one
			// attribute a line, environment variables and handler settings.
			name:         "Microsoft docs ANCM sample",
			file:         "ms-docs-ancm-sample.config",
			getenv:       map[string]string{"home": "/home"},
			kind:         AspNetCore,
			hostingModel: "inprocess",
			path:         "dotnet",
			args:         []string{"./MyApp.dll"},
			commandLine:  `.\MyApp.dll`,
			env: []realEnvVar{
				{"ASPNETCORE_ENVIRONMENT", "Development", "Development"},
				{"CONFIG_DIR", `f:\application_config`, `f:\application_config`},
			},
			startupTimeLimit:  120 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: -1,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			forwardToken:      true,
			detailedErrors:    true, // ASPNETCORE_ENVIRONMENT=Development
			stdoutPath:        "/home/LogFiles/stdout",
			debugFile:         "/srv/app/logs/aspnetcore-debug.log",
			debugLevel:        "trace",
			warnings: []realWarning{
				{12, "aspNetCore", "hostingModel", `"inprocess" is not supported`},
			},
		},
		{
			// HttpPlatformHandler configuration reference style: Windows
			// absolute paths, which are relative on other systems.
			name:        "Microsoft docs HttpPlatformHandler sample",
			file:        "ms-docs-httpplatform-sample.config",
			kind:        HTTPPlatform,
			path:        "c:/Python27/python.exe",
			args:        []string{`c:\home\site\wwwroot\hello.py`, "--port", "8080"},
			commandLine: `c:\home\site\wwwroot\hello.py --port 8080`,
			env: []realEnvVar{
				{"foo", "bar", "bar"},
				{"PYTHONPATH", `c:\home\site\wwwroot\lib`, `c:\home\site\wwwroot\lib`},
			},
			startupTimeLimit:  20 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: 5,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    4 * time.Minute,
			maxContentLength:  30000000,
			stdoutEnabled:     true,
			stdoutPath:        "/srv/app/python.log",
			foreign: []realWarning{
				{7, "httpPlatform", "processPath", `"c:\Python27\python.exe" is a Windows drive path`},
			},
		},
		{
			// Azure App Service (Windows) Python site. D:\ paths are not
			// absolute on other systems: processPath only has its
			// separators turned, stdoutLogFile lands under the app folder,
			// and the script argument is passed as written.
			name:        "Azure App Service Python",
			file:        "azure-python.config",
			kind:        HTTPPlatform,
			path:        "D:/home/Python364x64/python.exe",
			args:        []string{`D:\home\site\wwwroot\runserver.py`, "--port", "8080"},
			commandLine: `D:\home\site\wwwroot\runserver.py --port 8080`,
			env: []realEnvVar{
				{"SERVER_PORT", "%HTTP_PLATFORM_PORT%", "8080"},
			},
			startupTimeLimit:  60 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: 10,
			rapidFails:        10,
			processes:         16,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			stdoutEnabled:     true,
			stdoutPath:        "/srv/app/D:/home/LogFiles/python.log",
			foreign: []realWarning{
				{7, "httpPlatform", "processPath", `"D:\home\Python364x64\python.exe" is a Windows drive path`},
				{10, "httpPlatform", "stdoutLogFile", `"D:\home\LogFiles\python.log" is a Windows drive path`},
			},
		},
		{
			name:        "Azure App Service Python, relative paths",
			file:        "azure-python-relative.config",
			kind:        HTTPPlatform,
			path:        "python",
			args:        []string{"runserver.py", "--port", "8080"},
			commandLine: "runserver.py --port 8080",
			env: []realEnvVar{
				{"SERVER_PORT", "%HTTP_PLATFORM_PORT%", "8080"},
			},
			startupTimeLimit:  60 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: 10,
			rapidFails:        10,
			processes:         16,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			stdoutEnabled:     true,
			stdoutPath:        "/srv/app/logs/python.log",
		},
		{
			// Node behind HttpPlatformHandler, with URL Rewrite rules and
			// static content settings that only IIS applies.
			name:        "Node with rewrite and staticContent",
			file:        "node.config",
			kind:        HTTPPlatform,
			path:        "node",
			args:        []string{"./server.js"},
			commandLine: `.\server.js`,
			env: []realEnvVar{
				{"PORT", "%HTTP_PLATFORM_PORT%", "8080"},
				{"NODE_ENV", "production", "production"},
			},
			startupTimeLimit:  20 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: 10,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			stdoutEnabled:     true,
			stdoutPath:        "/srv/app/logs/node.log",
			warnings: []realWarning{
				{13, "system.webServer", "", "<rewrite> is an IIS setting roost does not apply; ignored"},
				{20, "system.webServer", "", "<staticContent> is an IIS setting roost does not apply; ignored"},
			},
		},
		{
			// %ProgramFiles% is not set: as with ExpandEnvironmentStrings,
			// the reference stays as written.
			name:        "Node under ProgramFiles, variable not set",
			file:        "node-programfiles.config",
			kind:        HTTPPlatform,
			path:        "%ProgramFiles%/nodejs/node.exe",
			args:        []string{"./server.js"},
			commandLine: `.\server.js`,
			env: []realEnvVar{
				{"PORT", "%HTTP_PLATFORM_PORT%", "8080"},
			},
			startupTimeLimit:  10 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: 10,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			stdoutPath:        "/srv/app/httpplatform-stdout",
		},
		{
			// Azure Spring Boot style. The jar argument is quoted with
			// &quot; and built from %HOME%; only .\ and ..\ words have
			// their backslashes turned, so the rest of the jar path keeps
			// the backslashes it was written with.
			name:        "Java Spring Boot",
			file:        "java.config",
			getenv:      map[string]string{"JAVA_HOME": "/usr/lib/jvm/java-17", "HOME": "/home/app"},
			kind:        HTTPPlatform,
			path:        "/usr/lib/jvm/java-17/bin/java.exe",
			args:        []string{"-Djava.net.preferIPv4Stack=true", "-Dserver.port=8080", "-jar", "/home/app/site/wwwroot/app.jar"},
			commandLine: `-Djava.net.preferIPv4Stack=true -Dserver.port=8080 -jar "/home/app\site\wwwroot\app.jar"`,

			startupTimeLimit:  10 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: 10,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			stdoutPath:        "/srv/app/httpplatform-stdout",
		},
		{
			name:              "request filtering limits",
			file:              "with-security.config",
			kind:              AspNetCore,
			hostingModel:      "outofprocess",
			path:              "dotnet",
			args:              []string{"./MyApp.dll"},
			commandLine:       `.\MyApp.dll`,
			startupTimeLimit:  300 * time.Second,
			shutdownTimeLimit: 30 * time.Second,
			startupRetryCount: -1,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    20 * time.Minute,
			maxContentLength:  104857600,
			forwardToken:      true,
			stdoutEnabled:     true,
			stdoutPath:        "/srv/app/logs/stdout",
		},
		{
			// .NET 2.0 namespace on <configuration>, ASP.NET sections
			// (not read by roost, silently) and a sub-path <location> whose
			// request limit must not be applied.
			name:              "old namespace with location path=admin",
			file:              "old-namespace.config",
			kind:              AspNetCore,
			path:              "dotnet",
			args:              []string{"./MyApp.dll"},
			commandLine:       `.\MyApp.dll`,
			startupTimeLimit:  120 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: -1,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			forwardToken:      true,
			stdoutPath:        "/srv/app/logs/stdout",
			warnings: []realWarning{
				{16, "location", "path", `"admin" is not the app root`},
			},
		},
		{
			// ASP.NET Core 1.x/2.0 project template, launched by Visual
			// Studio, which sets LAUNCHER_PATH and LAUNCHER_ARGS.
			name: "Visual Studio launcher variables",
			file: "vs-launcher.config",
			getenv: map[string]string{
				"LAUNCHER_PATH": "dotnet",
				"LAUNCHER_ARGS": `exec "C:\src\MyApp\bin\Debug\netcoreapp2.0\MyApp.dll"`,
			},
			kind:              AspNetCore,
			path:              "dotnet",
			args:              []string{"exec", `C:\src\MyApp\bin\Debug\netcoreapp2.0\MyApp.dll`},
			commandLine:       `exec "C:\src\MyApp\bin\Debug\netcoreapp2.0\MyApp.dll"`,
			startupTimeLimit:  120 * time.Second,
			shutdownTimeLimit: 10 * time.Second,
			startupRetryCount: -1,
			rapidFails:        10,
			processes:         1,
			requestTimeout:    2 * time.Minute,
			maxContentLength:  30000000,
			forwardToken:      false,
			stdoutPath:        "/srv/app/logs/stdout",
		},
	}
	checkPaths := runtime.GOOS != "windows" // the expected paths are written for Unix-like systems
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "real", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			getenv := func(name string) (string, bool) {
				v, ok := tt.getenv[name]
				return v, ok
			}
			c, err := Parse(strings.NewReader(string(data)), Options{File: tt.file, Dir: realDir, Getenv: getenv})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}

			if c.File != tt.file {
				t.Errorf("File = %q, want %q", c.File, tt.file)
			}
			if c.Dir != realDir || c.Process.Dir != realDir {
				t.Errorf("Dir = %q, Process.Dir = %q, want %q", c.Dir, c.Process.Dir, realDir)
			}
			if c.Kind != tt.kind || c.Process.Kind != tt.kind || c.Proxy.Kind != tt.kind {
				t.Errorf("Kind = %v, Process.Kind = %v, Proxy.Kind = %v, want %v", c.Kind, c.Process.Kind, c.Proxy.Kind, tt.kind)
			}
			if c.HostingModel != tt.hostingModel {
				t.Errorf("HostingModel = %q, want %q", c.HostingModel, tt.hostingModel)
			}

			p := &c.Process
			if checkPaths {
				if p.Path != tt.path {
					t.Errorf("Process.Path = %q, want %q", p.Path, tt.path)
				}
				if got := p.Args(realPort); !slices.Equal(got, tt.args) {
					t.Errorf("Process.Args(%d) = %q, want %q", realPort, got, tt.args)
				}
			}
			if got := p.CommandLine(realPort); got != tt.commandLine {
				t.Errorf("Process.CommandLine(%d) = %q, want %q", realPort, got, tt.commandLine)
			}
			if len(p.Env) != len(tt.env) {
				t.Errorf("Process.Env has %d variables %v, want %d", len(p.Env), p.Env, len(tt.env))
			}
			for i := range min(len(p.Env), len(tt.env)) {
				got, want := p.Env[i], tt.env[i]
				if got.Name != want.name {
					t.Errorf("Process.Env[%d].Name = %q, want %q", i, got.Name, want.name)
				}
				if s := got.Value.String(); s != want.value {
					t.Errorf("Process.Env[%d] (%s) Value.String() = %q, want %q", i, got.Name, s, want.value)
				}
				if s := got.Value.Fill(realPort); s != want.filled {
					t.Errorf("Process.Env[%d] (%s) Value.Fill(%d) = %q, want %q", i, got.Name, realPort, s, want.filled)
				}
			}
			if p.Port != tt.port {
				t.Errorf("Process.Port = %d, want %d", p.Port, tt.port)
			}
			if p.StartupTimeLimit != tt.startupTimeLimit {
				t.Errorf("Process.StartupTimeLimit = %v, want %v", p.StartupTimeLimit, tt.startupTimeLimit)
			}
			if p.ShutdownTimeLimit != tt.shutdownTimeLimit {
				t.Errorf("Process.ShutdownTimeLimit = %v, want %v", p.ShutdownTimeLimit, tt.shutdownTimeLimit)
			}
			if p.ShutdownDelay != 0 {
				t.Errorf("Process.ShutdownDelay = %v, want 0", p.ShutdownDelay)
			}
			if p.StartupRetryCount != tt.startupRetryCount {
				t.Errorf("Process.StartupRetryCount = %d, want %d", p.StartupRetryCount, tt.startupRetryCount)
			}
			if p.RapidFailsPerMinute != tt.rapidFails {
				t.Errorf("Process.RapidFailsPerMinute = %d, want %d", p.RapidFailsPerMinute, tt.rapidFails)
			}
			if p.ProcessesPerApplication != tt.processes {
				t.Errorf("Process.ProcessesPerApplication = %d, want %d", p.ProcessesPerApplication, tt.processes)
			}
			if !p.ConsoleRedirection {
				t.Errorf("Process.ConsoleRedirection = false, want true")
			}

			x := &c.Proxy
			if x.RequestTimeout != tt.requestTimeout {
				t.Errorf("Proxy.RequestTimeout = %v, want %v", x.RequestTimeout, tt.requestTimeout)
			}
			if x.MaxAllowedContentLength != tt.maxContentLength {
				t.Errorf("Proxy.MaxAllowedContentLength = %d, want %d", x.MaxAllowedContentLength, tt.maxContentLength)
			}
			if x.ForwardWindowsAuthToken != tt.forwardToken {
				t.Errorf("Proxy.ForwardWindowsAuthToken = %v, want %v", x.ForwardWindowsAuthToken, tt.forwardToken)
			}
			if x.DetailedErrors != tt.detailedErrors {
				t.Errorf("Proxy.DetailedErrors = %v, want %v", x.DetailedErrors, tt.detailedErrors)
			}
			if x.DisableStartUpErrorPage || x.ForwardResponseConnectionHeader {
				t.Errorf("Proxy.DisableStartUpErrorPage = %v, Proxy.ForwardResponseConnectionHeader = %v, want false, false", x.DisableStartUpErrorPage, x.ForwardResponseConnectionHeader)
			}

			s := &c.Stdout
			if s.Enabled != tt.stdoutEnabled {
				t.Errorf("Stdout.Enabled = %v, want %v", s.Enabled, tt.stdoutEnabled)
			}
			if checkPaths && s.Path != tt.stdoutPath {
				t.Errorf("Stdout.Path = %q, want %q", s.Path, tt.stdoutPath)
			}
			if s.MaxBytes != 10<<20 || s.MaxFiles != 10 || s.Timestamps {
				t.Errorf("Stdout MaxBytes, MaxFiles, Timestamps = %d, %d, %v, want %d, 10, false", s.MaxBytes, s.MaxFiles, s.Timestamps, 10<<20)
			}

			if checkPaths && c.Debug.File != tt.debugFile {
				t.Errorf("Debug.File = %q, want %q", c.Debug.File, tt.debugFile)
			}
			if c.Debug.Level != tt.debugLevel {
				t.Errorf("Debug.Level = %q, want %q", c.Debug.Level, tt.debugLevel)
			}
			if c.Debug.Console || c.Debug.EventLog {
				t.Errorf("Debug.Console, Debug.EventLog = %v, %v, want false, false", c.Debug.Console, c.Debug.EventLog)
			}
			if c.DisallowRotationOnConfigChange {
				t.Errorf("DisallowRotationOnConfigChange = true, want false")
			}
			if len(c.RecycleOnFileChange) != 0 {
				t.Errorf("RecycleOnFileChange = %q, want none", c.RecycleOnFileChange)
			}

			wantWarnings := tt.warnings
			if runtime.GOOS != "windows" {
				wantWarnings = append(slices.Clip(wantWarnings), tt.foreign...)
				slices.SortStableFunc(wantWarnings, func(a, b realWarning) int { return a.line - b.line })
			}
			ok := len(c.Warnings) == len(wantWarnings)
			for i := range min(len(c.Warnings), len(wantWarnings)) {
				ok = ok && wantWarnings[i].matches(c.Warnings[i])
			}
			if !ok {
				var want strings.Builder
				for _, w := range wantWarnings {
					fmt.Fprintf(&want, "\n\t%d %s %s: ...%s...", w.line, w.element, w.attribute, w.message)
				}
				t.Errorf("Warnings:%s\nwant:%s", realFormatWarnings(c.Warnings), want.String())
			}
		})
	}
}
