package http1

import (
	"bufio"
	"bytes"
	"io"
)

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxHeadBytes   = 64 << 10
	DefaultMaxFields      = 100
	DefaultMaxChunkExt    = 1 << 10
	DefaultMaxTrailerSize = 16 << 10
)

// Limits bounds what a parser accepts. A zero field takes its default.
type Limits struct {
	// MaxHeadBytes bounds a head: the request or status line, the field
	// lines and the empty line that ends them, CRLFs included. Default
	// 64 KiB.
	MaxHeadBytes int
	// MaxFields bounds the number of header fields, and separately of
	// trailer fields. Default 100.
	MaxFields int
	// MaxChunkExt bounds the chunk extensions of one chunk-size line,
	// in bytes. Default 1 KiB.
	MaxChunkExt int
	// MaxTrailerBytes bounds the trailer section of a chunked body, its
	// final CRLF included. Default 16 KiB.
	MaxTrailerBytes int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxHeadBytes, DefaultMaxHeadBytes)
	def(&l.MaxFields, DefaultMaxFields)
	def(&l.MaxChunkExt, DefaultMaxChunkExt)
	def(&l.MaxTrailerBytes, DefaultMaxTrailerSize)
	return l
}

// Field is one field line, name and value as raw bytes: the name as sent
// (not canonicalized), the value with its surrounding whitespace removed.
type Field struct {
	Name, Value []byte
}

// Framing is how the body of a request or a response is delimited.
type Framing uint8

const (
	// NoBody: neither Content-Length nor Transfer-Encoding; the request
	// has no body and the next request may follow at once.
	NoBody Framing = iota
	// Length: the body is exactly Head.ContentLength bytes (maybe 0).
	Length
	// Chunked: the body is chunked; read it with a ChunkedReader.
	Chunked
	// UntilClose: a response only, with neither Content-Length nor
	// Transfer-Encoding: the body is everything until the backend closes
	// the connection, which can carry nothing after it.
	UntilClose
)

// Head is a parsed request head. Its byte slices alias the parsed buffer:
// they are valid as long as that buffer is.
type Head struct {
	Method []byte
	Target []byte // byte-exact, as sent
	Minor  int    // 0 for HTTP/1.0, 1 for HTTP/1.1
	Fields []Field
	Host   []byte // the Host field's value; nil if absent (HTTP/1.0 only)

	Framing       Framing
	ContentLength int64 // with Length framing; -1 otherwise
}

// ParseRequestHead parses the request head at the start of b. It returns
// the head and the number of bytes it took, the empty line included. If b
// ends before the head does, it returns ErrIncomplete, unless b is already
// over the size limit. Any other error is an Error.
func ParseRequestHead(b []byte, lim Limits) (Head, int, error) {
	h := Head{Fields: make([]Field, 0, 16)}
	n, err := h.Parse(b, lim)
	return h, n, err
}

// Parse is ParseRequestHead into h, reusing the capacity of h.Fields: a
// connection that keeps one Head parses requests without allocating.
func (h *Head) Parse(b []byte, lim Limits) (int, error) {
	lim = lim.withDefaults()
	*h = Head{Fields: h.Fields[:0], ContentLength: -1}
	line, next, err := nextLine(b, 0, lim.MaxHeadBytes)
	if err != nil {
		return 0, err
	}
	if err := h.parseRequestLine(line); err != nil {
		return 0, err
	}
	var p fieldState
	h.Fields, next, err = parseFields(b, next, lim, h.Fields, func(f Field) error { return p.note(h, f) })
	if err != nil {
		return 0, err
	}
	return next, p.frame(h)
}

// parseFields parses the field lines of b from next up to and including
// the empty line that ends them, appending each field to fields once note
// has accepted it. It returns the fields and the index after the head.
func parseFields(b []byte, next int, lim Limits, fields []Field, note func(Field) error) ([]Field, int, error) {
	for {
		line, after, err := nextLine(b, next, lim.MaxHeadBytes)
		if err != nil {
			return fields, 0, err
		}
		next = after
		if len(line) == 0 {
			return fields, next, nil
		}
		if len(fields) == lim.MaxFields {
			return fields, 0, ErrTooManyFields
		}
		f, err := parseField(line)
		if err != nil {
			return fields, 0, err
		}
		if err := note(f); err != nil {
			return fields, 0, err
		}
		fields = append(fields, f)
	}
}

// nextLine returns the line of b starting at i, without its CRLF, and the
// index after the CRLF. The line must end before max.
func nextLine(b []byte, i, max int) (line []byte, next int, err error) {
	lf := bytes.IndexByte(b[i:], '\n')
	if lf < 0 {
		if len(b) >= max {
			return nil, 0, ErrHeadTooLarge
		}
		return nil, 0, ErrIncomplete
	}
	lf += i
	if lf >= max {
		return nil, 0, ErrHeadTooLarge
	}
	if lf == i || b[lf-1] != '\r' {
		return nil, 0, ErrBareLF
	}
	return b[i : lf-1], lf + 1, nil
}

// parseRequestLine parses method SP request-target SP HTTP-version.
func (h *Head) parseRequestLine(line []byte) error {
	m := tokenEnd(line, 0)
	if m == len(line) || line[m] != ' ' {
		if m < len(line) && line[m] == '\r' {
			return ErrBareCR
		}
		if m < len(line) && m > 0 {
			return ErrMethod
		}
		return ErrRequestLine
	}
	if m == 0 {
		return ErrRequestLine
	}
	t := m + 1
	end := t
	for end < len(line) && targetByte[line[end]] {
		end++
	}
	switch {
	case end == t || end == len(line) || line[end] != ' ':
		if end < len(line) && line[end] == '\r' {
			return ErrBareCR
		}
		return ErrRequestLine
	}
	h.Method, h.Target = line[:m], line[t:end]
	switch string(line[end+1:]) {
	case "HTTP/1.1":
		h.Minor = 1
	case "HTTP/1.0":
		h.Minor = 0
	default:
		if bytes.IndexByte(line[end+1:], '\r') >= 0 {
			return ErrBareCR
		}
		return ErrVersion
	}
	return checkTarget(h.Method, h.Target)
}

// checkTarget checks the form of the request target (RFC 9112 §3.2):
// origin-form, absolute-form, authority-form for CONNECT only, and
// asterisk-form for OPTIONS only. Its characters are checked by the
// caller; what they mean is not this package's business.
func checkTarget(method, t []byte) error {
	connect := string(method) == "CONNECT"
	switch {
	case connect:
		if t[0] == '/' || bytes.Contains(t, []byte("/")) || !hostChars(t) {
			return ErrTarget
		}
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		if string(method) != "OPTIONS" {
			return ErrTarget
		}
	default:
		// absolute-form: scheme ":" hier-part.
		if !('a' <= t[0]|0x20 && t[0]|0x20 <= 'z') {
			return ErrTarget
		}
		i := 1
		for i < len(t) && schemeByte[t[i]] {
			i++
		}
		if i == len(t) || t[i] != ':' {
			return ErrTarget
		}
	}
	return nil
}

// hostChars reports whether every byte of b may appear in a Host.
func hostChars(b []byte) bool {
	for _, c := range b {
		if !hostByte[c] {
			return false
		}
	}
	return true
}

// parseField parses one field line: name ":" OWS value OWS.
func parseField(line []byte) (Field, error) {
	if isWS(line[0]) {
		return Field{}, ErrObsFold
	}
	n := tokenEnd(line, 0)
	if n == len(line) || line[n] != ':' {
		if n < len(line) && isWS(line[n]) && bytes.IndexByte(line[n:], ':') >= 0 {
			return Field{}, ErrSpaceBeforeColon
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			return Field{}, ErrBareCR
		}
		return Field{}, ErrFieldName
	}
	if n == 0 {
		return Field{}, ErrEmptyFieldName
	}
	v := line[n+1:]
	for _, c := range v {
		if !valueByte[c] {
			if c == '\r' {
				return Field{}, ErrBareCR
			}
			return Field{}, ErrFieldValue
		}
	}
	return Field{Name: line[:n], Value: trimWS(v)}, nil
}

// framingFields gathers the fields that frame a body, in a request head or
// a response head, as they are parsed.
type framingFields struct {
	cl, te bool
}

// note checks one field for its framing meaning: at most one
// Content-Length, a decimal number, stored in length; at most one
// Transfer-Encoding, exactly chunked.
func (p *framingFields) note(f Field, length *int64) error {
	switch {
	case len(f.Name) == 14 && equalFold(f.Name, "content-length"):
		if p.cl {
			return ErrDuplicateCL
		}
		p.cl = true
		n, ok := parseDecimal(f.Value)
		if !ok {
			return ErrContentLength
		}
		*length = n
	case len(f.Name) == 17 && equalFold(f.Name, "transfer-encoding"):
		if p.te {
			return ErrDuplicateTE
		}
		p.te = true
		if !equalFold(f.Value, "chunked") {
			return ErrTECoding
		}
	}
	return nil
}

// fieldState gathers the framing fields of a request head, Host included,
// as they are parsed.
type fieldState struct {
	framingFields
	hosts int
}

// note checks one header field for its framing meaning.
func (p *fieldState) note(h *Head, f Field) error {
	if len(f.Name) == 4 && equalFold(f.Name, "host") {
		p.hosts++
		if p.hosts > 1 || !hostChars(f.Value) {
			return ErrHost
		}
		h.Host = f.Value
		return nil
	}
	return p.framingFields.note(f, &h.ContentLength)
}

// frame applies the rules that need the whole header section.
func (p *fieldState) frame(h *Head) error {
	switch {
	case p.te && h.Minor == 0:
		return ErrTEOnHTTP10
	case p.te && p.cl:
		return ErrCLAndTE
	case h.Minor == 1 && p.hosts == 0:
		return ErrHost
	case p.te:
		h.Framing = Chunked
	case p.cl:
		h.Framing = Length
	}
	return nil
}

// parseDecimal parses 1*DIGIT into an int64, refusing overflow.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		d := int64(c - '0')
		if c < '0' || c > '9' || n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ReadHead reads a request head from r into h, reusing h.Fields, and
// consumes it. r's buffer must hold a whole head: make it at least
// lim.MaxHeadBytes long (bufio.NewReaderSize), or heads over its size are
// refused as too large. h's slices alias r's buffer and are valid only
// until the next read from r: use or copy them before reading the body.
// At a clean end of input, before any byte of a head, it returns io.EOF;
// at an end inside a head, io.ErrUnexpectedEOF.
func ReadHead(r *bufio.Reader, h *Head, lim Limits) error {
	return readHead(r, lim, h.Parse)
}

// ReadHeadCopy is ReadHead, but h's slices point into a copy of the head
// made in dst (reused when large enough, and returned), so that they stay
// valid while more is read from r: a request's body, the next request.
func ReadHeadCopy(r *bufio.Reader, h *Head, lim Limits, dst []byte) ([]byte, error) {
	err := readHead(r, lim, func(b []byte, lim Limits) (int, error) {
		n, err := h.Parse(b, lim)
		if err == nil {
			dst = append(dst[:0], b[:n]...)
			h.rebase(b, dst)
		}
		return n, err
	})
	return dst, err
}

// rebase makes h's slices, which point into src, point at the same bytes
// of dst, a copy of src's start: a subslice's offset in src is what its
// capacity lacks of src's.
func (h *Head) rebase(src, dst []byte) {
	at := func(s []byte) []byte {
		if s == nil {
			return nil
		}
		i := cap(src) - cap(s)
		return dst[i : i+len(s)]
	}
	h.Method, h.Target, h.Host = at(h.Method), at(h.Target), at(h.Host)
	for i := range h.Fields {
		h.Fields[i] = Field{Name: at(h.Fields[i].Name), Value: at(h.Fields[i].Value)}
	}
}

// readHead reads a head from r with parse, which returns how many bytes
// the head took or ErrIncomplete, and consumes it.
func readHead(r *bufio.Reader, lim Limits, parse func([]byte, Limits) (int, error)) error {
	lim = lim.withDefaults()
	scanned := 0 // bytes already seen to hold no LF, or parsed
	for {
		_, err := r.Peek(scanned + 1)
		buf, _ := r.Peek(r.Buffered())
		if len(buf) > scanned && bytes.IndexByte(buf[scanned:], '\n') >= 0 || len(buf) >= lim.MaxHeadBytes {
			n, perr := parse(buf, lim)
			if perr == nil {
				_, err = r.Discard(n)
				return err
			}
			if perr != ErrIncomplete {
				return perr
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			return ErrHeadTooLarge
		case err == io.EOF && len(buf) > 0:
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		}
		scanned = len(buf)
	}
}
