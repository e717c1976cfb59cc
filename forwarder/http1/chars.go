package http1

// Byte classes of RFC 9110 §5.6 and RFC 3986, as tables.
var (
	tokenByte  [256]bool // tchar
	valueByte  [256]bool // field-vchar, SP and HTAB
	targetByte [256]bool // any visible byte, obs-text included
	hostByte   [256]bool // reg-name, IP literal and port characters
	qdtextByte [256]bool // qdtext of a quoted-string
	schemeByte [256]bool // scheme characters after the first
)

func init() {
	for c := 0; c < 256; c++ {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		tokenByte[c] = alnum || c < 0x80 && contains("!#$%&'*+-.^_`|~", c)
		valueByte[c] = c == '\t' || c >= 0x20 && c != 0x7f
		targetByte[c] = c > 0x20 && c != 0x7f
		hostByte[c] = alnum || contains("-._~!$&'()*+,;=:[]%", c)
		qdtextByte[c] = c == '\t' || c == ' ' || c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e || c >= 0x80
		schemeByte[c] = alnum || contains("+-.", c)
	}
}

func contains(set string, c int) bool {
	for i := 0; i < len(set); i++ {
		if int(set[i]) == c {
			return true
		}
	}
	return false
}

// isWS reports whether c is optional whitespace: SP or HTAB.
func isWS(c byte) bool { return c == ' ' || c == '\t' }

// trimWS removes OWS from both ends of b.
func trimWS(b []byte) []byte {
	for len(b) > 0 && isWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII word s, ignoring
// the case of b.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// tokenEnd returns the index of the first byte of b at or after i that is
// not a tchar.
func tokenEnd(b []byte, i int) int {
	for i < len(b) && tokenByte[b[i]] {
		i++
	}
	return i
}
