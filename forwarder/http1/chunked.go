package http1

import (
	"bufio"
	"bytes"
	"io"
)

// ChunkedReader reads a chunked body (RFC 9112 §7.1) from a bufio.Reader,
// returning the chunk data. After the last chunk and the trailer section
// it returns io.EOF and Trailer holds the trailer fields. A malformed body
// makes it return an Error; an input ending early, io.ErrUnexpectedEOF.
// Errors are sticky. It reads nothing past the body's final CRLF, so the
// next pipelined request is left in the bufio.Reader.
type ChunkedReader struct {
	r       *bufio.Reader
	lim     Limits
	left    int64 // data bytes left in the current chunk
	state   chunkState
	err     error
	trailer []Field
}

type chunkState uint8

const (
	chunkSize    chunkState = iota // at a chunk-size line
	chunkData                      // inside chunk data
	chunkDataEnd                   // at the CRLF after chunk data
	chunkTrailer                   // at the trailer section
)

// NewChunkedReader returns a reader of the chunked body at r.
func NewChunkedReader(r *bufio.Reader, lim Limits) *ChunkedReader {
	return &ChunkedReader{r: r, lim: lim.withDefaults()}
}

// Reset makes c read a new chunked body from r, as NewChunkedReader
// does, so that a connection reuses one ChunkedReader.
func (c *ChunkedReader) Reset(r *bufio.Reader, lim Limits) {
	*c = ChunkedReader{r: r, lim: lim.withDefaults()}
}

// Trailer returns the trailer fields, in order, once Read has returned
// io.EOF. They are copies, owned by the caller.
func (c *ChunkedReader) Trailer() []Field { return c.trailer }

// Read reads chunk data into p.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	for c.err == nil {
		switch c.state {
		case chunkSize:
			c.err = c.readSize()
		case chunkData:
			if len(p) == 0 {
				return 0, nil
			}
			if int64(len(p)) > c.left {
				p = p[:c.left]
			}
			n, err := c.r.Read(p)
			c.left -= int64(n)
			if c.left == 0 {
				c.state = chunkDataEnd
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.err = err
			if n > 0 {
				return n, nil
			}
		case chunkDataEnd:
			c.err = c.readDataEnd()
		case chunkTrailer:
			c.err = c.readTrailer()
		}
	}
	return 0, c.err
}

// readLine reads one line ending in CRLF and returns it without the CRLF.
// A line longer than max or than r's buffer is refused with tooLong.
func (c *ChunkedReader) readLine(max int, tooLong error) ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(line) > max || err != nil && len(line) >= max:
		// A line without its LF, max bytes long already, is too long
		// whether the input ends there or not.
		return nil, tooLong
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	case len(line) < 2 || line[len(line)-2] != '\r':
		return nil, ErrBareLF
	}
	return line[:len(line)-2], nil
}

// readSize reads a chunk-size line: chunk-size [ chunk-ext ] CRLF.
func (c *ChunkedReader) readSize() error {
	// 16 hex digits hold any int64; leading zeros beyond them are refused.
	line, err := c.readLine(16+c.lim.MaxChunkExt+2, ErrChunkExtTooLong)
	if err != nil {
		return err
	}
	var size int64
	i := 0
	for ; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			break
		}
		if size > (1<<63-1)>>4 {
			return ErrChunkSize
		}
		size = size<<4 | int64(d)
	}
	if i == 0 || i > 16 {
		return ErrChunkSize
	}
	if err := checkChunkExt(line[i:], c.lim.MaxChunkExt); err != nil {
		return err
	}
	c.left = size
	c.state = chunkData
	if size == 0 {
		c.state = chunkTrailer
	}
	return nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// checkChunkExt checks chunk extensions:
// *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), where ext-val is a
// token or a quoted-string. Anything else after the size is junk.
func checkChunkExt(s []byte, max int) error {
	if len(s) > max {
		return ErrChunkExtTooLong
	}
	skip := func(i int) int {
		for i < len(s) && isWS(s[i]) {
			i++
		}
		return i
	}
	for i := 0; i < len(s); {
		i = skip(i)
		if i == len(s) || s[i] != ';' {
			return chunkJunk(s)
		}
		i = skip(i + 1)
		j := tokenEnd(s, i)
		if j == i {
			return chunkJunk(s)
		}
		i = j
		if k := skip(i); k < len(s) && s[k] == '=' {
			i = skip(k + 1)
			if i < len(s) && s[i] == '"' {
				j = quotedEnd(s, i)
			} else {
				j = tokenEnd(s, i)
			}
			if j <= i {
				return chunkJunk(s)
			}
			i = j
		}
	}
	return nil
}

// chunkJunk names what is wrong with a chunk-size line's tail.
func chunkJunk(s []byte) error {
	if bytes.IndexByte(s, '\r') >= 0 {
		return ErrBareCR
	}
	if len(s) > 0 && !isWS(s[0]) && s[0] != ';' {
		return ErrChunkSize
	}
	return ErrChunkExt
}

// quotedEnd returns the index after the quoted-string starting at s[i],
// or -1 if it is malformed.
func quotedEnd(s []byte, i int) int {
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i == len(s) || !valueByte[s[i]] {
				return -1
			}
		case !qdtextByte[c]:
			return -1
		}
	}
	return -1
}

// readDataEnd reads the CRLF that ends chunk data.
func (c *ChunkedReader) readDataEnd() error {
	b, err := c.r.Peek(2)
	if len(b) < 2 {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if b, _ := c.r.Peek(1); len(b) == 1 && b[0] != '\r' {
			return ErrChunkDataEnd
		}
		return err
	}
	if b[0] != '\r' || b[1] != '\n' {
		return ErrChunkDataEnd
	}
	c.r.Discard(2)
	c.state = chunkSize
	return nil
}

// readTrailer reads the trailer section, with the header field rules, and
// ends the body with io.EOF.
func (c *ChunkedReader) readTrailer() error {
	var buf []byte
	var ends []int // name end, value start, value end, per field
	total := 0
	for {
		line, err := c.readLine(c.lim.MaxTrailerBytes-total, ErrHeadTooLarge)
		if err != nil {
			return err
		}
		total += len(line) + 2
		if len(line) == 0 {
			break
		}
		if len(ends)/3 == c.lim.MaxFields {
			return ErrTooManyFields
		}
		f, err := parseField(line)
		if err != nil {
			return err
		}
		buf = append(buf, f.Name...)
		ends = append(ends, len(buf))
		buf = append(buf, f.Value...)
		ends = append(ends, len(buf)-len(f.Value), len(buf))
	}
	for i := 0; i < len(ends); i += 3 {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		c.trailer = append(c.trailer, Field{Name: buf[start:ends[i]:ends[i]], Value: buf[ends[i+1]:ends[i+2]:ends[i+2]]})
	}
	return io.EOF
}
