package partition

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Kind is how a container partitions its items: by the hash of one key
// (Hash) or by a hash per level of a hierarchical key (MultiHash).
type Kind uint8

// The kinds of partitioning the cache routes. Range partitioning (legacy)
// is not supported.
const (
	Hash Kind = iota + 1
	MultiHash
)

func (k Kind) String() string {
	switch k {
	case Hash:
		return "Hash"
	case MultiHash:
		return "MultiHash"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// A Definition is a container's partition key definition, the
// "partitionKey" property of its document: the key's paths, one per level,
// its kind and its hash version. The zero Definition is invalid.
type Definition struct {
	// Paths are the JSON paths of the key's components, such as "/tenant".
	Paths []string
	// Kind is Hash or MultiHash.
	Kind Kind
	// Version is 1 or 2 for Hash. MultiHash keys are hashed by version 2
	// whatever Version says, as the service does.
	Version int
}

// Errors that EffectivePartitionKey and the cache return; callers branch on
// them with errors.Is.
var (
	// ErrDefinition is a partition key definition the package cannot use.
	ErrDefinition = errors.New("partition: unusable partition key definition")
	// ErrKey is a partition key header that is not valid for the definition.
	ErrKey = errors.New("partition: invalid partition key")
)

// check reports why d cannot be used, or nil.
func (d *Definition) check() error {
	switch {
	case d.Kind != Hash && d.Kind != MultiHash:
		return fmt.Errorf("%w: kind %v", ErrDefinition, d.Kind)
	case len(d.Paths) == 0 || len(d.Paths) > MaxComponents:
		return fmt.Errorf("%w: %d paths", ErrDefinition, len(d.Paths))
	case d.Kind == Hash && len(d.Paths) != 1:
		return fmt.Errorf("%w: kind Hash with %d paths", ErrDefinition, len(d.Paths))
	case d.Kind == Hash && d.Version != 1 && d.Version != 2:
		return fmt.Errorf("%w: version %d", ErrDefinition, d.Version)
	}
	return nil
}

// EffectivePartitionKey returns the effective partition key (EPK) of a
// partition key header value (x-ms-documentdb-partitionkey, such as
// ["eu"]) under def, as the service computes it: upper-case hex, the form
// of the minInclusive and maxExclusive bounds of the pkranges feed.
// complete is false when the header names fewer components than def has
// paths (a prefix of a hierarchical key, or the empty key []): such a key
// covers every EPK from epk (inclusive) to PrefixEnd(epk) (exclusive), and
// may span several ranges. Errors wrap ErrDefinition or ErrKey.
//
// Version 1 hashes MurmurHash3 x86 32-bit over the components, each
// string cut to its first 100 UTF-16 code units, and the EPK is the
// order-preserving binary encoding of the hash (as a number) followed by
// the components. Version 2 hashes MurmurHash3 x64 128-bit over all
// components and MultiHash each component alone; each 128-bit hash is
// written big-endian with its two top bits cleared, so that every EPK
// stays below "FF", the end of the key space.
func EffectivePartitionKey(def Definition, header string) (epk string, complete bool, err error) {
	if err := def.check(); err != nil {
		return "", false, err
	}
	var k key
	buf, err := parseKey(header, &k, nil)
	if err != nil {
		return "", false, fmt.Errorf("%w: %w", ErrKey, err)
	}
	b, complete, err := appendEPK(nil, &def, &k, buf)
	if err != nil {
		return "", false, err
	}
	return encodeEPK(b), complete, nil
}

// PrefixEnd returns the exclusive end of the EPK range that an incomplete
// key whose EPK is epk covers (see EffectivePartitionKey): epk + "FF".
func PrefixEnd(epk string) string { return epk + "FF" }

var errTooManyComponents = fmt.Errorf("%w: more components than the definition has paths", ErrKey)

// appendEPK appends k's EPK under d, in binary (the bytes that the hex EPK
// spells), to dst and reports whether k names every path of d. buf holds
// k's strings (see parseKey). d must have passed check. It does not
// allocate when dst has room and the key's hashed bytes fit in 256.
func appendEPK(dst []byte, d *Definition, k *key, buf []byte) ([]byte, bool, error) {
	if k.n > len(d.Paths) {
		return dst, false, errTooManyComponents
	}
	complete := k.n == len(d.Paths)
	if k.n == 0 {
		return dst, complete, nil // the empty key: the minimum EPK, ""
	}
	comps := k.comps[:k.n]
	switch {
	case d.Kind == MultiHash:
		for i := range comps {
			var in [256]byte
			dst = appendHash128(dst, appendHashing(in[:0], &comps[i], buf, 0xFF))
		}
	case d.Version == 2:
		var in [256]byte
		b := in[:0]
		for i := range comps {
			b = appendHashing(b, &comps[i], buf, 0xFF)
		}
		dst = appendHash128(dst, b)
	default:
		dst = appendEPKv1(dst, comps, buf)
	}
	return dst, complete, nil
}

// appendHashing appends c as the hash functions read it: its marker, then
// a number's IEEE 754 bits little-endian, or a string's UTF-8 bytes and
// end (0x00 in version 1, 0xFF in version 2). buf holds c's string.
func appendHashing(b []byte, c *component, buf []byte, end byte) []byte {
	switch c.marker {
	case markerNumber:
		b = binary.LittleEndian.AppendUint64(append(b, markerNumber), math.Float64bits(c.num))
	case markerString:
		b = appendString(b, c.str(buf), end)
	default:
		b = append(b, c.marker)
	}
	return b
}

// appendString appends a string as the hash functions read it.
func appendString(b, s []byte, end byte) []byte {
	return append(append(append(b, markerString), s...), end)
}

// appendHash128 appends the version 2 hash of in: MurmurHash3 x64 128-bit,
// big-endian, with the two top bits cleared.
func appendHash128(dst, in []byte) []byte {
	h1, h2 := murmur128(in)
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, h2)
	dst = binary.BigEndian.AppendUint64(dst, h1)
	dst[start] &= 0x3F
	return dst
}

// v1 limits: strings are cut to maxStringUnits UTF-16 code units before
// hashing, and the binary encoding writes at most maxStringBytes of them
// with their end, or one byte more without it.
const (
	maxStringUnits = 100
	maxStringBytes = 100
)

// appendEPKv1 appends the version 1 EPK of comps, whose strings are in buf.
func appendEPKv1(dst []byte, comps []component, buf []byte) []byte {
	var cut [MaxComponents][]byte
	var in [256]byte
	b := in[:0]
	for i := range comps {
		if c := &comps[i]; c.marker == markerString {
			cut[i] = truncateUTF16(c.str(buf))
			b = appendString(b, cut[i], 0x00)
		} else {
			b = appendHashing(b, c, buf, 0x00)
		}
	}
	dst = appendNumberV1(dst, float64(murmur32(b)))
	for i := range comps {
		switch c := &comps[i]; c.marker {
		case markerNumber:
			dst = appendNumberV1(dst, c.num)
		case markerString:
			s := cut[i]
			dst = append(dst, markerString)
			short := len(s) <= maxStringBytes
			if !short {
				s = s[:maxStringBytes+1]
			}
			for _, ch := range s {
				if ch < 0xFF {
					ch++
				}
				dst = append(dst, ch)
			}
			if short {
				dst = append(dst, 0x00)
			}
		default:
			dst = append(dst, c.marker)
		}
	}
	return dst
}

// appendPlainV1 is appendEPKv1 for one string of at most 100 bytes of
// ASCII (which no cut shortens), without a parsed key.
func appendPlainV1(dst []byte, s string) []byte {
	var in [maxStringBytes + 2]byte
	dst = appendNumberV1(dst, float64(murmur32(append(append(append(in[:0], markerString), s...), 0x00))))
	dst = append(dst, markerString)
	for i := 0; i < len(s); i++ {
		dst = append(dst, s[i]+1)
	}
	return append(dst, 0x00)
}

// truncateUTF16 cuts s, UTF-8, to its first 100 UTF-16 code units, as the
// .NET and Java SDKs cut a string (Substring(0, 100)) before hashing it
// for version 1. When the cut falls inside a surrogate pair, the lone high
// surrogate left encodes in UTF-8 as U+FFFD, as .NET encodes it.
func truncateUTF16(s []byte) []byte {
	units := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > maxStringUnits {
			if units < maxStringUnits { // half of a pair fits
				return append(s[:i:i], "\uFFFD"...)
			}
			return s[:i]
		}
		units += w
		i += size
	}
	return s
}

// appendNumberV1 appends f in version 1's order-preserving binary encoding:
// the number marker; the IEEE 754 bits with the sign bit flipped (positive
// numbers) or negated (negative ones), so that they sort as unsigned
// integers; their first byte whole, then seven bits a byte, each byte's low
// bit set except the last's, until the rest is zero.
func appendNumberV1(dst []byte, f float64) []byte {
	dst = append(dst, markerNumber)
	u := math.Float64bits(f)
	if u < 1<<63 {
		u ^= 1 << 63
	} else {
		u = -u
	}
	dst = append(dst, byte(u>>56))
	u <<= 8
	for {
		b := byte(u>>56) | 1
		u <<= 7
		if u == 0 {
			return append(dst, b&^1)
		}
		dst = append(dst, b)
	}
}
