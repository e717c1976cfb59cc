package config

import (
	"slices"
	"strconv"
	"strings"
)

// portPlaceholders are the %NAME% references that stand for the port roost
// assigns to each backend start. HttpPlatformHandler fills them in
// arguments and environment values; ANCM stopped doing so, which its users
// complained about; roost fills all three in both elements.
var portPlaceholders = []string{"ASPNETCORE_PORT", "HTTP_PLATFORM_PORT", "PORT"}

func isPortPlaceholder(name string) bool {
	return slices.ContainsFunc(portPlaceholders, func(p string) bool { return strings.EqualFold(name, p) })
}

// A Template is a web.config value after %VAR% expansion in which port
// placeholders (%ASPNETCORE_PORT%, %HTTP_PLATFORM_PORT%, %PORT%) are still
// open, because the port is chosen anew for every start of the backend.
// The zero Template is the empty string.
type Template struct {
	parts []templatePart
}

type templatePart struct {
	text        string
	placeholder bool // text is the placeholder as written, e.g. "%PORT%"
}

// Fill returns the value with every port placeholder replaced by port.
func (t Template) Fill(port int) string {
	return t.render(strconv.Itoa(port))
}

// String returns the value with port placeholders as written.
func (t Template) String() string { return t.render("") }

// HasPort reports whether the value holds a port placeholder.
func (t Template) HasPort() bool {
	return slices.ContainsFunc(t.parts, func(p templatePart) bool { return p.placeholder })
}

func (t Template) render(port string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.placeholder && port != "" {
			b.WriteString(port)
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// expand replaces %NAME% references in s with the value getenv gives for
// NAME, following Windows' ExpandEnvironmentStrings: a reference to a
// variable that is not set stays as written, and "%%" is not an escape (a %
// that does not open a known %NAME% is kept and the scan goes on from the
// next %). Port placeholders are kept open when ports is true, and expanded
// like any variable otherwise. The result of an expansion is never expanded
// again.
func expand(s string, getenv func(string) (string, bool), ports bool) Template {
	var t Template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, templatePart{text: lit.String()})
			lit.Reset()
		}
	}
	for {
		open := strings.IndexByte(s, '%')
		if open < 0 {
			lit.WriteString(s)
			break
		}
		end := strings.IndexByte(s[open+1:], '%')
		if end < 0 {
			lit.WriteString(s)
			break
		}
		name := s[open+1 : open+1+end]
		lit.WriteString(s[:open])
		switch {
		case name == "":
			lit.WriteByte('%')
			s = s[open+1:]
			continue
		case ports && isPortPlaceholder(name):
			flush()
			t.parts = append(t.parts, templatePart{text: "%" + name + "%", placeholder: true})
		default:
			v, ok := lookupEnv(getenv, name)
			if !ok {
				// Keep the first %; the second may open the next reference.
				lit.WriteByte('%')
				lit.WriteString(name)
				s = s[open+1+end:]
				continue
			}
			lit.WriteString(v)
		}
		s = s[open+1+end+1:]
	}
	flush()
	return t
}

func lookupEnv(getenv func(string) (string, bool), name string) (string, bool) {
	if getenv == nil || strings.ContainsAny(name, "=\x00") {
		return "", false
	}
	return getenv(name)
}
