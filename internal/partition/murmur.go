package partition

import (
	"encoding/binary"
	"math/bits"
)

// murmur32 is MurmurHash3's x86 32-bit variant with seed 0, the hash of
// partition key definition version 1.
func murmur32(data []byte) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	var h uint32
	n := len(data)
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		data = data[4:]
		h ^= bits.RotateLeft32(k*c1, 15) * c2
		h = bits.RotateLeft32(h, 13)*5 + 0xe6546b64
	}
	var k uint32
	switch len(data) {
	case 3:
		k |= uint32(data[2]) << 16
		fallthrough
	case 2:
		k |= uint32(data[1]) << 8
		fallthrough
	case 1:
		k |= uint32(data[0])
		h ^= bits.RotateLeft32(k*c1, 15) * c2
	}
	h ^= uint32(n)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// murmur128 is MurmurHash3's x64 128-bit variant with seed 0, the hash of
// version 2 and of hierarchical keys. It returns the two 64-bit halves in
// the algorithm's order.
func murmur128(data []byte) (h1, h2 uint64) {
	const c1, c2 = murmurC1, murmurC2
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
	return murmurEnd(h1, h2, binary.LittleEndian.Uint64(tail[:]), binary.LittleEndian.Uint64(tail[8:]), n)
}

// maxShortString is the longest string murmurShortString hashes: with its
// marker and end it fits in one partial block.
const maxShortString = 13

// murmurShortString is murmur128 of a string of at most maxShortString
// bytes as version 2 hashes it (the string marker, its bytes, 0xFF),
// built in registers rather than in a buffer: a third of the cost for
// the short keys most containers have.
func murmurShortString(s string) (h1, h2 uint64) {
	k1, k2 := uint64(markerString), uint64(0)
	for i := 0; i < len(s); i++ {
		if p := uint(i + 1); p < 8 {
			k1 |= uint64(s[i]) << (8 * p)
		} else {
			k2 |= uint64(s[i]) << (8 * (p - 8))
		}
	}
	if p := uint(len(s) + 1); p < 8 {
		k1 |= 0xFF << (8 * p)
	} else {
		k2 |= 0xFF << (8 * (p - 8))
	}
	return murmurEnd(0, 0, k1, k2, len(s)+2)
}

const murmurC1, murmurC2 = 0x87c37b91114253d5, 0x4cf5ad432745937f

// murmurEnd mixes the last, partial block of n bytes of input (k1, k2: its
// bytes, zero-padded, little-endian; nothing if n is a multiple of 16) into
// the state and finishes the hash.
func murmurEnd(h1, h2, k1, k2 uint64, n int) (uint64, uint64) {
	if n%16 > 8 {
		h2 ^= bits.RotateLeft64(k2*murmurC2, 33) * murmurC1
	}
	if n%16 > 0 {
		h1 ^= bits.RotateLeft64(k1*murmurC1, 31) * murmurC2
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
