package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// A Diagnostic is one problem found in a web.config: an error that makes the
// file unusable, or a warning about something roost accepts but ignores.
type Diagnostic struct {
	File      string `json:"file"`                // the web.config path, as given to Load or in Options.File
	Line      int    `json:"line,omitempty"`      // 1-based; 0 when the problem is not tied to a line
	Element   string `json:"element,omitempty"`   // the element it is about, e.g. "aspNetCore"
	Attribute string `json:"attribute,omitempty"` // the attribute or setting name, e.g. "startupTimeLimit"
	Message   string `json:"message"`             // what is wrong, and what would be valid
}

// Error formats the diagnostic as FILE:LINE: element attribute: message.
func (d *Diagnostic) Error() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
	}
	b.WriteString(": ")
	if d.Element != "" {
		b.WriteString(d.Element)
		if d.Attribute != "" {
			b.WriteByte(' ')
			b.WriteString(d.Attribute)
		}
		b.WriteString(": ")
	} else if d.Attribute != "" {
		b.WriteString(d.Attribute)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Error is returned by Parse and Load when a web.config cannot be used. It
// lists every error found, in file order, and the warnings found on the way.
type Error struct {
	Errors   []*Diagnostic
	Warnings []*Diagnostic
}

// Error returns the errors, one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Errors))
	for i, d := range e.Errors {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, so errors.As can reach a *Diagnostic.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, d := range e.Errors {
		errs[i] = d
	}
	return errs
}

// quoted formats a value from web.config for a message: with %q it is put
// in double quotes as written when it can be read back that way, so that a
// Windows path shows as "C:\app" and not "C:\\app".
type quoted string

func (q quoted) Format(f fmt.State, verb rune) {
	s := string(q)
	if verb != 'q' {
		io.WriteString(f, s)
		return
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == '"' || !unicode.IsPrint(r) }) {
		io.WriteString(f, strconv.Quote(s))
		return
	}
	io.WriteString(f, `"`+s+`"`)
}
