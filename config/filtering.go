package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// RequestFiltering is IIS's request filtering
// (<system.webServer><security><requestFiltering>): the rules a request
// must pass before it reaches the backend. IIS's own defaults apply with
// no configuration, and web.config changes them as it does under IIS.
// What each rule matches is the forwarder's business; this is the rules
// as written, each with the line it came from.
type RequestFiltering struct {
	// AllowDoubleEscaping (requestFiltering allowDoubleEscaping) lets
	// through a path that holds '+' or changes when it is decoded a second
	// time. Default false.
	AllowDoubleEscaping bool

	// AllowHighBitCharacters (requestFiltering allowHighBitCharacters)
	// lets through a path with non-ASCII characters. Default true.
	AllowHighBitCharacters bool

	// MaxURL (requestLimits maxUrl, 0-4294967295) is the longest path
	// accepted, in bytes as sent (without the query string). Default 4096.
	MaxURL int64

	// MaxQueryString (requestLimits maxQueryString, 0-4294967295) is the
	// longest query string accepted, in bytes as sent. Default 2048.
	MaxQueryString int64

	// HiddenSegments (<hiddenSegments>) are folder or file names that no
	// path may name: Value is the segment. IIS's defaults are web.config,
	// bin and the ASP.NET App_* folders.
	HiddenSegments []FilterEntry

	// FileExtensions (<fileExtensions>) allow or deny a path by the
	// extension of its last segment: Value is the extension with its dot
	// ("." stands for none), Allowed says which. IIS's defaults deny the
	// extensions of ASP.NET's source and data files.
	FileExtensions []FilterEntry

	// AllowUnlistedFileExtensions (fileExtensions allowUnlisted) lets
	// through extensions FileExtensions does not list. Default true; with
	// false, only those listed as allowed pass.
	AllowUnlistedFileExtensions bool

	// DenyURLSequences (<denyUrlSequences>) are strings no path may hold:
	// Value is the sequence. Default none.
	DenyURLSequences []FilterEntry

	// Verbs (<verbs>) allow or deny a request by its method: Value is the
	// verb, Allowed says which. Default none.
	Verbs []FilterEntry

	// AllowUnlistedVerbs (verbs allowUnlisted) lets through methods Verbs
	// does not list. Default true; with false, only those listed as
	// allowed pass.
	AllowUnlistedVerbs bool

	// HeaderLimits (<requestLimits><headerLimits>) bound request headers:
	// Value is the header name, SizeLimit the longest value accepted, in
	// bytes. Default none.
	HeaderLimits []FilterEntry

	// StdoutLogs is where the app's stdout log files are, when
	// stdoutLogEnabled is true and they are inside the app folder: roost
	// hides that part of the URL space too. Nil otherwise.
	StdoutLogs *HiddenLogs
}

// FilterEntry is one entry of a request filtering collection.
type FilterEntry struct {
	Value     string // the segment, extension, sequence, verb or header name, as written
	Allowed   bool   // fileExtensions and verbs: the entry allows rather than denies
	SizeLimit int64  // headerLimits: the longest value accepted, in bytes
	Line      int    // the web.config line of its <add>; 0 for IIS's defaults
}

// Source says where the entry came from, for logs and error pages:
// "web.config line N", or "IIS default".
func (e FilterEntry) Source() string {
	if e.Line > 0 {
		return "web.config line " + strconv.Itoa(e.Line)
	}
	return "IIS default"
}

// HiddenLogs is the part of the URL space that maps to the app's stdout
// log files, the app folder being the URL root.
type HiddenLogs struct {
	// Folder is the log folder relative to the app folder, one segment a
	// name ("logs" for .\logs\stdout). Empty when the files are in the app
	// folder itself.
	Folder []string

	// Prefix, when Folder is empty, is the files' name prefix:
	// "<base name>_" (aspnetcore-stdout_ for the default).
	Prefix string

	// Line is the web.config line of stdoutLogFile; 0 for its default.
	Line int
}

// Path is the hidden part of the URL space as a pattern: "/logs/" or
// "/aspnetcore-stdout_*".
func (h *HiddenLogs) Path() string {
	if len(h.Folder) > 0 {
		return "/" + strings.Join(h.Folder, "/") + "/"
	}
	return "/" + h.Prefix + "*"
}

// filtering returns the Config's request filtering rules, which Parse
// always sets; the specs' setters may run on a bare Config in tests.
func (c *Config) filtering() *RequestFiltering {
	if c.Proxy.Filtering == nil {
		c.Proxy.Filtering = &RequestFiltering{}
	}
	return c.Proxy.Filtering
}

// defaultHiddenSegments are IIS's <hiddenSegments> in applicationHost.config.
var defaultHiddenSegments = []string{
	"web.config", "bin", "App_code", "App_GlobalResources", "App_LocalResources",
	"App_WebReferences", "App_Data", "App_Browsers",
}

// defaultDeniedExtensions are the extensions IIS's applicationHost.config
// denies in <fileExtensions>, in its order.
var defaultDeniedExtensions = []string{
	".asa", ".asax", ".ascx", ".master", ".skin", ".browser", ".sitemap", ".config",
	".cs", ".csproj", ".vb", ".vbproj", ".webinfo", ".licx", ".resx", ".resources",
	".mdb", ".vjsproj", ".java", ".jsl", ".ldb", ".dsdgm", ".ssdgm", ".lsad",
	".ssmap", ".cd", ".dsprototype", ".lsaprototype", ".sdm", ".sdmDocument", ".mdf", ".ldf",
	".ad", ".dd", ".ldd", ".sd", ".adprototype", ".lddprototype", ".exclude", ".refresh",
	".compiled", ".msgx", ".vsdisco", ".rules",
}

func defaultEntries(values []string) []FilterEntry {
	if len(values) == 0 {
		return nil
	}
	entries := make([]FilterEntry, len(values))
	for i, v := range values {
		entries[i] = FilterEntry{Value: v}
	}
	return entries
}

// uint32Attr is an IIS uint attribute (0-4294967295) stored as an int64.
func uint32Attr(name string, def int64, field func(*Config) *int64) attrSpec {
	return attrSpec{
		name: name, def: strconv.FormatInt(def, 10), hasDef: true,
		set: func(p *parser, v string, _ int) string {
			n, msg := parseUint(v, 0, 1<<32-1)
			*field(p.cfg) = n
			return msg
		},
		get: func(c *Config) string { return strconv.FormatInt(*field(c), 10) },
	}
}

// webDAVAttr is applyToWebDAV: roost serves no WebDAV of its own and
// applies every rule to every request, which is what true means.
var webDAVAttr = attrSpec{
	name: "applyToWebDAV",
	set: func(p *parser, v string, line int) string {
		b, msg := parseBool(v)
		if msg == "" && !b {
			p.warn(line, p.elem, "applyToWebDAV", "roost does not tell WebDAV requests apart: these rules apply to every request")
		}
		return msg
	},
}

// requestFilteringAttrs are the attributes of <requestFiltering>.
var requestFilteringAttrs = []attrSpec{
	boolAttr("allowDoubleEscaping", false, func(c *Config) *bool { return &c.filtering().AllowDoubleEscaping }),
	boolAttr("allowHighBitCharacters", true, func(c *Config) *bool { return &c.filtering().AllowHighBitCharacters }),
	ignoredAttr("unescapeQueryString", "roost does not filter query strings; ignored"),
	ignoredAttr("removeServerHeader", "not applied by roost; ignored"),
}

var fileExtensionsAttrs = []attrSpec{
	boolAttr("allowUnlisted", true, func(c *Config) *bool { return &c.filtering().AllowUnlistedFileExtensions }),
	webDAVAttr,
}

var verbsAttrs = []attrSpec{
	boolAttr("allowUnlisted", true, func(c *Config) *bool { return &c.filtering().AllowUnlistedVerbs }),
	webDAVAttr,
}

var hiddenSegmentsAttrs = []attrSpec{webDAVAttr}

// ruleList describes one request filtering collection: the <add> that
// names an entry by its key attribute, <remove> by the same key, and
// <clear/>.
type ruleList struct {
	elem     string   // the collection: "hiddenSegments"
	key      string   // the attribute that names an entry: "segment"
	attrs    []string // the other attributes of <add>: "allowed", "sizeLimit"
	defaults []string // IIS's entries (all denying), before web.config changes them
	field    func(*RequestFiltering) *[]FilterEntry
	show     func(FilterEntry) string // the Setting value of an entry
}

func showAllowed(e FilterEntry) string {
	if e.Allowed {
		return "allowed"
	}
	return "denied"
}

var ruleLists = []ruleList{
	{elem: "hiddenSegments", key: "segment", defaults: defaultHiddenSegments,
		field: func(f *RequestFiltering) *[]FilterEntry { return &f.HiddenSegments },
		show:  func(FilterEntry) string { return "hidden" }},
	{elem: "fileExtensions", key: "fileExtension", attrs: []string{"allowed"}, defaults: defaultDeniedExtensions,
		field: func(f *RequestFiltering) *[]FilterEntry { return &f.FileExtensions }, show: showAllowed},
	{elem: "denyUrlSequences", key: "sequence",
		field: func(f *RequestFiltering) *[]FilterEntry { return &f.DenyURLSequences },
		show:  func(FilterEntry) string { return "denied" }},
	{elem: "verbs", key: "verb", attrs: []string{"allowed"},
		field: func(f *RequestFiltering) *[]FilterEntry { return &f.Verbs }, show: showAllowed},
	{elem: "headerLimits", key: "header", attrs: []string{"sizeLimit"},
		field: func(f *RequestFiltering) *[]FilterEntry { return &f.HeaderLimits },
		show:  func(e FilterEntry) string { return strconv.FormatInt(e.SizeLimit, 10) }},
}

// filteringNodes are the elements of every <requestFiltering>, in file
// order, by name.
type filteringNodes map[string][]*node

// readRequestFiltering reads every <requestFiltering> element found, in
// file order, on top of IIS's defaults: attributes written later win, and
// collection entries are added, removed and cleared in order.
func (p *parser) readRequestFiltering(elems []*node) {
	f := p.cfg.filtering()
	nodes := filteringNodes{}
	for _, rf := range elems {
		nodes["requestFiltering"] = append(nodes["requestFiltering"], rf)
		for _, c := range rf.children {
			switch c.name {
			case "requestLimits":
				nodes[c.name] = append(nodes[c.name], c)
				for _, cc := range c.children {
					if cc.name != "headerLimits" {
						p.warn(cc.line, "requestLimits", "", fmt.Sprintf("unknown element <%s>; ignored", cc.name))
						continue
					}
					nodes[cc.name] = append(nodes[cc.name], cc)
				}
			case "hiddenSegments", "fileExtensions", "denyUrlSequences", "verbs":
				nodes[c.name] = append(nodes[c.name], c)
			default:
				p.warn(c.line, "requestFiltering", "", fmt.Sprintf("<%s> is an IIS setting roost does not apply; ignored", c.name))
			}
		}
	}
	p.applyAll("requestLimits", nodes["requestLimits"], requestLimitsAttrs)
	p.applyAll("requestFiltering", nodes["requestFiltering"], requestFilteringAttrs)
	p.applyAll("fileExtensions", nodes["fileExtensions"], fileExtensionsAttrs)
	p.applyAll("verbs", nodes["verbs"], verbsAttrs)
	p.applyAll("hiddenSegments", nodes["hiddenSegments"], hiddenSegmentsAttrs)
	for i := range ruleLists {
		l := &ruleLists[i]
		*l.field(f) = p.readRules(l, nodes[l.elem])
		if l.elem == "hiddenSegments" {
			p.hideStdoutLogs()
		}
	}
}

// applyAll applies specs from the attributes of nodes, all named elem; an
// attribute written again replaces the earlier one. Attributes specs does
// not know are warned about.
func (p *parser) applyAll(elem string, nodes []*node, specs []attrSpec) {
	given := make(map[*attrSpec]attr)
	line := 0
	for _, n := range nodes {
		line = n.line
		p.gatherAttrs(elem, n.attrs, specs, given, nil)
	}
	p.apply(elem, line, specs, given)
}

// readRules reads the collection l from nodes, starting from IIS's
// defaults, and records every entry left as a setting.
func (p *parser) readRules(l *ruleList, nodes []*node) []FilterEntry {
	entries := defaultEntries(l.defaults)
	for _, n := range nodes {
		for _, c := range n.children {
			switch c.name {
			case "add":
				entries = p.addRule(l, c, entries)
			case "remove":
				entries = p.removeRule(l, c, entries)
			case "clear":
				entries = nil
			default:
				p.warn(c.line, l.elem, "", fmt.Sprintf("unknown element <%s>; ignored", c.name))
			}
		}
	}
	for _, e := range entries {
		s := Setting{Element: l.elem, Name: e.Value, Value: l.show(e), Line: e.Line, Source: "default"}
		if e.Line > 0 {
			s.Source = "web.config"
		}
		p.settings = append(p.settings, s)
	}
	return entries
}

// ruleKey reads the key attribute of an <add> or <remove>: required and
// not empty. ok is false, with the error reported, when it is neither.
func (p *parser) ruleKey(l *ruleList, c *node) (key attr, ok bool) {
	key, found := c.lookup(l.key)
	switch {
	case !found:
		p.errorf(c.line, l.elem, l.key, "required attribute is missing in <%s>", c.name)
		return key, false
	case key.value == "":
		p.errorf(key.line, l.elem, l.key, "is empty in <%s>; want %s", c.name, ruleKeyHint[l.key])
		return key, false
	}
	for _, a := range c.attrs {
		if !a.ns && a.name != l.key && (c.name == "remove" || !slices.Contains(l.attrs, a.name)) {
			p.warn(a.line, l.elem, a.name, fmt.Sprintf("unknown attribute of <%s>; ignored", c.name))
		}
	}
	return key, true
}

// ruleKeyHint says what each key holds, for errors.
var ruleKeyHint = map[string]string{
	"segment":       `a folder or file name, such as "App_Data"`,
	"fileExtension": `an extension with its dot, such as ".config" ("." for none)`,
	"sequence":      `a string no URL may hold, such as ".."`,
	"verb":          `an HTTP method, such as "TRACE"`,
	"header":        `a header name, such as "Content-Type"`,
}

func findRule(entries []FilterEntry, value string) int {
	return slices.IndexFunc(entries, func(e FilterEntry) bool { return strings.EqualFold(e.Value, value) })
}

// addRule reads an <add> of l into entries. A key already there is an
// error, as IIS refuses the file (500.19) for it.
func (p *parser) addRule(l *ruleList, c *node, entries []FilterEntry) []FilterEntry {
	key, ok := p.ruleKey(l, c)
	if !ok {
		return entries
	}
	// allowed defaults to true, as in IIS's schema.
	e := FilterEntry{Value: key.value, Allowed: slices.Contains(l.attrs, "allowed"), Line: c.line}
	if a, found := c.lookup("allowed"); found && slices.Contains(l.attrs, "allowed") {
		b, msg := parseBool(a.value)
		if msg != "" {
			p.errorf(a.line, l.elem, "allowed", "%s", msg)
			return entries
		}
		e.Allowed = b
	}
	if slices.Contains(l.attrs, "sizeLimit") {
		a, found := c.lookup("sizeLimit")
		if !found {
			p.errorf(c.line, l.elem, "sizeLimit", "required attribute is missing in <add>; want the longest value accepted, in bytes")
			return entries
		}
		n, msg := parseUint(a.value, 0, 1<<32-1)
		if msg != "" {
			p.errorf(a.line, l.elem, "sizeLimit", "%s", msg)
			return entries
		}
		e.SizeLimit = n
	}
	if i := findRule(entries, e.Value); i >= 0 {
		from := "IIS's default list"
		if entries[i].Line > 0 {
			from = fmt.Sprintf("line %d", entries[i].Line)
		}
		p.errorf(key.line, l.elem, l.key, "%q is already in <%s> (%s), and IIS refuses a duplicate entry; write <remove %s=%q/> before this <add>",
			quoted(e.Value), l.elem, from, l.key, quoted(entries[i].Value))
		return entries
	}
	p.checkRule(l, key)
	return append(entries, e)
}

// checkRule warns about a key IIS accepts but that cannot match.
func (p *parser) checkRule(l *ruleList, key attr) {
	switch {
	case l.key == "fileExtension" && !strings.HasPrefix(key.value, "."):
		p.warn(key.line, l.elem, l.key, fmt.Sprintf("%q does not start with a dot, so it matches no extension (write %q)", quoted(key.value), quoted("."+key.value)))
	case l.key == "segment" && strings.ContainsAny(key.value, `/\`):
		p.warn(key.line, l.elem, l.key, fmt.Sprintf("%q holds a path separator: it hides paths in which these segments follow each other", quoted(key.value)))
	}
}

// removeRule reads a <remove> of l: the entry with its key (in any letter
// case) leaves entries.
func (p *parser) removeRule(l *ruleList, c *node, entries []FilterEntry) []FilterEntry {
	key, ok := p.ruleKey(l, c)
	if !ok {
		return entries
	}
	i := findRule(entries, key.value)
	if i < 0 {
		p.warn(key.line, l.elem, l.key, fmt.Sprintf("%q is not in <%s>; nothing to remove", quoted(key.value), l.elem))
		return entries
	}
	return slices.Delete(entries, i, i+1)
}

// hideStdoutLogs hides the app's stdout log files when roost writes them
// inside the app folder: the folder that holds them, from the URL root,
// or, when they are in the app folder itself, the names they start with.
func (p *parser) hideStdoutLogs() {
	c := p.cfg
	if !c.Stdout.Enabled || c.Stdout.Path == "" || c.Dir == "" {
		return
	}
	rel, err := filepath.Rel(c.Dir, filepath.Dir(c.Stdout.Path))
	if err != nil || filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return // outside the app folder: not reachable by URL
	}
	h := &HiddenLogs{}
	if rel == "." {
		h.Prefix = filepath.Base(c.Stdout.Path) + "_"
	} else {
		h.Folder = strings.Split(filepath.ToSlash(rel), "/")
	}
	for _, s := range p.settings {
		if s.Name == "stdoutLogFile" && s.Element == c.Kind.String() {
			h.Line = s.Line
		}
	}
	c.filtering().StdoutLogs = h
	p.settings = append(p.settings, Setting{Element: "hiddenSegments", Name: h.Path(), Value: "hidden: stdout log files", Line: h.Line, Source: "stdoutLogFile"})
}
