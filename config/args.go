package config

import "strings"

// SplitCommandLine splits a command line into words the way the Microsoft C
// runtime (and so .NET, Node, Python and Java on Windows) splits the
// arguments of its process, so that an arguments attribute means the same on
// Linux as under IIS:
//
//   - Words are separated by runs of spaces and tabs outside double quotes.
//   - A double quote starts or ends a quoted part; spaces and tabs inside it
//     belong to the word. Quoted and unquoted parts join into one word:
//     a"b c"d is the word "ab cd". An empty pair "" is an empty word.
//   - Inside a quoted part, "" is a literal " and the part goes on.
//   - 2n backslashes followed by " stand for n backslashes, and the quote
//     then starts or ends a quoted part; 2n+1 backslashes followed by "
//     stand for n backslashes and a literal ". Backslashes not followed by
//     " are literal: C:\dir\ stays as written.
//   - A quote left open runs to the end of the line.
//
// There is no other escaping, and no shell: %, $, *, ' and the like are
// ordinary characters.
func SplitCommandLine(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 1
			for i+n < len(s) && s[i+n] == '\\' {
				n++
			}
			inWord = true
			if i+n < len(s) && s[i+n] == '"' {
				w.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					w.WriteByte('"')
					i += n // consume the quote too
				} else {
					i += n - 1 // leave the quote for the next pass
				}
			} else {
				w.WriteString(strings.Repeat(`\`, n))
				i += n - 1
			}
		case c == '"':
			inWord = true
			if quoted && i+1 < len(s) && s[i+1] == '"' {
				w.WriteByte('"')
				i++
			} else {
				quoted = !quoted
			}
		case (c == ' ' || c == '\t') && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}
