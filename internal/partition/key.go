package partition

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Markers that start each partition key component in the bytes the service
// hashes and in the binary encoding of version 1 EPKs.
const (
	markerUndefined byte = 0x00
	markerNull      byte = 0x01
	markerFalse     byte = 0x02
	markerTrue      byte = 0x03
	markerNumber    byte = 0x05
	markerString    byte = 0x08
)

// MaxComponents is the most components a partition key header may have
// (the service allows three levels of hierarchical keys).
const MaxComponents = 8

// Errors of the header parser. They are values, so that a rejected header
// costs no allocation on the request path; EffectivePartitionKey wraps
// them in ErrKey.
var (
	errKeySyntax   = errors.New("the header is not a JSON array of strings, numbers, true, false, null and {}")
	errKeyTooLong  = errors.New("the header has more than 8 components")
	errKeyNumber   = errors.New("a number in the header is beyond float64")
	errKeyEncoding = errors.New("the header is not valid UTF-8")
)

// component is one value of a partition key: its marker, and its number or
// where its string (decoded, UTF-8) lies in the buffer that parseKey
// filled. Offsets rather than a slice keep the buffer on the caller's stack.
type component struct {
	marker   byte
	num      float64
	off, end int
}

// str returns c's string from buf, the buffer parseKey returned.
func (c *component) str(buf []byte) []byte { return buf[c.off:c.end] }

// key is a parsed partition key header: up to MaxComponents components.
type key struct {
	n     int
	comps [MaxComponents]component
}

// parseKey parses h, the x-ms-documentdb-partitionkey header value, into
// k. The header is a JSON array of strings, numbers, true, false, null and
// {} (an undefined value), with optional JSON white space; anything else,
// including invalid UTF-8, lone control characters in strings and numbers
// beyond float64, is an error. Decoded strings are appended to buf, which
// parseKey returns; k's strings are offsets into it. A header whose strings fit
// in buf's capacity is parsed without allocating. A \u escape of a lone
// surrogate decodes to U+FFFD, as encoding/json and the service's .NET
// code (through UTF-8) both do.
func parseKey(h string, k *key, buf []byte) ([]byte, error) {
	k.n = 0
	i := skipSpace(h, 0)
	if i == len(h) || h[i] != '[' {
		return buf, errKeySyntax
	}
	i = skipSpace(h, i+1)
	if i < len(h) && h[i] == ']' {
		i++
	} else {
		for {
			if k.n == MaxComponents {
				return buf, errKeyTooLong
			}
			var err error
			if i, buf, err = parseValue(h, i, &k.comps[k.n], buf); err != nil {
				return buf, err
			}
			k.n++
			if i = skipSpace(h, i); i == len(h) {
				return buf, errKeySyntax
			}
			if h[i] == ']' {
				i++
				break
			}
			if h[i] != ',' {
				return buf, errKeySyntax
			}
			i = skipSpace(h, i+1)
		}
	}
	if skipSpace(h, i) != len(h) {
		return buf, errKeySyntax
	}
	return buf, nil
}

func skipSpace(h string, i int) int {
	for i < len(h) && (h[i] == ' ' || h[i] == '\t' || h[i] == '\n' || h[i] == '\r') {
		i++
	}
	return i
}

// parseValue parses the value at h[i:] into c and returns where it ends.
func parseValue(h string, i int, c *component, buf []byte) (int, []byte, error) {
	*c = component{}
	if i == len(h) {
		return i, buf, errKeySyntax
	}
	switch b := h[i]; {
	case b == '"':
		start := len(buf)
		var err error
		if i, buf, err = parseString(h, i+1, buf); err != nil {
			return i, buf, err
		}
		c.marker, c.off, c.end = markerString, start, len(buf)
		return i, buf, nil
	case b == '-' || ('0' <= b && b <= '9'):
		end := scanNumber(h, i)
		if end < 0 {
			return i, buf, errKeySyntax
		}
		f, err := strconv.ParseFloat(h[i:end], 64)
		if err != nil {
			return i, buf, errKeyNumber
		}
		c.marker, c.num = markerNumber, f
		return end, buf, nil
	case b == '{':
		j := skipSpace(h, i+1)
		if j == len(h) || h[j] != '}' {
			return i, buf, errKeySyntax
		}
		c.marker = markerUndefined
		return j + 1, buf, nil
	}
	for _, lit := range [...]struct {
		word   string
		marker byte
	}{{"true", markerTrue}, {"false", markerFalse}, {"null", markerNull}} {
		if len(h)-i >= len(lit.word) && h[i:i+len(lit.word)] == lit.word {
			c.marker = lit.marker
			return i + len(lit.word), buf, nil
		}
	}
	return i, buf, errKeySyntax
}

// scanNumber returns where the JSON number at h[i:] ends, or -1 if h[i:]
// does not start with one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(h string, i int) int {
	if i < len(h) && h[i] == '-' {
		i++
	}
	switch {
	case i < len(h) && h[i] == '0':
		i++
	case i < len(h) && '1' <= h[i] && h[i] <= '9':
		i = digits(h, i)
	default:
		return -1
	}
	if i < len(h) && h[i] == '.' {
		j := digits(h, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(h) && (h[i] == 'e' || h[i] == 'E') {
		i++
		if i < len(h) && (h[i] == '+' || h[i] == '-') {
			i++
		}
		j := digits(h, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(h string, i int) int {
	for i < len(h) && '0' <= h[i] && h[i] <= '9' {
		i++
	}
	return i
}

// parseString decodes the JSON string whose opening quote precedes h[i:]
// onto buf and returns where it ends, after the closing quote.
func parseString(h string, i int, buf []byte) (int, []byte, error) {
	for {
		run := i
		for i < len(h) && h[i] >= 0x20 && h[i] != '"' && h[i] != '\\' && h[i] < utf8.RuneSelf {
			i++
		}
		buf = append(buf, h[run:i]...)
		if i == len(h) {
			return i, buf, errKeySyntax
		}
		switch b := h[i]; {
		case b == '"':
			return i + 1, buf, nil
		case b < 0x20:
			return i, buf, errKeySyntax
		case b >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(h[i:])
			if r == utf8.RuneError && size == 1 {
				return i, buf, errKeyEncoding
			}
			buf = append(buf, h[i:i+size]...)
			i += size
		default: // a backslash
			if i+1 == len(h) {
				return i, buf, errKeySyntax
			}
			i += 2
			switch h[i-1] {
			case '"', '\\', '/':
				buf = append(buf, h[i-1])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(h, i)
				if !ok {
					return i, buf, errKeySyntax
				}
				i += 4
				if 0xD800 <= r && r < 0xDC00 { // a high surrogate: a pair if a low one follows
					if lo, ok := hex4(h, i+2); ok && h[i] == '\\' && h[i+1] == 'u' && 0xDC00 <= lo && lo < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
						i += 6
					}
				}
				buf = utf8.AppendRune(buf, r) // a lone surrogate becomes U+FFFD
			default:
				return i, buf, errKeySyntax
			}
		}
	}
}

// hex4 reads the four hex digits at h[i:].
func hex4(h string, i int) (rune, bool) {
	if i < 0 || len(h)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(h[i : i+4]) {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
