package cosmostest

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/bits"
	"strings"
)

// Markers that prefix each partition key component in the bytes the
// service hashes (version 2 hash partitioning).
const (
	epkUndefined byte = 0x00
	epkNull      byte = 0x01
	epkFalse     byte = 0x02
	epkTrue      byte = 0x03
	epkNumber    byte = 0x05
	epkString    byte = 0x08
	epkStringEnd byte = 0xFF
)

// effectivePartitionKey returns the effective partition key (EPK) of a
// single-component partition key value under version 2 hash
// partitioning: 32 upper-case hex digits whose first byte is at most 0x3F.
// Clients such as azcosmos compute the same string to choose the partition
// key range of an item, so the account must agree with them bit for bit.
// v is a string, float64, bool, nil or undefinedPK.
func effectivePartitionKey(v any) string {
	var in []byte
	switch v := v.(type) {
	case string:
		in = append(append(append(in, epkString), v...), epkStringEnd)
	case float64:
		in = binary.LittleEndian.AppendUint64(append(in, epkNumber), math.Float64bits(v))
	case bool:
		in = append(in, epkFalse)
		if v {
			in[0] = epkTrue
		}
	case nil:
		in = append(in, epkNull)
	default: // undefinedPK
		in = append(in, epkUndefined)
	}
	lo, hi := murmur3x64_128(in)
	var out [16]byte
	binary.BigEndian.PutUint64(out[0:8], hi)
	binary.BigEndian.PutUint64(out[8:16], lo)
	out[0] &= 0x3F // the range space ends at "FF": hashes keep below 0x40
	return strings.ToUpper(hex.EncodeToString(out[:]))
}

// murmur3x64_128 is MurmurHash3's x64 128-bit variant with seed 0.
func murmur3x64_128(data []byte) (h1, h2 uint64) {
	const c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	n := len(data)
	for len(data) >= 16 {
		k1 := binary.LittleEndian.Uint64(data)
		k2 := binary.LittleEndian.Uint64(data[8:])
		data = data[16:]
		h1 ^= bits.RotateLeft64(k1*c1, 31) * c2
		h1 = (bits.RotateLeft64(h1, 27)+h2)*5 + 0x52dce729
		h2 ^= bits.RotateLeft64(k2*c2, 33) * c1
		h2 = (bits.RotateLeft64(h2, 31)+h1)*5 + 0x38495ab5
	}
	var tail [16]byte
	copy(tail[:], data)
	k1 := binary.LittleEndian.Uint64(tail[:8])
	k2 := binary.LittleEndian.Uint64(tail[8:])
	if len(data) > 8 {
		h2 ^= bits.RotateLeft64(k2*c2, 33) * c1
	}
	if len(data) > 0 {
		h1 ^= bits.RotateLeft64(k1*c1, 31) * c2
	}
	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1, h2 = fmix64(h1), fmix64(h2)
	h1 += h2
	h2 += h1
	return h1, h2
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
