package access

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry is one request, as the access log writes it. Write formats it
// before it returns: its strings may alias buffers that are reused after.
type Entry struct {
	// Time is when the response ended (IIS logs the end of a request, not
	// its start); it is written in UTC.
	Time time.Time
	// ServerAddr is the address the client connected to (s-ip, s-port);
	// the zero value when it is not known.
	ServerAddr netip.AddrPort
	Method     string
	// Target is the request target as the client sent it: path and query
	// (or an absolute URL, or "*"), not decoded.
	Target string
	// ClientAddr is the client's address, host:port (c-ip is the host).
	ClientAddr string
	UserAgent  string
	Referer    string
	// Status is the response's status, 0 when none was sent (the client
	// left first); Substatus is IIS's substatus (8 for 404.8), else 0.
	Status    int
	Substatus int
	// TimeTaken is the time from the request's arrival to the end of its
	// response (time-taken, written in whole milliseconds).
	TimeTaken time.Duration
}

// Fields is the #Fields directive of the W3C format: the fields of a line,
// in order. They are IIS's default fields.
const Fields = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"

// appendHeader appends the W3C directives that begin a file (or stdout),
// as IIS writes them: software, version, the UTC date the file was
// begun, and the fields.
func appendHeader(b []byte, software string, now time.Time) []byte {
	b = append(b, "#Software: "...)
	b = appendEncoded(b, software, ' ') // a directive, not a field: spaces stay
	b = append(b, "\n#Version: 1.0\n#Date: "...)
	b = appendDateTime(b, now.UTC(), ' ')
	b = append(b, "\n#Fields: "...)
	b = append(b, Fields...)
	return append(b, '\n')
}

// appendW3C appends e as a line of the W3C extended format.
func appendW3C(b []byte, e *Entry) []byte {
	b = appendDateTime(b, e.Time.UTC(), ' ')
	b = append(b, ' ')
	b = appendServerIP(b, e.ServerAddr, '-')
	b = append(b, ' ')
	b = appendW3CValue(b, e.Method)
	stem, query := splitTarget(e.Target)
	b = append(b, ' ')
	b = appendW3CValue(b, stem)
	b = append(b, ' ')
	b = appendW3CValue(b, query)
	b = append(b, ' ')
	if e.ServerAddr.IsValid() {
		b = strconv.AppendUint(b, uint64(e.ServerAddr.Port()), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, " - "...) // cs-username: roost authenticates nobody
	b = appendW3CValue(b, clientIP(e.ClientAddr))
	b = append(b, ' ')
	b = appendW3CValue(b, e.UserAgent)
	b = append(b, ' ')
	b = appendW3CValue(b, e.Referer)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Substatus), 10)
	b = append(b, " 0 "...) // sc-win32-status
	b = strconv.AppendInt(b, e.TimeTaken.Milliseconds(), 10)
	return append(b, '\n')
}

// appendJSON appends e as one JSON object and a newline: the W3C fields,
// named in camelCase (see jsonNames), with the values as they are,
// JSON-escaped.
func appendJSON(b []byte, e *Entry) []byte {
	t := e.Time.UTC()
	b = append(b, `{"date":"`...)
	b = appendDate(b, t)
	b = append(b, `","time":"`...)
	b = appendClock(b, t)
	b = append(b, `","sIp":"`...)
	b = appendServerIP(b, e.ServerAddr, 0)
	b = append(b, `","csMethod":`...)
	b = appendJSONString(b, e.Method)
	stem, query := splitTarget(e.Target)
	b = append(b, `,"csUriStem":`...)
	b = appendJSONString(b, stem)
	b = append(b, `,"csUriQuery":`...)
	b = appendJSONString(b, query)
	b = append(b, `,"sPort":`...)
	if e.ServerAddr.IsValid() {
		b = strconv.AppendUint(b, uint64(e.ServerAddr.Port()), 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"csUsername":"","cIp":`...)
	b = appendJSONString(b, clientIP(e.ClientAddr))
	b = append(b, `,"csUserAgent":`...)
	b = appendJSONString(b, e.UserAgent)
	b = append(b, `,"csReferer":`...)
	b = appendJSONString(b, e.Referer)
	b = append(b, `,"scStatus":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"scSubstatus":`...)
	b = strconv.AppendInt(b, int64(e.Substatus), 10)
	b = append(b, `,"scWin32Status":0,"timeTaken":`...)
	b = strconv.AppendInt(b, e.TimeTaken.Milliseconds(), 10)
	return append(b, "}\n"...)
}

// appendDateTime appends t as yyyy-mm-dd, sep, hh:mm:ss.
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	b = appendDate(b, t)
	b = append(b, sep)
	return appendClock(b, t)
}

func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		y = 0
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, int(m))
	b = append(b, '-')
	return append2(b, d)
}

func appendClock(b []byte, t time.Time) []byte {
	h, m, s := t.Clock()
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, m)
	b = append(b, ':')
	return append2(b, s)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// appendServerIP appends a's address (IPv4 for an IPv4-mapped one), or
// empty (empty 0 appends nothing) when a is not known.
func appendServerIP(b []byte, a netip.AddrPort, empty byte) []byte {
	if !a.IsValid() {
		if empty != 0 {
			b = append(b, empty)
		}
		return b
	}
	return a.Addr().Unmap().AppendTo(b)
}

// splitTarget splits a request target into the path (cs-uri-stem) and
// the query without its "?" (cs-uri-query). An absolute URL (a proxy's
// request) is reduced to its path, as IIS logs it; "*" and a CONNECT's
// host:port are stems as they are.
func splitTarget(target string) (stem, query string) {
	if len(target) > 0 && target[0] != '/' {
		if i := strings.Index(target, "://"); i > 0 {
			rest := target[i+3:]
			j := strings.IndexAny(rest, "/?")
			switch {
			case j < 0:
				return "/", ""
			case rest[j] == '?':
				return "/", rest[j+1:]
			}
			target = rest[j:]
		}
	}
	stem, query, _ = strings.Cut(target, "?")
	return stem, query
}

// clientIP is the host of a host:port address (without brackets), or the
// address itself when it has no port.
func clientIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

const hexDigits = "0123456789ABCDEF"

// w3cPlain reports the ASCII bytes that go into a W3C value as they are:
// printable ones but the space.
var w3cPlain = func() (t [utf8.RuneSelf]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = true
	}
	return t
}()

// appendW3CValue appends s encoded as IIS encodes a W3C field: "-" when
// it is empty, "+" for each space, and what appendEncoded does besides.
func appendW3CValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEncoded(b, s, '+')
}

// appendEncoded appends s with each space as spaceAs. So that no value
// can end a line or split a field, and the file stays valid UTF-8, it
// percent-encodes (%XX, the bytes of UTF-8) control characters (C0, DEL,
// C1), U+2028 and U+2029 (line and paragraph separators), and bytes that
// are not UTF-8. Other characters are written as they are, in UTF-8.
func appendEncoded(b []byte, s string, spaceAs byte) []byte {
	plain := 0 // s[plain:i] is not yet appended and needs no encoding
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && w3cPlain[c] {
			i++
			continue
		}
		b = append(b, s[plain:i]...)
		size := 1
		switch {
		case c == ' ':
			b = append(b, spaceAs)
		case c < utf8.RuneSelf:
			b = appendPercent(b, c)
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r < 0xA0 || r == '\u2028' || r == '\u2029' {
				for j := i; j < i+size; j++ {
					b = appendPercent(b, s[j])
				}
			} else {
				b = append(b, s[i:i+size]...)
			}
		}
		i += size
		plain = i
	}
	return append(b, s[plain:]...)
}

func appendPercent(b []byte, c byte) []byte { return append(b, '%', hexDigits[c>>4], hexDigits[c&15]) }

// jsonPlain reports the ASCII bytes that go into a JSON string as they
// are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters (C0, DEL, C1) escaped, U+2028 and U+2029 escaped (as
// encoding/json does), and bytes that are not UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	plain := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && jsonPlain[c] {
			i++
			continue
		}
		b = append(b, s[plain:i]...)
		size := 1
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < utf8.RuneSelf:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(b, `\ufffd`...)
			case r < 0xA0 || r == '\u2028' || r == '\u2029':
				b = append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
			default:
				b = append(b, s[i:i+size]...)
			}
		}
		i += size
		plain = i
	}
	b = append(b, s[plain:]...)
	return append(b, '"')
}
