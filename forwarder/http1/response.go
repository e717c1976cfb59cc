package http1

import "bufio"

// The reasons a response head is refused, beyond those it shares with a
// request head. Every one means the backend connection is discarded.
const (
	ErrStatusLine Error = "status line is not HTTP/1.x SP 3DIGIT SP reason"
	ErrStatus     Error = "status code is not 100 to 599"
	ErrReason     Error = "control character in the reason phrase"
)

// ResponseHead is a parsed response head. Its byte slices alias the
// parsed buffer: they are valid as long as that buffer is.
type ResponseHead struct {
	Minor  int // 0 for HTTP/1.0, 1 for HTTP/1.1
	Status int
	Reason []byte // as sent, possibly empty
	Fields []Field

	// Framing is how the body is delimited, given the request's method
	// and the status (RFC 9112 §6.3): NoBody, Length, Chunked or
	// UntilClose.
	Framing       Framing
	ContentLength int64 // with Length framing; -1 otherwise
}

// ParseResponseHead parses the response head at the start of b, sent in
// answer to a request with the given method. It returns the head and the
// number of bytes it took, the empty line included. If b ends before the
// head does, it returns ErrIncomplete, unless b is already over the size
// limit. Any other error is an Error.
func ParseResponseHead(b, method []byte, lim Limits) (ResponseHead, int, error) {
	h := ResponseHead{Fields: make([]Field, 0, 16)}
	n, err := h.Parse(b, method, lim)
	return h, n, err
}

// Parse is ParseResponseHead into h, reusing the capacity of h.Fields: a
// backend connection that keeps one ResponseHead parses without
// allocating.
func (h *ResponseHead) Parse(b, method []byte, lim Limits) (int, error) {
	lim = lim.withDefaults()
	*h = ResponseHead{Fields: h.Fields[:0], ContentLength: -1}
	line, next, err := nextLine(b, 0, lim.MaxHeadBytes)
	if err != nil {
		return 0, err
	}
	if err := h.parseStatusLine(line); err != nil {
		return 0, err
	}
	var p responseFields
	h.Fields, next, err = parseFields(b, next, lim, h.Fields, func(f Field) error { return p.note(h, f) })
	if err != nil {
		return 0, err
	}
	return next, p.frame(h, method)
}

// parseStatusLine parses HTTP-version SP status-code [ SP reason-phrase ].
func (h *ResponseHead) parseStatusLine(line []byte) error {
	const v = len("HTTP/1.x")
	if len(line) < v+1 || line[v] != ' ' {
		return badStatusLine(line)
	}
	switch string(line[:v]) {
	case "HTTP/1.1":
		h.Minor = 1
	case "HTTP/1.0":
		h.Minor = 0
	default:
		if string(line[:5]) == "HTTP/" {
			return ErrVersion
		}
		return badStatusLine(line)
	}
	s := line[v+1:]
	if len(s) < 3 || len(s) > 3 && s[3] != ' ' {
		return badStatusLine(line)
	}
	for _, c := range s[:3] {
		if c < '0' || c > '9' {
			return badStatusLine(line)
		}
	}
	h.Status = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	if h.Status < 100 || h.Status > 599 {
		return ErrStatus
	}
	if len(s) > 3 {
		h.Reason = s[4:]
	}
	for _, c := range h.Reason {
		if !valueByte[c] {
			if c == '\r' {
				return ErrBareCR
			}
			return ErrReason
		}
	}
	return nil
}

// badStatusLine names what is wrong with a malformed status line.
func badStatusLine(line []byte) error {
	for _, c := range line {
		if c == '\r' {
			return ErrBareCR
		}
	}
	return ErrStatusLine
}

// responseFields gathers the framing fields of a response head: the rules
// are a request's, without Host.
type responseFields struct {
	framingFields
}

// note checks one header field for its framing meaning.
func (p *responseFields) note(h *ResponseHead, f Field) error {
	return p.framingFields.note(f, &h.ContentLength)
}

// frame decides the body's framing (RFC 9112 §6.3) once the header
// section is whole. Content-Length and Transfer-Encoding are checked even
// where the status or the method means there is no body.
func (p *responseFields) frame(h *ResponseHead, method []byte) error {
	switch {
	case p.te && h.Minor == 0:
		return ErrTEOnHTTP10
	case p.te && p.cl:
		return ErrCLAndTE
	}
	noBody := string(method) == "HEAD" || h.Status < 200 || h.Status == 204 || h.Status == 304 ||
		string(method) == "CONNECT" && h.Status < 300
	switch {
	case noBody:
		h.Framing = NoBody
		h.ContentLength = -1
	case p.te:
		h.Framing = Chunked
	case p.cl:
		h.Framing = Length
	default:
		h.Framing = UntilClose
	}
	return nil
}

// ReadResponseHead reads a response head from r into h, reusing
// h.Fields, and consumes it; method is the request's. r's buffer must
// hold a whole head, as for ReadHead, and h's slices are valid only until
// the next read from r. At a clean end of input, before any byte of a
// head, it returns io.EOF; at an end inside a head, io.ErrUnexpectedEOF.
func ReadResponseHead(r *bufio.Reader, h *ResponseHead, method []byte, lim Limits) error {
	return readHead(r, lim, func(b []byte, lim Limits) (int, error) {
		return h.Parse(b, method, lim)
	})
}
