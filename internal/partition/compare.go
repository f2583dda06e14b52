package partition

import "bytes"

// CompareEPK compares two EPKs in hex, as the service orders them: by
// their bytes, where a shorter EPK equals a longer one that only adds
// zeros ("0A" equals "0A00") and is less than one that adds anything else.
// This is how hierarchical keys' EPKs of different lengths (one hash per
// level) compare with range bounds. "" is the least EPK; "FF" is above
// every EPK a key can have. Hex digits are compared regardless of case.
// It returns -1, 0 or +1. An EPK that is not hex compares as its valid
// prefix would.
func CompareEPK(a, b string) int {
	return compareEPK(decodeEPK(a), decodeEPK(b))
}

// compareEPK is CompareEPK on binary EPKs.
func compareEPK(a, b []byte) int {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	tail := a[n:]
	sign := 1
	if len(b) > len(a) {
		tail, sign = b[n:], -1
	}
	for _, c := range tail {
		if c != 0 {
			return sign
		}
	}
	return 0
}

// decodeEPK returns the bytes that the hex EPK s spells. An odd number of
// digits is completed with a 0, which under compareEPK's order changes
// nothing. It stops at the first character that is not a hex digit.
func decodeEPK(s string) []byte {
	b := make([]byte, (len(s)+1)/2)
	for i := 0; i < len(s); i++ {
		d, ok := unhex(s[i])
		if !ok {
			return b[:i/2]
		}
		if i%2 == 0 {
			d <<= 4
		}
		b[i/2] |= d
	}
	return b
}

// validEPK reports whether s is made of hex digits only.
func validEPK(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := unhex(s[i]); !ok {
			return false
		}
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// encodeEPK returns the upper-case hex of the binary EPK b.
func encodeEPK(b []byte) string {
	const digits = "0123456789ABCDEF"
	s := make([]byte, 2*len(b))
	for i, c := range b {
		s[2*i], s[2*i+1] = digits[c>>4], digits[c&0x0F]
	}
	return string(s)
}
