package filter

import (
	"slices"
	"strings"
)

// urlPath is a request's path in the forms the rules look at.
type urlPath struct {
	raw     string    // as sent, escaped
	decoded string    // every %XX decoded once
	segs    []segment // decoded, split at '/' and '\', empty ones left out
	// literal and loose index the segments left once dot segments are
	// resolved, two ways, since servers and file systems differ: literal
	// takes only "." and ".." for them; loose also "..;" or ".. " (a
	// segment cut at its first NUL, ':' or ';', then trailing spaces
	// dropped), and drops any other segment made only of dots and spaces.
	// A rule that looks at the resolved path denies it when either form
	// matches.
	literal, loose []int
}

func newPath(raw string) *urlPath {
	p := &urlPath{raw: raw, decoded: unescape(raw)}
	d := p.decoded
	n := 1 + strings.Count(d, "/") + strings.Count(d, `\`)
	p.segs = make([]segment, 0, n)
	for start := 0; start < len(d); {
		end := start
		for end < len(d) && d[end] != '/' && d[end] != '\\' {
			end++
		}
		if end > start {
			p.segs = append(p.segs, newSegment(d[start:end]))
		}
		start = end + 1
	}
	idx := make([]int, 2*len(p.segs))
	p.literal = p.resolve(idx[:0:len(p.segs)], false)
	p.loose = p.resolve(idx[len(p.segs):len(p.segs)], true)
	return p
}

// segment is one segment of a path, with the names it may stand for.
type segment struct {
	text  string
	names [4]string // names[:n] are the names it may stand for: see newSegment
	n     int
	short bool // one of its names has the form of an 8.3 short name
	ascii bool // text is ASCII
}

// newSegment reads text. Its names are the text without trailing dots and
// spaces, which Windows ignores ("web.config. " is web.config), and the
// same cut at the first ':' (an NTFS stream: "web.config::$DATA"), at the
// first ';' (path parameters, which Java servers drop: "web.config;x"),
// and at the first NUL (where C strings end), each on its own.
func newSegment(text string) segment {
	s := segment{text: text, ascii: !hasHighBit(text)}
	s.add(trimDotsSpaces(text))
	for _, c := range [...]byte{':', ';', 0} {
		if i := strings.IndexByte(text, c); i >= 0 {
			s.add(trimDotsSpaces(text[:i]))
		}
	}
	for _, name := range s.names[:s.n] {
		if _, _, ok := shortName(name); ok {
			s.short = true
		}
	}
	return s
}

func (s *segment) add(name string) {
	if !slices.Contains(s.names[:s.n], name) {
		s.names[s.n] = name
		s.n++
	}
}

// all indexes every segment.
func (p *urlPath) all() []int {
	idx := make([]int, len(p.segs))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// unescape decodes every %XX escape in s once. A '%' not followed by two
// hex digits stays as it is, as do all other bytes.
func unescape(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func hasHighBit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// cut returns seg up to its first NUL, ':' or ';'.
func cut(seg string) string {
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; c == 0 || c == ':' || c == ';' {
			return seg[:i]
		}
	}
	return seg
}

func trimDotsSpaces(s string) string {
	n := len(s)
	for n > 0 && (s[n-1] == '.' || s[n-1] == ' ') {
		n--
	}
	return s[:n]
}

// resolve removes dot segments, as a server or file system does, and
// appends to out the indexes of the segments left; ".." at the root stays
// at the root. With loose, a segment is a dot segment by its reduced form
// (see urlPath).
func (p *urlPath) resolve(out []int, loose bool) []int {
	for i := range p.segs {
		dots := p.segs[i].text
		if loose {
			dots = cut(dots)
			if strings.TrimRight(dots, " ") == ".." {
				dots = ".."
			} else if trimDotsSpaces(dots) == "" {
				dots = "."
			}
		}
		switch dots {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, i)
		}
	}
	return out
}

// sameName reports whether seg names the file or folder name: by one of
// its names ignoring case, or by an 8.3 short name Windows may have given
// name.
func (seg *segment) sameName(name string) bool {
	for _, n := range seg.names[:seg.n] {
		if strings.EqualFold(n, name) || seg.short && shortAlias(n, name) {
			return true
		}
	}
	return false
}

// findRun returns the first segment, among those idx lists, at which
// parts follow each other, each the same name as its part.
func (p *urlPath) findRun(idx []int, parts []string) (*segment, bool) {
	for i := 0; i+len(parts) <= len(idx); i++ {
		if p.runAt(idx, parts, i) {
			return &p.segs[idx[i]], true
		}
	}
	return nil, false
}

func (p *urlPath) runAt(idx []int, parts []string, i int) bool {
	for j, part := range parts {
		if !p.segs[idx[i+j]].sameName(part) {
			return false
		}
	}
	return true
}

// hasNamePrefix reports whether seg names a file whose name starts with
// prefix (the stdout log files: prefix is "<base>_", and they end in .log).
func (seg *segment) hasNamePrefix(prefix string) bool {
	for _, n := range seg.names[:seg.n] {
		if hasPrefixFold(n, prefix) || seg.short && shortAlias(n, prefix+"0.log") {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// extension returns name's extension with its dot, as IIS compares it:
// from its last dot, or "." when it has none.
func extension(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return "."
}

// shortName splits name when it has the form of an 8.3 short name
// (STEM~N or STEM~N.EXT: a stem of 1-6 characters, a number, and an
// extension of at most 3), which Windows gives files whose names do not
// fit 8.3, and by which they can be opened.
func shortName(name string) (stem, ext string, ok bool) {
	tilde := strings.IndexByte(name, '~')
	if tilde < 1 || tilde > 6 {
		return "", "", false
	}
	i := tilde + 1
	for i < len(name) && '0' <= name[i] && name[i] <= '9' {
		i++
	}
	rest := name[i:]
	switch {
	case i == tilde+1:
		return "", "", false
	case rest == "":
		return name[:tilde], "", true
	case rest[0] != '.' || len(rest) < 2 || len(rest) > 4 || strings.ContainsAny(rest[1:], ". "):
		return "", "", false
	}
	return name[:tilde], rest[1:], true
}

// shortExtension is the extension of name when name is an 8.3 short
// name with one, else "".
func shortExtension(name string) string {
	_, ext, ok := shortName(name)
	if !ok {
		return ""
	}
	return ext
}

// shortAlias reports whether name may be an 8.3 short name of long: its
// stem starts long's stem (spaces and dots left out), or is the first two
// characters and a four-digit hex hash, as Windows makes them; its
// extension is the first three characters of long's.
func shortAlias(name, long string) bool {
	stem, ext, ok := shortName(name)
	if !ok {
		return false
	}
	longStem, longExt := long, ""
	if i := strings.LastIndexByte(long, '.'); i >= 0 {
		longStem, longExt = long[:i], long[i+1:]
	}
	if !strings.EqualFold(ext, longExt[:min(3, len(longExt))]) {
		return false
	}
	longStem = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.':
			return -1
		case '+', ',', ';', '=', '[', ']':
			return '_'
		}
		return r
	}, longStem)
	if hasPrefixFold(longStem, stem) {
		return true
	}
	return len(stem) == 6 && hasPrefixFold(longStem, stem[:2]) &&
		isHex(stem[2]) && isHex(stem[3]) && isHex(stem[4]) && isHex(stem[5])
}
