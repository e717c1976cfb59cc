package forwarder

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/roosthq/roost/forwarder/http1"
)

// The heads roost writes on its own HTTP/1.x path, built as bytes from
// the fields as they were sent, with the header rules of headers.go.

// hopFields are the hop-by-hop fields (RFC 9110 §7.6.1 and the ones
// net/http's ReverseProxy adds), lowercase: they concern one connection
// and are never forwarded as they are, in either direction.
var hopFields = map[string]bool{
	"connection":          true,
	"proxy-connection":    true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"te":                  true,
	"trailer":             true,
	"transfer-encoding":   true,
	"upgrade":             true,
}

// lowerIn reports whether name, lowercased, is in set.
func lowerIn(set map[string]bool, name []byte) bool {
	var buf [keyMax]byte
	if len(name) > keyMax {
		return false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return set[string(buf[:len(name)])]
}

// equalFold reports whether a equals the lowercase s, ignoring ASCII case.
func equalFold(a []byte, s string) bool {
	if len(a) != len(s) {
		return false
	}
	for i, c := range a {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// eachToken calls f with every element of the comma-separated list v,
// without its surrounding whitespace, until f returns true; it reports
// whether f did.
func eachToken(v []byte, f func(tok []byte) bool) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		tok := v[:i]
		for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
			tok = tok[1:]
		}
		for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
			tok = tok[:len(tok)-1]
		}
		if len(tok) > 0 && f(tok) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}

// hasToken reports whether a field named name (lowercase) lists token
// (lowercase).
func hasToken(fields []http1.Field, name, token string) bool {
	for _, fl := range fields {
		if equalFold(fl.Name, name) && eachToken(fl.Value, func(t []byte) bool { return equalFold(t, token) }) {
			return true
		}
	}
	return false
}

// connection is what a head's Connection fields say, gathered in one
// pass over its fields: the connection's options (close, keep-alive,
// upgrade) and the names of the fields they make hop-by-hop. Every field
// of a head is checked against it, which a pass over the fields per field
// would make quadratic.
type connection struct {
	tokens [8][]byte // the tokens, in the head's buffer
	n      int
	over   bool          // more tokens than fit: look in fields
	fields []http1.Field // the head's fields
}

// connectionOf gathers the Connection fields of fields.
func connectionOf(fields []http1.Field) connection {
	c := connection{fields: fields}
	for _, fl := range fields {
		if !equalFold(fl.Name, "connection") {
			continue
		}
		eachToken(fl.Value, func(t []byte) bool {
			if c.n == len(c.tokens) {
				c.over = true
				return true
			}
			c.tokens[c.n] = t
			c.n++
			return false
		})
	}
	return c
}

// lists reports whether the Connection fields name the field name (in
// any case): such a field is hop-by-hop too.
func (c *connection) lists(name []byte) bool {
	if c.over {
		for _, fl := range c.fields {
			if equalFold(fl.Name, "connection") && eachToken(fl.Value, func(t []byte) bool { return equalFoldBytes(t, name) }) {
				return true
			}
		}
		return false
	}
	for _, t := range c.tokens[:c.n] {
		if equalFoldBytes(t, name) {
			return true
		}
	}
	return false
}

// has reports whether the Connection fields hold the option opt
// (lowercase: "close", "keep-alive", "upgrade").
func (c *connection) has(opt string) bool {
	if c.over {
		return hasToken(c.fields, "connection", opt)
	}
	for _, t := range c.tokens[:c.n] {
		if equalFold(t, opt) {
			return true
		}
	}
	return false
}

// keepsAlive reports whether a message of HTTP/1.minor with connection c
// lets its connection carry another: HTTP/1.1 unless it says close,
// HTTP/1.0 only if it says keep-alive. Requests and responses alike.
func keepsAlive(minor int, c *connection) bool {
	return minor == 1 && !c.has("close") || minor == 0 && c.has("keep-alive")
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// fieldValues appends the values of the fields named name (lowercase),
// joined with ", " as one list, to b; first reports whether b has none
// yet.
func fieldValues(b []byte, fields []http1.Field, name string) []byte {
	first := true
	for _, fl := range fields {
		if equalFold(fl.Name, name) {
			if !first {
				b = append(b, ", "...)
			}
			b = append(b, fl.Value...)
			first = false
		}
	}
	if !first {
		b = append(b, ", "...)
	}
	return b
}

// appendRequestHead appends the head of the request to the backend: the
// request line with the target as the client sent it (in origin form),
// Host as requestHost says, the client's fields in order without those
// roost owns or that are hop-by-hop (rewriteHeader's rules), then the
// fields roost sets and the framing of the body it sends.
func (ex *exchange) appendRequestHead(b []byte) []byte {
	h := ex.head
	b = append(b, h.Method...)
	b = append(b, ' ')
	b = append(b, ex.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, ex.host...)
	b = append(b, "\r\n"...)
	for _, fl := range h.Fields {
		if !ex.dropRequestField(fl.Name) {
			b = appendFieldBytes(b, fl.Name, fl.Value)
		}
	}
	b = ex.appendOwnedFields(b)
	if ex.teTrailers {
		b = append(b, "Te: trailers\r\n"...)
	}
	switch h.Framing {
	case http1.Length:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, h.ContentLength, 10)
		b = append(b, "\r\n"...)
	case http1.Chunked:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
		b = ex.appendTrailerNames(b)
	}
	if ex.upgrade != nil {
		b = append(b, "Connection: Upgrade\r\nUpgrade: "...)
		b = append(b, ex.upgrade...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// dropRequestField reports whether the client's field name stays from the
// backend: Host and the framing, which roost writes itself; hop-by-hop
// fields, those named in Connection among them; the fields roost owns and
// their underscore twins; HTTP2-Settings of an h2c upgrade.
func (ex *exchange) dropRequestField(name []byte) bool {
	return equalFold(name, "host") || equalFold(name, "content-length") ||
		lowerIn(hopFields, name) || owned(name) || twin(name) ||
		ex.h2c && equalFold(name, "http2-settings") ||
		ex.conn.lists(name)
}

// appendOwnedFields appends X-Forwarded-For, X-Forwarded-Proto,
// MS-ASPNETCORE-TOKEN and MS-ASPNETCORE-CLIENTCERT as rewriteHeader sets
// them.
func (ex *exchange) appendOwnedFields(b []byte) []byte {
	c := ex.client
	if c.ip != "" {
		b = append(b, "X-Forwarded-For: "...)
		if c.trusted {
			b = fieldValues(b, ex.head.Fields, "x-forwarded-for")
		}
		b = append(b, c.ip...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "X-Forwarded-Proto: "...)
	if c.trusted {
		b = fieldValues(b, ex.head.Fields, "x-forwarded-proto")
	}
	b = append(b, c.scheme...)
	b = append(b, "\r\n"...)
	if c.token != "" {
		b = appendField(b, "MS-ASPNETCORE-TOKEN", c.token)
	}
	if c.cert != nil {
		b = append(b, "MS-ASPNETCORE-CLIENTCERT: "...)
		b = base64.StdEncoding.AppendEncode(b, c.cert)
		b = append(b, "\r\n"...)
	}
	return b
}

// appendTrailerNames appends the Trailer field announcing the fields of
// the client's that may be trailers (see trailerAllowed), if any.
func (ex *exchange) appendTrailerNames(b []byte) []byte {
	start := len(b)
	for _, fl := range ex.head.Fields {
		if !equalFold(fl.Name, "trailer") {
			continue
		}
		eachToken(fl.Value, func(t []byte) bool {
			if trailerAllowed(t) {
				if len(b) == start {
					b = append(b, "Trailer: "...)
				} else {
					b = append(b, ", "...)
				}
				b = append(b, t...)
			}
			return false
		})
	}
	if len(b) > start {
		b = append(b, "\r\n"...)
	}
	return b
}

// appendResponseHead appends the head of the response to the client: the
// backend's status and reason, its fields in order without the hop-by-hop
// ones (an upgrade's Connection and Upgrade kept), Date when it sent
// none, and the framing and Connection fields of this connection.
func (ex *exchange) appendResponseHead(b []byte, res *http1.ResponseHead, rc *connection, chunked, closing bool) []byte {
	b = appendStatusLine(b, res.Status, res.Reason)
	upgrade := res.Status == http.StatusSwitchingProtocols
	date := false
	for _, fl := range res.Fields {
		switch {
		case upgrade && (equalFold(fl.Name, "connection") || equalFold(fl.Name, "upgrade")):
		case lowerIn(hopFields, fl.Name) || rc.lists(fl.Name) || equalFold(fl.Name, "x-roost-backend-connection"):
			if !(chunked && equalFold(fl.Name, "trailer")) {
				continue
			}
		case chunked && equalFold(fl.Name, "content-length"):
			continue
		}
		date = date || equalFold(fl.Name, "date")
		b = appendFieldBytes(b, fl.Name, fl.Value)
	}
	if !date {
		b = appendDate(b)
	}
	if chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if ex.f.cfg.ForwardResponseConnectionHeader && !upgrade {
		for _, fl := range res.Fields {
			if equalFold(fl.Name, "connection") {
				b = appendFieldBytes(b, fl.Name, fl.Value)
			}
		}
	}
	switch {
	case upgrade:
	case closing:
		b = append(b, "Connection: close\r\n"...)
	case ex.head.Minor == 0:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	return append(b, "\r\n"...)
}

// appendInterim appends a 1xx response head, with the backend's fields
// but the hop-by-hop ones.
func appendInterim(b []byte, res *http1.ResponseHead) []byte {
	b = appendStatusLine(b, res.Status, res.Reason)
	rc := connectionOf(res.Fields)
	for _, fl := range res.Fields {
		if !lowerIn(hopFields, fl.Name) && !rc.lists(fl.Name) {
			b = appendFieldBytes(b, fl.Name, fl.Value)
		}
	}
	return append(b, "\r\n"...)
}

// appendStatusLine appends an HTTP/1.1 status line, with the standard
// reason phrase when reason is empty.
func appendStatusLine(b []byte, status int, reason []byte) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	if len(reason) > 0 {
		b = append(b, reason...)
	} else {
		b = append(b, http.StatusText(status)...)
	}
	return append(b, "\r\n"...)
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func appendFieldBytes(b []byte, name, value []byte) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// dateLine is a Date field, made once a second.
type dateLine struct {
	sec  int64
	line []byte
}

var lastDate atomic.Pointer[dateLine]

// appendDate appends a Date field for now, as net/http's server adds one.
func appendDate(b []byte) []byte {
	now := time.Now()
	d := lastDate.Load()
	if d == nil || d.sec != now.Unix() {
		line := append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
		d = &dateLine{sec: now.Unix(), line: append(line, "\r\n"...)}
		lastDate.Store(d)
	}
	return append(b, d.line...)
}
