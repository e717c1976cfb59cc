package filter

import (
	"strings"
)

// urlPath is a request's path in the forms the rules look at.
type urlPath struct {
	raw      string   // as sent, escaped
	decoded  string   // every %XX decoded once
	segments []string // decoded, split at '/' and '\', empty ones left out
	// literal and loose are segments with dot segments resolved, two
	// ways, since servers and file systems differ: literal takes only "."
	// and ".." for them; loose also "..;" or ".. " (a name cut as names
	// does, then trailing spaces dropped), and drops any other name made
	// only of dots and spaces. A rule that looks at the resolved path
	// denies it when either form matches.
	literal, loose []string
}

func newPath(raw string) *urlPath {
	p := &urlPath{raw: raw, decoded: unescape(raw)}
	p.segments = strings.FieldsFunc(p.decoded, isSeparator)
	p.literal = resolve(p.segments, false)
	p.loose = resolve(p.segments, true)
	return p
}

func isSeparator(r rune) bool { return r == '/' || r == '\\' }

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

// names returns the two names a segment may stand for. literal is the
// segment without trailing dots and spaces, which Windows ignores
// ("web.config. " is web.config). reduced is also cut at the first NUL
// (where C strings end), ':' (an NTFS stream: "web.config::$DATA") or ';'
// (path parameters, which Java servers drop: "web.config;x").
func names(seg string) (literal, reduced string) {
	literal = strings.TrimRight(seg, ". ")
	if i := strings.IndexAny(seg, "\x00:;"); i >= 0 {
		seg = seg[:i]
	}
	return literal, strings.TrimRight(seg, ". ")
}

// resolve removes dot segments from segs, as a server or file system
// does; ".." at the root stays at the root. With loose, a segment is a dot
// segment by its reduced form (see urlPath).
func resolve(segs []string, loose bool) []string {
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		dots := s
		if loose {
			if i := strings.IndexAny(s, "\x00:;"); i >= 0 {
				dots = s[:i]
			}
			if strings.TrimRight(dots, " ") == ".." {
				dots = ".."
			} else if strings.Trim(dots, ". ") == "" {
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
			out = append(out, s)
		}
	}
	return out
}

// sameName reports whether the segment seg names the file or folder
// name: by either of its names ignoring case, or by an 8.3 short name
// Windows may have given name.
func sameName(seg, name string) bool {
	literal, reduced := names(seg)
	return strings.EqualFold(literal, name) || strings.EqualFold(reduced, name) ||
		shortAlias(literal, name) || shortAlias(reduced, name)
}

// findRun returns the first segment of segs at which parts follow each
// other, each the same name as its part.
func findRun(segs, parts []string) (string, bool) {
	for i := 0; i+len(parts) <= len(segs); i++ {
		if runAt(segs, parts, i) {
			return segs[i], true
		}
	}
	return "", false
}

func runAt(segs, parts []string, i int) bool {
	for j, part := range parts {
		if !sameName(segs[i+j], part) {
			return false
		}
	}
	return true
}

// hasNamePrefix reports whether seg names a file whose name starts with
// prefix (the stdout log files: prefix is "<base>_", and they end in .log).
func hasNamePrefix(seg, prefix string) bool {
	literal, reduced := names(seg)
	return hasPrefixFold(literal, prefix) || hasPrefixFold(reduced, prefix) ||
		shortAlias(literal, prefix+"0.log") || shortAlias(reduced, prefix+"0.log")
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
