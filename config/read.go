package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parser walks the element tree of one web.config and fills a Config,
// collecting every error and warning on the way.
type parser struct {
	opts     Options
	cfg      *Config
	errs     []*Diagnostic
	warns    []*Diagnostic
	settings []Setting

	elem             string // the element whose attributes are being set, for messages
	source           string // set by attrSpec.set when a value came from outside web.config
	debugFileDefault bool   // debugLevel asked for a file but debugFile may not name one
}

func (p *parser) errorf(line int, elem, attr, format string, args ...any) {
	p.errs = append(p.errs, &Diagnostic{File: p.opts.File, Line: line, Element: elem, Attribute: attr, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warn(line int, elem, attr, msg string) {
	p.warns = append(p.warns, &Diagnostic{File: p.opts.File, Line: line, Element: elem, Attribute: attr, Message: msg})
}

// path reads a path-valued attribute attr: %VAR% expanded and written for
// this system, with a warning when it is a Windows drive path that cannot
// exist here. ok is false when it is empty.
func (p *parser) path(v string, line int, attr string) (path string, ok bool) {
	expanded := expand(v, p.opts.Getenv, false).String()
	path = nativePath(expanded)
	if strings.TrimSpace(path) == "" {
		return "", false
	}
	if isForeignPath(expanded) {
		p.warn(line, p.elem, attr, fmt.Sprintf("%q is a Windows drive path, which does not exist on this system; write a path for this system, or a relative one", quoted(expanded)))
	}
	return path, true
}

// abs resolves path against the app folder (see resolveIn).
func (p *parser) abs(path string) string { return resolveIn(p.opts.Dir, path) }

// found collects what the walk finds before it is applied in a fixed order.
type found struct {
	handlers  []*node // <aspNetCore> and <httpPlatform> elements
	filtering []*node // <requestFiltering> elements
}

func (p *parser) readConfiguration(root *node) {
	defer p.sortDiagnostics()
	if root.name != "configuration" {
		p.errorf(root.line, "", "", "root element is <%s>; want <configuration>", root.name)
		return
	}
	var f found
	for _, c := range root.children {
		switch c.name {
		case "system.webServer":
			p.readWebServer(c, &f)
		case "location":
			path, _ := c.lookup("path")
			switch strings.TrimSpace(path.value) {
			case "", ".":
				for _, cc := range c.children {
					if cc.name == "system.webServer" {
						p.readWebServer(cc, &f)
					}
				}
			default:
				if slices.ContainsFunc(c.children, func(n *node) bool { return n.name == "system.webServer" }) {
					p.warn(path.line, "location", "path", fmt.Sprintf("%q is not the app root; roost hosts the whole app with the root's settings, so this <location> is ignored", quoted(path.value)))
				}
			}
		}
	}
	switch len(f.handlers) {
	case 0:
		p.errorf(root.line, "", "", "no <aspNetCore> or <httpPlatform> element in <system.webServer>; want exactly one, to say what to run")
		return
	case 1:
	default:
		for _, h := range f.handlers[1:] {
			p.errorf(h.line, h.name, "", "<%s> at line %d already configures the app; want exactly one <aspNetCore> or <httpPlatform>", f.handlers[0].name, f.handlers[0].line)
		}
		return
	}
	p.readHandler(f.handlers[0])
	p.readRequestFiltering(f.filtering)
}

func (p *parser) readWebServer(n *node, f *found) {
	for _, c := range n.children {
		switch c.name {
		case "aspNetCore", "httpPlatform":
			f.handlers = append(f.handlers, c)
		case "security":
			p.readSecurity(c, f)
		case "handlers", "modules":
			// Needed by IIS to route requests to the module; nothing for roost.
		default:
			p.warn(c.line, "system.webServer", "", fmt.Sprintf("<%s> is an IIS setting roost does not apply; ignored", c.name))
		}
	}
}

func (p *parser) readSecurity(n *node, f *found) {
	for _, c := range n.children {
		if c.name != "requestFiltering" {
			p.warn(c.line, "security", "", fmt.Sprintf("<%s> is an IIS setting roost does not apply; ignored", c.name))
			continue
		}
		f.filtering = append(f.filtering, c)
	}
}

func (p *parser) readHandler(n *node) {
	c := p.cfg
	specs, other := aspNetCoreAttrs, httpPlatformAttrs
	c.Kind = AspNetCore
	c.Process.StartupRetryCount = -1
	if n.name == "httpPlatform" {
		specs, other = httpPlatformAttrs, aspNetCoreAttrs
		c.Kind = HTTPPlatform
		c.Process.ShutdownTimeLimit = defaultHTTPPlatformShutdown
	}
	c.Process.Kind, c.Proxy.Kind, c.Process.Dir = c.Kind, c.Kind, p.opts.Dir

	given := make(map[*attrSpec]attr)
	p.gatherAttrs(n.name, n.attrs, specs, given, func(a attr) bool {
		if findSpec(other, a.name, false) == nil {
			return false
		}
		p.warn(a.line, n.name, a.name, fmt.Sprintf("is an attribute of <%s>, not of <%s>; ignored", otherElement(n.name), n.name))
		return true
	})
	p.apply(n.name, n.line, specs, given)

	var env, settings []item
	for _, ch := range n.children {
		switch ch.name {
		case "environmentVariables":
			env = p.readCollection(ch, "environmentVariable", "name", "value")
		case "handlerSettings":
			settings = p.readCollection(ch, "handlerSetting", "name", "value")
		case "recycleOnFileChange":
			for _, it := range p.readCollection(ch, "file", "path") {
				c.RecycleOnFileChange = append(c.RecycleOnFileChange, it.vals[0].value)
			}
			if len(c.RecycleOnFileChange) > 0 {
				p.warn(ch.line, n.name, "recycleOnFileChange", "is not acted on (ANCM ignores it too); edit or touch web.config to recycle the app")
			}
		default:
			p.warn(ch.line, n.name, "", fmt.Sprintf("unknown element <%s>; ignored", ch.name))
		}
	}
	p.readEnv(env)
	p.readHandlerSettings(settings)
	c.Proxy.DetailedErrors = p.detailedErrors()
}

// defaultHTTPPlatformShutdown is the graceful-stop bound for <httpPlatform>,
// which has no shutdownTimeLimit attribute: ANCM's default.
const defaultHTTPPlatformShutdown = 10 * time.Second

// otherElement names the element that is not name.
func otherElement(name string) string {
	if name == "aspNetCore" {
		return "httpPlatform"
	}
	return "aspNetCore"
}

// apply sets every spec from the attribute given for it, or from its
// default, and records the effective settings in spec order.
// gatherAttrs puts in given the attributes of elem that specs knows (one
// written again replaces the earlier one) and warns about the others:
// elsewhere, when it reports true, has said what they are; otherwise
// they are unknown (with a hint when only their letter case is wrong).
// elsewhere may be nil.
func (p *parser) gatherAttrs(elem string, attrs []attr, specs []attrSpec, given map[*attrSpec]attr, elsewhere func(attr) bool) {
	for _, a := range attrs {
		if a.ns {
			continue
		}
		if s := findSpec(specs, a.name, false); s != nil {
			given[s] = a
			continue
		}
		switch s := findSpec(specs, a.name, true); {
		case s != nil:
			p.warn(a.line, elem, a.name, fmt.Sprintf("unknown attribute (names are case-sensitive: did you mean %q?); ignored", s.name))
		case elsewhere != nil && elsewhere(a):
		default:
			p.warn(a.line, elem, a.name, "unknown attribute; ignored")
		}
	}
}

func (p *parser) apply(elem string, elemLine int, specs []attrSpec, given map[*attrSpec]attr) {
	p.elem = elem
	for i := range specs {
		s := &specs[i]
		a, ok := given[s]
		if !ok && !s.hasDef {
			continue
		}
		v, line, source := s.def, elemLine, "default"
		if ok {
			v, line, source = a.value, a.line, "web.config"
		}
		p.source = ""
		if msg := s.set(p, v, line); msg != "" {
			p.errorf(line, elem, s.name, "%s", msg)
			continue
		}
		if p.source != "" {
			source = p.source
		}
		if s.get == nil {
			continue
		}
		st := Setting{Element: elem, Name: s.name, Value: s.get(p.cfg), Source: source}
		if ok {
			st.Line = a.line
		}
		p.settings = append(p.settings, st)
	}
}

// item is one entry of an IIS collection, with its attributes in the order
// of the keys asked for.
type item struct {
	line int
	vals []attr
}

// readCollection reads an IIS collection element such as
// <environmentVariables>: entries named add, and <clear/>, which drops the
// entries before it. Every key is a required attribute.
func (p *parser) readCollection(n *node, add string, keys ...string) []item {
	var items []item
	for _, c := range n.children {
		switch c.name {
		case add:
			it := item{line: c.line}
			ok := true
			for _, k := range keys {
				a, found := c.lookup(k)
				if !found {
					p.errorf(c.line, add, k, "required attribute is missing")
					ok = false
				}
				it.vals = append(it.vals, a)
			}
			for _, a := range c.attrs {
				if !a.ns && !slices.Contains(keys, a.name) {
					p.warn(a.line, add, a.name, "unknown attribute; ignored")
				}
			}
			if ok {
				items = append(items, it)
			}
		case "clear":
			items = nil
		case "add", "remove":
			p.errorf(c.line, n.name, "", "<%s> is not valid here; write <%s %s/> or <clear/>", c.name, add, attrList(keys))
		default:
			p.warn(c.line, n.name, "", fmt.Sprintf("unknown element <%s>; ignored", c.name))
		}
	}
	return items
}

func attrList(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + `="…"`
	}
	return strings.Join(parts, " ")
}

// readEnv fills Process.Env, Process.Port and the warnings about
// variables roost sets itself.
func (p *parser) readEnv(items []item) {
	p.addEnv(items)
	p.preferRoostEnv()
	p.checkRoostEnv()
	for _, v := range p.cfg.Process.Env {
		p.settings = append(p.settings, Setting{Element: "environmentVariables", Name: v.Name, Value: v.Value.String(), Line: v.Line, Source: "web.config"})
	}
}

// addEnv adds the <environmentVariable> items to Process.Env; a name
// given again (ignoring case) replaces the earlier value.
func (p *parser) addEnv(items []item) {
	c := p.cfg
	index := make(map[string]int) // upper-case name -> position in c.Process.Env
	for _, it := range items {
		name, value := it.vals[0], it.vals[1]
		switch {
		case name.value == "":
			p.errorf(name.line, "environmentVariable", "name", "is empty; want a variable name")
			continue
		case strings.ContainsAny(name.value, "=\x00"):
			p.errorf(name.line, "environmentVariable", "name", "%q contains '='; want a variable name", quoted(name.value))
			continue
		}
		v := EnvVar{Name: name.value, Value: expand(value.value, p.opts.Getenv, true), Line: it.line}
		key := strings.ToUpper(v.Name)
		if i, dup := index[key]; dup {
			p.warn(it.line, "environmentVariables", v.Name, fmt.Sprintf("is set again; this value replaces the one at line %d", c.Process.Env[i].Line))
			c.Process.Env[i] = v
			continue
		}
		index[key] = len(c.Process.Env)
		c.Process.Env = append(c.Process.Env, v)
	}
}

// preferRoostEnv drops from Process.Env, when roost's environment sets
// ANCM_PREFER_ENVIRONMENT_VARIABLES, the variables that environment has.
func (p *parser) preferRoostEnv() {
	if prefer, _ := lookupEnv(p.opts.Getenv, "ANCM_PREFER_ENVIRONMENT_VARIABLES"); !isTrue(prefer) {
		return
	}
	p.cfg.Process.Env = slices.DeleteFunc(p.cfg.Process.Env, func(v EnvVar) bool {
		if _, ok := lookupEnv(p.opts.Getenv, v.Name); ok {
			p.warn(v.Line, "environmentVariables", v.Name, "ANCM_PREFER_ENVIRONMENT_VARIABLES is set and roost's environment has this variable; the web.config value is not used")
			return true
		}
		return false
	})
}

// checkRoostEnv reads the variables roost sets itself: the port variable
// gives Process.Port, the others are warned about, and so is a PORT fixed
// to a port roost does not wait on.
func (p *parser) checkRoostEnv() {
	c := p.cfg
	portVar := c.Kind.PortVariable()
	lo, hi := int64(1), int64(65535)
	if c.Kind == AspNetCore {
		lo, hi = 1025, 48000 // ANCM's range for a user-set port
	}
	for _, v := range c.Process.Env {
		upper := strings.ToUpper(v.Name)
		switch {
		case upper == portVar:
			s := strings.TrimSpace(v.Value.String())
			if v.Value.HasPort() {
				p.errorf(v.Line, "environmentVariables", v.Name, "%q refers to the port it sets; want a port number (%d-%d), or empty to let roost choose", quoted(s), lo, hi)
				continue
			}
			if s == "" {
				continue
			}
			n, msg := parseUint(s, lo, hi)
			if msg != "" {
				p.errorf(v.Line, "environmentVariables", v.Name, "%q is not a port (%d-%d, or empty to let roost choose)", quoted(s), lo, hi)
				continue
			}
			c.Process.Port = int(n)
			if c.Process.ProcessesPerApplication > 1 {
				p.errorf(v.Line, "environmentVariables", v.Name, "fixes one port, but processesPerApplication is %d and each process needs its own; leave it empty to let roost choose", c.Process.ProcessesPerApplication)
			}
		case c.Kind == AspNetCore && upper == "ASPNETCORE_APPL_PATH":
			p.warn(v.Line, "environmentVariables", v.Name, `roost sets this variable itself (to "/"); the web.config value is replaced`)
		case c.Kind == AspNetCore && upper == "ASPNETCORE_IIS_HTTPAUTH":
			p.warn(v.Line, "environmentVariables", v.Name, `roost sets this variable itself (to "anonymous;"); the web.config value is replaced`)
		}
	}
	for _, v := range c.Process.Env {
		if strings.ToUpper(v.Name) != "PORT" || portVar == "PORT" {
			continue
		}
		s := strings.TrimSpace(v.Value.String())
		if s != "" && !v.Value.HasPort() && s != strconv.Itoa(c.Process.Port) {
			p.warn(v.Line, "environmentVariables", v.Name, fmt.Sprintf("is fixed to %q, but roost waits for the app on the port in %s; an app that reads PORT will not be found (write %%%s%% instead)", quoted(s), portVar, portVar))
		}
	}
}

func (p *parser) readHandlerSettings(items []item) {
	given := make(map[*attrSpec]attr)
	for _, it := range items {
		name, value := it.vals[0], it.vals[1]
		s := findSpec(handlerSettingSpecs, strings.TrimSpace(name.value), true)
		if s == nil {
			if strings.HasPrefix(strings.ToLower(name.value), "roost.") {
				p.warn(name.line, "handlerSettings", name.value, "unknown roost setting (roost.stdoutLogMaxBytes, roost.stdoutLogMaxFiles, roost.stdoutLogTimestamps); ignored")
			} else {
				p.warn(name.line, "handlerSettings", name.value, "unknown handler setting; ignored")
			}
			continue
		}
		if prev, dup := given[s]; dup {
			p.warn(it.line, "handlerSettings", s.name, fmt.Sprintf("is set again; this value replaces the one at line %d", prev.line))
		}
		given[s] = attr{name: s.name, value: value.value, line: it.line}
	}
	p.apply("handlerSettings", 0, handlerSettingSpecs, given)
	if p.debugFileDefault && p.cfg.Debug.File == "" {
		p.cfg.Debug.File = p.abs("aspnetcore-debug.log")
	}
}

// detailedErrors reports whether error pages may show backend output.
func (p *parser) detailedErrors() bool {
	get := func(name string) (string, bool) {
		if v, ok := lookupEnv(p.opts.Getenv, name); ok {
			return v, true
		}
		for _, v := range p.cfg.Process.Env {
			if strings.EqualFold(v.Name, name) {
				return v.Value.String(), true
			}
		}
		return "", false
	}
	if v, ok := get("ASPNETCORE_DETAILEDERRORS"); ok && isTrue(v) {
		return true
	}
	env, ok := get("ASPNETCORE_ENVIRONMENT")
	if !ok {
		env, _ = get("DOTNET_ENVIRONMENT")
	}
	return strings.EqualFold(strings.TrimSpace(env), "Development")
}

func isTrue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "1" || strings.EqualFold(s, "true")
}

// sortDiagnostics puts errors and warnings in file order.
func (p *parser) sortDiagnostics() {
	byLine := func(a, b *Diagnostic) int { return a.Line - b.Line }
	slices.SortStableFunc(p.errs, byLine)
	slices.SortStableFunc(p.warns, byLine)
}
