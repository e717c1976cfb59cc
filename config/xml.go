package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// node is one XML element of a web.config, with the line of its start tag and
// of each attribute, so that every diagnostic can name the line it is about.
type node struct {
	name     string // local name, as written
	line     int
	attrs    []attr
	children []*node
}

type attr struct {
	name  string // as written, including any prefix ("xdt:Transform")
	value string
	line  int
	ns    bool // the attribute has a namespace prefix or is a namespace declaration
}

// lookup returns the attribute with the given name; IIS attribute names are
// case-sensitive, as are ours.
func (n *node) lookup(name string) (attr, bool) {
	for _, a := range n.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

// maxFileSize bounds what Parse reads. IIS refuses web.config files above
// 250 KB by default; 4 MiB leaves room for generous files and stops a
// mistaken path (a log, a binary) from being read whole.
const maxFileSize = 4 << 20

// readDocument decodes a web.config into a tree. Errors are *Diagnostic values
// that name the line (for malformed XML, the line the decoder stopped at).
func readDocument(r io.Reader, file string) (*node, error) {
	data, err := readUTF8(r, file)
	if err != nil {
		return nil, err
	}
	d := newDecoder(data)
	b := treeBuilder{file: file, data: data, lines: newLineIndex(data)}
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, b.malformed(err, line)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := b.open(t, start, d.InputOffset()); err != nil {
				return nil, err
			}
		case xml.EndElement:
			b.stack = b.stack[:len(b.stack)-1]
		}
	}
	if b.root == nil {
		return nil, &Diagnostic{File: file, Line: 1, Message: "no XML element found; want <configuration>"}
	}
	return b.root, nil
}

// readUTF8 reads a web.config of at most maxFileSize bytes and returns it
// as UTF-8.
func readUTF8(r io.Reader, file string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, &Diagnostic{File: file, Message: fmt.Sprintf("read: %v", err)}
	}
	if len(data) > maxFileSize {
		return nil, &Diagnostic{File: file, Message: fmt.Sprintf("file is larger than %d bytes; is this a web.config?", maxFileSize)}
	}
	data, err = toUTF8(data)
	if err != nil {
		return nil, &Diagnostic{File: file, Line: 1, Message: err.Error()}
	}
	return data, nil
}

// newDecoder returns an XML decoder of data, which readUTF8 has made UTF-8.
func newDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	// The bytes are UTF-8 by now, whatever the declaration says.
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii", "iso-8859-1", "latin1":
			return input, nil
		}
		return nil, encodingError(label)
	}
	return d
}

// treeBuilder builds the tree of a document from the decoder's tokens.
type treeBuilder struct {
	file  string
	data  []byte // the document, in UTF-8
	lines lineIndex
	root  *node
	stack []*node // the elements open, outermost first
}

// open adds the element t, whose start tag is data[start:end], to the
// tree: as the root, or as a child of the element it is in.
func (b *treeBuilder) open(t xml.StartElement, start, end int64) error {
	n, err := b.newNode(t, start, end)
	if err != nil {
		return err
	}
	if len(b.stack) == 0 {
		if b.root != nil {
			return &Diagnostic{File: b.file, Line: n.line, Message: "malformed XML: more than one root element"}
		}
		b.root = n
	} else {
		parent := b.stack[len(b.stack)-1]
		parent.children = append(parent.children, n)
	}
	b.stack = append(b.stack, n)
	return nil
}

// newNode returns the node of the element t, whose start tag is
// data[start:end], with the line of the tag and of each attribute. An
// attribute given twice is an error.
func (b *treeBuilder) newNode(t xml.StartElement, start, end int64) (*node, error) {
	n := &node{name: t.Name.Local, line: b.lines.at(start)}
	positions := attrOffsets(b.data[start:end])
	for _, a := range t.Attr {
		name := a.Name.Local
		isNS := a.Name.Space != "" || name == "xmlns"
		if a.Name.Space != "" && a.Name.Space != "xmlns" {
			name = a.Name.Space + ":" + a.Name.Local
		}
		line := n.line
		if off, ok := positions[a.Name.Local]; ok {
			line = b.lines.at(start + int64(off))
		}
		if _, dup := n.lookup(name); dup && !isNS {
			return nil, &Diagnostic{File: b.file, Line: line, Element: n.name, Attribute: name,
				Message: "malformed XML: attribute given twice"}
		}
		n.attrs = append(n.attrs, attr{name: name, value: a.Value, line: line, ns: isNS})
	}
	return n, nil
}

// malformed turns the decoder's error, met at line, into a Diagnostic that
// names the element still open.
func (b *treeBuilder) malformed(err error, line int) error {
	var ee encodingError
	if errors.As(err, &ee) {
		return &Diagnostic{File: b.file, Line: line, Message: ee.Error()}
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
		err = errors.New(se.Msg)
	}
	msg := "malformed XML: " + err.Error()
	if len(b.stack) > 0 {
		open := b.stack[len(b.stack)-1]
		msg += fmt.Sprintf(" (<%s> at line %d is still open)", open.name, open.line)
	}
	return &Diagnostic{File: b.file, Line: line, Message: msg}
}

// encodingError is an XML declaration naming an encoding roost cannot read.
type encodingError string

func (e encodingError) Error() string {
	return fmt.Sprintf("encoding %q is not supported (save the file as UTF-8)", string(e))
}

// attrOffsets returns the byte offset of each attribute name within the raw
// start tag tag ("<name a="1" b='2'>"), keyed by local name. The decoder has
// already checked the tag's syntax, so this scan only needs to find names.
func attrOffsets(tag []byte) map[string]int {
	offsets := make(map[string]int)
	i := 1 // past '<'
	for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++
	}
	for i < len(tag) {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			break
		}
		nameStart := i
		for i < len(tag) && tag[i] != '=' && !isXMLSpace(tag[i]) {
			i++
		}
		name := string(tag[nameStart:i])
		if colon := strings.IndexByte(name, ':'); colon >= 0 {
			name = name[colon+1:]
		}
		if _, seen := offsets[name]; !seen {
			offsets[name] = nameStart
		}
		for i < len(tag) && tag[i] != '"' && tag[i] != '\'' {
			i++
		}
		if i >= len(tag) {
			break
		}
		quote := tag[i]
		i++
		for i < len(tag) && tag[i] != quote {
			i++
		}
		i++
	}
	return offsets
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // offsets of the first byte of each line after the first

func newLineIndex(data []byte) lineIndex {
	var idx lineIndex
	for i, b := range data {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (idx lineIndex) at(offset int64) int {
	return sort.Search(len(idx), func(i int) bool { return int64(idx[i]) > offset }) + 1
}

// toUTF8 strips a byte-order mark and converts UTF-16 (which Windows tools
// sometimes write) and Latin-1 declared files to UTF-8.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return fromUTF16(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return fromUTF16(data[2:], true)
	}
	if utf8.Valid(data) {
		return data, nil
	}
	// Not UTF-8: honour a Latin-1 declaration, the only 8-bit one IIS files
	// use in practice. Anything else is an error that says how to fix it.
	head := strings.ToLower(string(data[:min(len(data), 100)]))
	if strings.Contains(head, "iso-8859-1") || strings.Contains(head, "latin1") {
		var b strings.Builder
		for _, c := range data {
			b.WriteRune(rune(c))
		}
		return []byte(b.String()), nil
	}
	return nil, errors.New("file is not valid UTF-8 (save it as UTF-8)")
}

func fromUTF16(data []byte, bigEndian bool) ([]byte, error) {
	if len(data)%2 != 0 {
		return nil, errors.New("file starts with a UTF-16 byte-order mark but has an odd length")
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	return []byte(string(utf16.Decode(units))), nil
}
