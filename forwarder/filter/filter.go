// Package filter decides whether a request passes IIS's request filtering,
// as a config.RequestFiltering describes it: URL and query string length,
// header limits, verbs, high-bit characters, double escaping, denied URL
// sequences, hidden segments (and the app's stdout log folder) and file
// extensions. It judges a path the way the backend, or a Windows file
// system under it, may read it: decoded, with '\' as a separator too, dot
// segments resolved, and names compared ignoring letter case, trailing dots
// and spaces, NTFS stream names, path parameters and 8.3 short names.
//
// It only says why a request is denied. The status, the page and the log
// line are package forwarder's, and it imports no roost package but config.
package filter

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roosthq/roost/config"
)

// Reason is why a request is denied, one per IIS substatus.
type Reason int

const (
	URLTooLong          Reason = iota + 1 // requestLimits maxUrl (IIS 404.14)
	QueryStringTooLong                    // requestLimits maxQueryString (IIS 404.15)
	HeaderTooLong                         // headerLimits (IIS 431)
	VerbDenied                            // verbs (IIS 404.6)
	HighBitCharacters                     // allowHighBitCharacters="false" (IIS 404.12)
	DoubleEscaped                         // allowDoubleEscaping="false" (IIS 404.11)
	URLSequenceDenied                     // denyUrlSequences (IIS 404.5)
	HiddenSegment                         // hiddenSegments, and the stdout log folder (IIS 404.8)
	FileExtensionDenied                   // fileExtensions (IIS 404.7)
)

// Denial says which rule denied a request.
type Denial struct {
	Reason Reason
	Rule   string // the setting that matched, as roost check names it: "hiddenSegments", "requestLimits maxUrl"
	Value  string // its entry or value: "bin", "4096"
	Source string // where the entry came from ("IIS default", "web.config line 12"); "" for a limit or attribute
	Detail string // what of the request matched: `segment "BIN."`
}

// Error describes the denial for logs and detailed error pages.
func (d *Denial) Error() string {
	from := ""
	if d.Source != "" {
		from = " (" + d.Source + ")"
	}
	return fmt.Sprintf("request filtering: %s %q%s: %s", d.Rule, d.Value, from, d.Detail)
}

// Filter applies one set of rules. Its methods may be called at once from
// many goroutines.
type Filter struct {
	rules *config.RequestFiltering
	// hiddenNames are the hidden segments of one ASCII name, by their
	// name in lower case, for the common case: an ASCII segment that is no
	// 8.3 short name. single has every one-name hidden segment, for the
	// others; multi those of several names ("a/b").
	hiddenNames   map[string]config.FilterEntry
	single, multi []hiddenRule
	foldOnly      []hiddenRule                  // one-name entries that are not ASCII: Unicode case folding may match ASCII segments
	exts          map[string]config.FilterEntry // by lower-case extension
	long          []config.FilterEntry          // denied extensions of more than 3 letters, which 8.3 names shorten
	seqs          []seqRule
	verbs         map[string]config.FilterEntry // by upper-case verb
	headers       []config.FilterEntry
}

// hiddenRule is a hidden segment entry, split at separators: an entry
// such as "a/b" hides paths in which a and b follow each other.
type hiddenRule struct {
	entry config.FilterEntry
	parts []string
}

type seqRule struct {
	entry config.FilterEntry
	lower string
}

// New returns the Filter for rules. A nil rules gives a nil Filter, which
// lets every request through.
func New(rules *config.RequestFiltering) *Filter {
	if rules == nil {
		return nil
	}
	f := &Filter{rules: rules, hiddenNames: make(map[string]config.FilterEntry), exts: make(map[string]config.FilterEntry),
		verbs: make(map[string]config.FilterEntry), headers: rules.HeaderLimits}
	for _, e := range rules.HiddenSegments {
		// Entries are names as segments' names are: without trailing dots
		// and spaces.
		var parts []string
		for _, part := range strings.FieldsFunc(e.Value, func(r rune) bool { return r == '/' || r == '\\' }) {
			if part = trimDotsSpaces(part); part != "" {
				parts = append(parts, part)
			}
		}
		switch {
		case len(parts) > 1:
			f.multi = append(f.multi, hiddenRule{e, parts})
		case len(parts) == 1:
			f.single = append(f.single, hiddenRule{e, parts})
			if hasHighBit(parts[0]) || len(parts[0]) > maxKey {
				f.foldOnly = append(f.foldOnly, hiddenRule{e, parts})
			} else if key := strings.ToLower(parts[0]); !hasKey(f.hiddenNames, key) {
				f.hiddenNames[key] = e
			}
		}
	}
	for _, e := range rules.FileExtensions {
		if key := strings.ToLower(e.Value); !hasKey(f.exts, key) {
			f.exts[key] = e
		}
		if !e.Allowed && len(e.Value) > 4 && e.Value[0] == '.' {
			f.long = append(f.long, e)
		}
	}
	for _, e := range rules.DenyURLSequences {
		f.seqs = append(f.seqs, seqRule{e, strings.ToLower(e.Value)})
	}
	for _, e := range rules.Verbs {
		if key := strings.ToUpper(e.Value); !hasKey(f.verbs, key) {
			f.verbs[key] = e
		}
	}
	return f
}

// hasKey reports whether m has key: the first of entries that compare
// equal wins.
func hasKey(m map[string]config.FilterEntry, key string) bool {
	_, ok := m[key]
	return ok
}

// Check returns why r must not reach the backend, or nil to let it
// through. A nil Filter lets everything through.
func (f *Filter) Check(r *http.Request) *Denial {
	if f == nil {
		return nil
	}
	return f.check(request{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, header: r.Header, host: r.Host})
}

// CheckTarget is Check for a request known by its parts: its method, its
// target as sent (origin form: path and query), its Host and its header,
// which is looked at only when a header limit needs it.
func (f *Filter) CheckTarget(method string, target []byte, host string, header Header) *Denial {
	if f == nil {
		return nil
	}
	t := string(target)
	path, query, _ := strings.Cut(t, "?")
	return f.check(request{method: method, path: path, query: query, header: header, host: host})
}

// Header is a request's header, as the header limits read it; an
// http.Header is one.
type Header interface {
	// Values returns the values of the field named name, in any case.
	Values(name string) []string
}

// request is what of an http.Request the rules look at: the path as sent
// (escaped) and the raw query string.
type request struct {
	method, path, query string
	header              Header
	host                string
}

// check applies the rules in a fixed order; the first that denies wins.
func (f *Filter) check(r request) *Denial {
	if d := f.checkLimits(r); d != nil {
		return d
	}
	if d := f.checkVerb(r.method); d != nil {
		return d
	}
	p := newPath(r.path)
	if d := f.checkEscaping(p); d != nil {
		return d
	}
	if d := f.checkSequences(p); d != nil {
		return d
	}
	if d := f.checkHidden(p); d != nil {
		return d
	}
	return f.checkExtension(p)
}

func (f *Filter) checkLimits(r request) *Denial {
	if n := int64(len(r.path)); n > f.rules.MaxURL {
		return &Denial{Reason: URLTooLong, Rule: "requestLimits maxUrl", Value: strconv.FormatInt(f.rules.MaxURL, 10),
			Detail: fmt.Sprintf("the path is %d bytes", n)}
	}
	if n := int64(len(r.query)); n > f.rules.MaxQueryString {
		return &Denial{Reason: QueryStringTooLong, Rule: "requestLimits maxQueryString", Value: strconv.FormatInt(f.rules.MaxQueryString, 10),
			Detail: fmt.Sprintf("the query string is %d bytes", n)}
	}
	for _, e := range f.headers {
		n := len(r.host)
		if !strings.EqualFold(e.Value, "Host") {
			// Several lines of one header count as the one line they make.
			n = 0
			for i, v := range r.header.Values(e.Value) {
				n += len(v) + min(i, 1)*len(", ")
			}
		}
		if int64(n) > e.SizeLimit {
			return &Denial{Reason: HeaderTooLong, Rule: "headerLimits", Value: e.Value, Source: e.Source(),
				Detail: fmt.Sprintf("its value is %d bytes, over the sizeLimit of %d", n, e.SizeLimit)}
		}
	}
	return nil
}

func (f *Filter) checkVerb(method string) *Denial {
	e, listed := f.verbs[strings.ToUpper(method)]
	switch {
	case listed && !e.Allowed:
		return &Denial{Reason: VerbDenied, Rule: "verbs", Value: e.Value, Source: e.Source(), Detail: fmt.Sprintf("the method is %q", method)}
	case !listed && !f.rules.AllowUnlistedVerbs:
		return &Denial{Reason: VerbDenied, Rule: "verbs allowUnlisted", Value: "false", Detail: fmt.Sprintf("the method %q is not listed as allowed", method)}
	}
	return nil
}

// checkEscaping applies allowHighBitCharacters and allowDoubleEscaping.
// As in IIS, a path is double escaped when it holds '+' (which some
// decoders read as a space) or changes when decoded a second time.
func (f *Filter) checkEscaping(p *urlPath) *Denial {
	if !f.rules.AllowHighBitCharacters && (hasHighBit(p.raw) || hasHighBit(p.decoded)) {
		return &Denial{Reason: HighBitCharacters, Rule: "requestFiltering allowHighBitCharacters", Value: "false", Detail: "the path holds non-ASCII characters"}
	}
	if f.rules.AllowDoubleEscaping {
		return nil
	}
	if strings.Contains(p.decoded, "+") {
		return &Denial{Reason: DoubleEscaped, Rule: "requestFiltering allowDoubleEscaping", Value: "false", Detail: "the path holds '+'"}
	}
	if unescape(p.decoded) != p.decoded {
		return &Denial{Reason: DoubleEscaped, Rule: "requestFiltering allowDoubleEscaping", Value: "false", Detail: "the path changes when decoded again"}
	}
	return nil
}

// checkSequences matches denyUrlSequences, ignoring case, in the path as
// sent, decoded, and decoded with '\' read as '/'.
func (f *Filter) checkSequences(p *urlPath) *Denial {
	if len(f.seqs) == 0 {
		return nil
	}
	views := []string{strings.ToLower(p.raw), strings.ToLower(p.decoded)}
	if strings.Contains(p.decoded, `\`) {
		views = append(views, strings.ReplaceAll(views[1], `\`, "/"))
	}
	for _, s := range f.seqs {
		for _, v := range views {
			if strings.Contains(v, s.lower) {
				return &Denial{Reason: URLSequenceDenied, Rule: "denyUrlSequences", Value: s.entry.Value, Source: s.entry.Source(), Detail: "the path holds it"}
			}
		}
	}
	return nil
}

// checkHidden matches hiddenSegments against every segment of the path,
// resolved or not, and the stdout log folder against the resolved path
// from its root.
func (f *Filter) checkHidden(p *urlPath) *Denial {
	for i := range p.segs {
		if e, ok := f.hiddenName(&p.segs[i]); ok {
			return hiddenDenial(e, &p.segs[i])
		}
	}
	if len(f.multi) > 0 {
		// Resolving leaves out segments, which may join a run.
		all := p.all()
		for _, h := range f.multi {
			for _, idx := range [][]int{all, p.literal, p.loose} {
				if seg, ok := p.findRun(idx, h.parts); ok {
					return hiddenDenial(h.entry, seg)
				}
			}
		}
	}
	return f.checkStdoutLogs(p)
}

func hiddenDenial(e config.FilterEntry, seg *segment) *Denial {
	return &Denial{Reason: HiddenSegment, Rule: "hiddenSegments", Value: e.Value, Source: e.Source(), Detail: fmt.Sprintf("segment %q", seg.text)}
}

// maxKey bounds the hidden names looked up by key.
const maxKey = 64

// hiddenName returns the one-name hidden segment seg names, if any.
func (f *Filter) hiddenName(seg *segment) (config.FilterEntry, bool) {
	if !seg.ascii || seg.short {
		for _, h := range f.single {
			if seg.sameName(h.parts[0]) {
				return h.entry, true
			}
		}
		return config.FilterEntry{}, false
	}
	for _, name := range seg.names[:seg.n] {
		if len(name) > maxKey {
			continue
		}
		var key [maxKey]byte
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			key[i] = c
		}
		if e, ok := f.hiddenNames[string(key[:len(name)])]; ok {
			return e, true
		}
	}
	for _, h := range f.foldOnly {
		if seg.sameName(h.parts[0]) {
			return h.entry, true
		}
	}
	return config.FilterEntry{}, false
}

// checkStdoutLogs matches the stdout log files against the resolved path,
// from its root.
func (f *Filter) checkStdoutLogs(p *urlPath) *Denial {
	logs := f.rules.StdoutLogs
	if logs == nil {
		return nil
	}
	for _, idx := range [][]int{p.literal, p.loose} {
		if len(logs.Folder) > 0 && len(idx) >= len(logs.Folder) && p.runAt(idx, logs.Folder, 0) ||
			len(logs.Folder) == 0 && len(idx) > 0 && p.segs[idx[0]].hasNamePrefix(logs.Prefix) {
			source := "default"
			if logs.Line > 0 {
				source = "web.config line " + strconv.Itoa(logs.Line)
			}
			return &Denial{Reason: HiddenSegment, Rule: "stdoutLogFile", Value: logs.Path(), Source: source,
				Detail: "the path names the app's stdout log files"}
		}
	}
	return nil
}

// checkExtension applies fileExtensions to the last segment of the
// resolved path ("." when it has no extension, or the path is the root).
func (f *Filter) checkExtension(p *urlPath) *Denial {
	var seen [8]string
	n := 0
	for _, idx := range [][]int{p.literal, p.loose} {
		last := segment{n: 1} // the root: no name, no extension
		if len(idx) > 0 {
			last = p.segs[idx[len(idx)-1]]
		}
		for _, name := range last.names[:last.n] {
			if slices.Contains(seen[:n], name) {
				continue
			}
			seen[n], n = name, n+1
			if d := f.extension(name); d != nil {
				return d
			}
		}
	}
	return nil
}

func (f *Filter) extension(name string) *Denial {
	ext := extension(name)
	e, listed := f.exts[strings.ToLower(ext)]
	if listed && !e.Allowed {
		return &Denial{Reason: FileExtensionDenied, Rule: "fileExtensions", Value: e.Value, Source: e.Source(), Detail: fmt.Sprintf("the last segment is %q", name)}
	}
	if short := shortExtension(name); short != "" {
		for _, e := range f.long {
			if strings.EqualFold(e.Value[1:4], short) {
				return &Denial{Reason: FileExtensionDenied, Rule: "fileExtensions", Value: e.Value, Source: e.Source(),
					Detail: fmt.Sprintf("the last segment %q may be the 8.3 short name of a file with that extension", name)}
			}
		}
	}
	if !listed && !f.rules.AllowUnlistedFileExtensions {
		return &Denial{Reason: FileExtensionDenied, Rule: "fileExtensions allowUnlisted", Value: "false",
			Detail: fmt.Sprintf("the extension %q of %q is not listed as allowed", ext, name)}
	}
	return nil
}
