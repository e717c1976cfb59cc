package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// attrSpec describes one attribute or handler setting: its name, its
// default as web.config would write it, how to store a value and how to
// show the effective one. Defaults go through set like written values, so
// they obey the same rules.
type attrSpec struct {
	name   string
	def    string
	hasDef bool
	set    func(p *parser, v string, line int) string
	get    func(c *Config) string
}

func secondsAttr(name string, def, hi int64, field func(*Config) *time.Duration) attrSpec {
	return attrSpec{
		name: name, def: strconv.FormatInt(def, 10), hasDef: true,
		set: func(p *parser, v string, _ int) string {
			d, msg := parseSeconds(v, 0, hi)
			*field(p.cfg) = d
			return msg
		},
		get: func(c *Config) string { return strconv.FormatInt(int64(*field(c)/time.Second), 10) },
	}
}

func uintAttr(name string, def, lo, hi int64, field func(*Config) *int) attrSpec {
	return attrSpec{
		name: name, def: strconv.FormatInt(def, 10), hasDef: true,
		set: func(p *parser, v string, _ int) string {
			n, msg := parseUint(v, lo, hi)
			*field(p.cfg) = int(n)
			return msg
		},
		get: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

func boolAttr(name string, def bool, field func(*Config) *bool) attrSpec {
	return attrSpec{
		name: name, def: strconv.FormatBool(def), hasDef: true,
		set: func(p *parser, v string, _ int) string {
			b, msg := parseBool(v)
			*field(p.cfg) = b
			return msg
		},
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

func timeSpanAttr(name, def string, hi time.Duration, field func(*Config) *time.Duration) attrSpec {
	return attrSpec{
		name: name, def: def, hasDef: true,
		set: func(p *parser, v string, _ int) string {
			d, msg := parseTimeSpan(v, hi)
			*field(p.cfg) = d
			return msg
		},
		get: func(c *Config) string { return formatTimeSpan(*field(c)) },
	}
}

func sizeAttr(name string, def, lo, hi int64, field func(*Config) *int64) attrSpec {
	return attrSpec{
		name: name, def: formatSize(def), hasDef: true,
		set: func(p *parser, v string, _ int) string {
			n, msg := parseSize(v, lo, hi)
			*field(p.cfg) = n
			return msg
		},
		get: func(c *Config) string { return formatSize(*field(c)) },
	}
}

// ignoredAttr is accepted with a warning that says why it has no effect.
func ignoredAttr(name, why string) attrSpec {
	return attrSpec{
		name: name,
		set: func(p *parser, v string, line int) string {
			p.warn(line, p.elem, name, why)
			return ""
		},
	}
}

// processPathAttr is required: its empty default fails unless
// ANCM_LAUNCHER_PATH replaces it.
var processPathAttr = attrSpec{
	name: "processPath", hasDef: true,
	set: func(p *parser, v string, line int) string {
		if launcher, ok := lookupEnv(p.opts.Getenv, "ANCM_LAUNCHER_PATH"); ok && launcher != "" {
			v, p.source = launcher, "environment variable ANCM_LAUNCHER_PATH"
		}
		path, ok := p.path(v, line, "processPath")
		if !ok {
			return `required attribute is missing or empty; want the program to run, e.g. "dotnet", ".\MyApp.exe" or "python"`
		}
		p.cfg.Process.Path = path
		return ""
	},
	get: func(c *Config) string { return c.Process.Path },
}

var argumentsAttr = attrSpec{
	name: "arguments", hasDef: true,
	set: func(p *parser, v string, _ int) string {
		if launcher, ok := lookupEnv(p.opts.Getenv, "ANCM_LAUNCHER_ARGS"); ok && launcher != "" {
			v, p.source = launcher, "environment variable ANCM_LAUNCHER_ARGS"
		}
		p.cfg.Process.Arguments = expand(v, p.opts.Getenv, true)
		return ""
	},
	get: func(c *Config) string { return c.Process.Arguments.String() },
}

func stdoutLogFileAttr(def string) attrSpec {
	return attrSpec{
		name: "stdoutLogFile", def: def, hasDef: true,
		set: func(p *parser, v string, line int) string {
			path, ok := p.path(v, line, "stdoutLogFile")
			if !ok {
				return `is empty; want a base file name such as ".\logs\stdout"`
			}
			p.cfg.Stdout.Path = p.abs(path)
			return ""
		},
		get: func(c *Config) string { return c.Stdout.Path },
	}
}

var hostingModelAttr = attrSpec{
	name: "hostingModel",
	set: func(p *parser, v string, line int) string {
		switch m := strings.ToLower(strings.TrimSpace(v)); m {
		case "", "outofprocess":
			p.cfg.HostingModel = m
		case "inprocess":
			p.cfg.HostingModel = m
			p.warn(line, p.elem, "hostingModel", `"inprocess" is not supported; roost always runs the app out of process`)
		default:
			return fmt.Sprintf("unknown hosting model %q (inprocess or outofprocess)", quoted(v))
		}
		return ""
	},
	get: func(c *Config) string { return c.HostingModel },
}

// aspNetCoreAttrs are the attributes of <aspNetCore>, as in ANCM's schema.
var aspNetCoreAttrs = []attrSpec{
	processPathAttr,
	argumentsAttr,
	secondsAttr("startupTimeLimit", 120, 3600, func(c *Config) *time.Duration { return &c.Process.StartupTimeLimit }),
	secondsAttr("shutdownTimeLimit", 10, 600, func(c *Config) *time.Duration { return &c.Process.ShutdownTimeLimit }),
	uintAttr("rapidFailsPerMinute", 10, 0, 100, func(c *Config) *int { return &c.Process.RapidFailsPerMinute }),
	timeSpanAttr("requestTimeout", "00:02:00", 360*time.Hour, func(c *Config) *time.Duration { return &c.Proxy.RequestTimeout }),
	boolAttr("stdoutLogEnabled", false, func(c *Config) *bool { return &c.Stdout.Enabled }),
	stdoutLogFileAttr(`.\aspnetcore-stdout`),
	uintAttr("processesPerApplication", 1, 1, 100, func(c *Config) *int { return &c.Process.ProcessesPerApplication }),
	boolAttr("forwardWindowsAuthToken", true, func(c *Config) *bool { return &c.Proxy.ForwardWindowsAuthToken }),
	boolAttr("disableStartUpErrorPage", false, func(c *Config) *bool { return &c.Proxy.DisableStartUpErrorPage }),
	hostingModelAttr,
}

// httpPlatformAttrs are the attributes of <httpPlatform>, as in
// HttpPlatformHandler 1.2's configuration reference.
var httpPlatformAttrs = []attrSpec{
	processPathAttr,
	argumentsAttr,
	secondsAttr("startupTimeLimit", 10, 3600, func(c *Config) *time.Duration { return &c.Process.StartupTimeLimit }),
	uintAttr("startupRetryCount", 10, 0, 100, func(c *Config) *int { return &c.Process.StartupRetryCount }),
	uintAttr("rapidFailsPerMinute", 10, 0, 100, func(c *Config) *int { return &c.Process.RapidFailsPerMinute }),
	timeSpanAttr("requestTimeout", "00:02:00", 720*time.Hour, func(c *Config) *time.Duration { return &c.Proxy.RequestTimeout }),
	boolAttr("stdoutLogEnabled", false, func(c *Config) *bool { return &c.Stdout.Enabled }),
	stdoutLogFileAttr(`.\httpplatform-stdout`),
	uintAttr("processesPerApplication", 1, 1, 100, func(c *Config) *int { return &c.Process.ProcessesPerApplication }),
	boolAttr("forwardWindowsAuthToken", false, func(c *Config) *bool { return &c.Proxy.ForwardWindowsAuthToken }),
}

// requestLimitsAttrs are the attributes of
// <security><requestFiltering><requestLimits>.
var requestLimitsAttrs = []attrSpec{
	{
		name: "maxAllowedContentLength", def: "30000000", hasDef: true,
		set: func(p *parser, v string, _ int) string {
			n, msg := parseUint(v, 0, 1<<32-1)
			p.cfg.Proxy.MaxAllowedContentLength = n
			return msg
		},
		get: func(c *Config) string { return strconv.FormatInt(c.Proxy.MaxAllowedContentLength, 10) },
	},
	uint32Attr("maxUrl", 4096, func(c *Config) *int64 { return &c.filtering().MaxURL }),
	uint32Attr("maxQueryString", 2048, func(c *Config) *int64 { return &c.filtering().MaxQueryString }),
}

// handlerSettingSpecs are the <handlerSettings> names roost knows, matched
// ignoring case as ANCM does.
var handlerSettingSpecs = []attrSpec{
	boolAttr("disallowRotationOnConfigChange", false, func(c *Config) *bool { return &c.DisallowRotationOnConfigChange }),
	{
		name: "shutdownDelay", def: "0", hasDef: true,
		set: func(p *parser, v string, _ int) string {
			n, msg := parseUint(v, 0, 3600_000)
			if msg != "" {
				return fmt.Sprintf("%q is not a number of milliseconds (0-3600000)", quoted(v))
			}
			p.cfg.Process.ShutdownDelay = time.Duration(n) * time.Millisecond
			return ""
		},
		get: func(c *Config) string { return strconv.FormatInt(c.Process.ShutdownDelay.Milliseconds(), 10) },
	},
	boolAttr("forwardResponseConnectionHeader", false, func(c *Config) *bool { return &c.Proxy.ForwardResponseConnectionHeader }),
	boolAttr("enableOutOfProcessConsoleRedirection", true, func(c *Config) *bool { return &c.Process.ConsoleRedirection }),
	{
		name: "debugFile",
		set: func(p *parser, v string, line int) string {
			path, ok := p.path(v, line, "debugFile")
			if !ok {
				return "is empty; want a file path"
			}
			p.cfg.Debug.File = p.abs(path)
			return ""
		},
		get: func(c *Config) string { return c.Debug.File },
	},
	{
		name: "debugLevel",
		set:  setDebugLevel,
		get:  func(c *Config) string { return c.Debug.Level },
	},
	sizeAttr("roost.stdoutLogMaxBytes", 10<<20, 1<<10, 1<<40, func(c *Config) *int64 { return &c.Stdout.MaxBytes }),
	uintAttr("roost.stdoutLogMaxFiles", 10, 1, 10000, func(c *Config) *int { return &c.Stdout.MaxFiles }),
	boolAttr("roost.stdoutLogTimestamps", false, func(c *Config) *bool { return &c.Stdout.Timestamps }),
	ignoredAttr("handlerVersion", "roost has no request handler versions; ignored"),
	ignoredAttr("enableShadowCopy", "shadow copying is not supported; ignored"),
	// The name ANCM reads since .NET 6.
	ignoredAttr("experimentalEnableShadowCopy", "shadow copying is not supported; ignored"),
	ignoredAttr("shadowCopyDirectory", "shadow copying is not supported; ignored"),
	ignoredAttr("cleanShadowCopyDirectory", "shadow copying is not supported; ignored"),
	ignoredAttr("setCurrentDirectory", "applies to in-process hosting only; ignored"),
	ignoredAttr("callStartupHook", "applies to in-process hosting only; ignored"),
	ignoredAttr("stackSize", "applies to in-process hosting only; ignored"),
	ignoredAttr("suppressRecycleOnStartupTimeout", "applies to in-process hosting only; ignored"),
}

// debugLevels are ANCM's debugLevel levels, least verbose first.
var debugLevels = []string{"error", "warning", "info", "trace"}

// setDebugLevel reads ANCM's debugLevel: a comma-separated list of levels
// (ERROR, WARNING, INFO, TRACE) and sinks (CONSOLE, EVENTLOG, FILE).
func setDebugLevel(p *parser, v string, line int) string {
	d := &p.cfg.Debug
	rank := -1
	file := false
	for _, word := range strings.Split(v, ",") {
		word = strings.ToLower(strings.TrimSpace(word))
		switch word {
		case "":
		case "console":
			d.Console = true
		case "eventlog":
			d.EventLog = true
		case "file":
			file = true
		default:
			i := slices.Index(debugLevels, word)
			if i < 0 {
				return fmt.Sprintf("unknown level or sink %q (ERROR, WARNING, INFO, TRACE, CONSOLE, EVENTLOG, FILE)", quoted(word))
			}
			rank = max(rank, i)
		}
	}
	if rank < 0 {
		rank = slices.Index(debugLevels, "info")
	}
	d.Level = debugLevels[rank]
	if (file || !d.Console && !d.EventLog) && d.File == "" {
		p.debugFileDefault = true
	}
	return ""
}

func findSpec(specs []attrSpec, name string, fold bool) *attrSpec {
	for i := range specs {
		if specs[i].name == name || fold && strings.EqualFold(specs[i].name, name) {
			return &specs[i]
		}
	}
	return nil
}
