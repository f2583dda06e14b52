package partition

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A Range is a partition key range of a container, as the pkranges feed
// describes it: its id, the EPKs it holds (from Min, inclusive, to Max,
// exclusive, in hex) and, after a split or merge, the ids of the ranges
// it replaced.
type Range struct {
	ID       string
	Min, Max string
	Parents  []string
}

// ErrRanges is a pkranges feed that does not describe a container's key
// space: unreadable, with gaps or overlaps, or not covering "" to "FF".
var ErrRanges = errors.New("partition: invalid partition key ranges")

// Bounds on what a feed may hold, so that a hostile one cannot make the
// cache keep unbounded memory.
const (
	maxRanges   = 1 << 20 // ranges in a container
	maxEPKLen   = 256     // hex digits of a bound
	maxRangeID  = 128     // bytes of a range id
	maxParentID = 64      // parents of a range
)

// ParseRanges reads the ranges of a pkranges feed page
// (GET /dbs/{db}/colls/{coll}/pkranges), {"PartitionKeyRanges": [{"id":
// "0", "minInclusive": "", "maxExclusive": "FF", "parents": []}, ...]}.
// Decoding is tolerant: unknown properties are ignored and names match
// regardless of case; the list itself must be present. Errors wrap
// ErrRanges. A feed of several pages is the concatenation of their ranges.
func ParseRanges(page []byte) ([]Range, error) {
	var feed struct {
		PartitionKeyRanges *[]struct {
			ID           string
			MinInclusive string
			MaxExclusive string
			Parents      []string
		}
	}
	if err := json.Unmarshal(page, &feed); err != nil {
		return nil, fmt.Errorf("%w: reading the feed: %w", ErrRanges, err)
	}
	if feed.PartitionKeyRanges == nil {
		return nil, fmt.Errorf("%w: the feed has no PartitionKeyRanges", ErrRanges)
	}
	list := *feed.PartitionKeyRanges
	if len(list) > maxRanges {
		return nil, fmt.Errorf("%w: %d ranges, more than %d", ErrRanges, len(list), maxRanges)
	}
	out := make([]Range, len(list))
	for i, r := range list {
		out[i] = Range{ID: r.ID, Min: r.MinInclusive, Max: r.MaxExclusive, Parents: r.Parents}
	}
	return out, nil
}

// A RangeMap is a container's partition key ranges, sorted, to find the
// range of an EPK by binary search. It keeps the ranges packed: the first
// 8 bytes of each range's upper bound as an integer, which decides almost
// every comparison of the search, the rest of the bound (without trailing
// zero bytes) in one array, and the ids in one string: for version 2
// bounds, about 29 bytes a range. A RangeMap is immutable and safe for
// concurrent use.
type RangeMap struct {
	heads  []uint64 // heads[i] is range i's Max's first 8 bytes, big-endian, zero-padded
	tails  []byte   // each range's Max after its first 8 bytes, trailing zeros removed, in order
	ends   []uint32 // ends[i] is where range i's tail ends in tails
	ids    string   // the ranges' ids, in order
	idEnds []uint32 // idEnds[i] is where range i's id ends in ids
}

// NewRangeMap checks ranges and returns them as a RangeMap. A range that
// another range names among its parents is dropped first (a feed read
// incrementally lists a split range beside its children). The rest must
// tile the key space: ids unique and non-empty, bounds hex, each range
// non-empty, no gap and no overlap between consecutive ranges (compared as
// CompareEPK does), the first starting at "" and the last ending at "FF".
// Errors wrap ErrRanges and name the first fault found.
func NewRangeMap(ranges []Range) (*RangeMap, error) {
	if len(ranges) > maxRanges {
		return nil, fmt.Errorf("%w: %d ranges, more than %d", ErrRanges, len(ranges), maxRanges)
	}
	gone := map[string]bool{}
	for _, r := range ranges {
		if len(r.Parents) > maxParentID {
			return nil, fmt.Errorf("%w: range %.20q has %d parents", ErrRanges, r.ID, len(r.Parents))
		}
		for _, p := range r.Parents {
			gone[p] = true
		}
	}
	type rng struct {
		id       string
		min, max []byte
	}
	live := make([]rng, 0, len(ranges))
	seen := make(map[string]bool, len(ranges))
	for _, r := range ranges {
		if gone[r.ID] {
			continue
		}
		switch {
		case r.ID == "" || len(r.ID) > maxRangeID:
			return nil, fmt.Errorf("%w: a range id of %d bytes", ErrRanges, len(r.ID))
		case seen[r.ID]:
			return nil, fmt.Errorf("%w: range %.20q appears twice", ErrRanges, r.ID)
		case len(r.Min) > maxEPKLen || len(r.Max) > maxEPKLen || !validEPK(r.Min) || !validEPK(r.Max):
			return nil, fmt.Errorf("%w: range %.20q has bounds %.40q and %.40q, not hex EPKs", ErrRanges, r.ID, r.Min, r.Max)
		}
		seen[r.ID] = true
		x := rng{id: r.ID, min: decodeEPK(r.Min), max: decodeEPK(r.Max)}
		if compareEPK(x.min, x.max) >= 0 {
			return nil, fmt.Errorf("%w: range %.20q is empty, from %.40q to %.40q", ErrRanges, r.ID, r.Min, r.Max)
		}
		live = append(live, x)
	}
	if len(live) == 0 {
		return nil, fmt.Errorf("%w: no ranges", ErrRanges)
	}
	slices.SortFunc(live, func(a, b rng) int { return compareEPK(a.min, b.min) })
	if compareEPK(live[0].min, nil) != 0 {
		return nil, fmt.Errorf("%w: the first range, %.20q, starts at %s, not at \"\"", ErrRanges, live[0].id, encodeEPK(live[0].min))
	}
	if last := live[len(live)-1]; compareEPK(last.max, []byte{0xFF}) != 0 {
		return nil, fmt.Errorf("%w: the last range, %.20q, ends at %.40s, not at FF", ErrRanges, last.id, encodeEPK(last.max))
	}
	size, idSize := 0, 0
	for i, r := range live {
		if i > 0 {
			switch prev := live[i-1]; compareEPK(prev.max, r.min) {
			case -1:
				return nil, fmt.Errorf("%w: a gap from %.40s to %.40s between ranges %.20q and %.20q", ErrRanges, encodeEPK(prev.max), encodeEPK(r.min), prev.id, r.id)
			case 1:
				return nil, fmt.Errorf("%w: ranges %.20q and %.20q overlap from %.40s", ErrRanges, prev.id, r.id, encodeEPK(r.min))
			}
		}
		_, tail := splitEPK(r.max)
		size += len(tail)
		idSize += len(r.id)
	}
	m := &RangeMap{
		heads:  make([]uint64, len(live)),
		tails:  make([]byte, 0, size),
		ends:   make([]uint32, len(live)),
		idEnds: make([]uint32, len(live)),
	}
	var ids strings.Builder
	ids.Grow(idSize)
	for i, r := range live {
		head, tail := splitEPK(r.max)
		m.heads[i] = head
		m.tails = append(m.tails, tail...)
		m.ends[i] = uint32(len(m.tails))
		ids.WriteString(r.id)
		m.idEnds[i] = uint32(ids.Len())
	}
	m.ids = ids.String()
	return m, nil
}

// splitEPK splits a binary EPK into its first 8 bytes, zero-padded, as an
// integer, and the rest without its trailing zero bytes. Under
// compareEPK's order, EPKs compare as their heads do, then as their tails.
func splitEPK(epk []byte) (head uint64, tail []byte) {
	var b [8]byte
	n := copy(b[:], epk)
	tail = epk[n:]
	for len(tail) > 0 && tail[len(tail)-1] == 0 {
		tail = tail[:len(tail)-1]
	}
	return binary.BigEndian.Uint64(b[:]), tail
}

// Len returns the number of ranges.
func (m *RangeMap) Len() int { return len(m.heads) }

// At returns range i, 0 <= i < Len(), in order of EPK, without its
// parents, its bounds in a canonical form: upper-case hex without trailing
// zero bytes (which CompareEPK ignores).
func (m *RangeMap) At(i int) Range {
	var lo []byte
	if i > 0 {
		lo = m.bound(i - 1)
	}
	return Range{ID: m.id(i), Min: encodeEPK(lo), Max: encodeEPK(m.bound(i))}
}

// Find returns the range that holds epk (hex), or false if epk is not hex.
func (m *RangeMap) Find(epk string) (Range, bool) {
	if !validEPK(epk) {
		return Range{}, false
	}
	i := m.search(decodeEPK(epk))
	if i == m.Len() {
		return Range{}, false
	}
	return m.At(i), true
}

// Overlapping returns the ranges that hold at least one EPK from lo
// (inclusive) to hi (exclusive), both hex, in order; none if lo is not
// below hi or either is not hex.
func (m *RangeMap) Overlapping(lo, hi string) []Range {
	if !validEPK(lo) || !validEPK(hi) {
		return nil
	}
	var out []Range
	for i := range m.overlapping(decodeEPK(lo), decodeEPK(hi)) {
		out = append(out, m.At(i))
	}
	return out
}

// overlapping yields the indexes of the ranges that meet [lo, hi).
func (m *RangeMap) overlapping(lo, hi []byte) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		if compareEPK(lo, hi) >= 0 {
			return
		}
		head, tail := splitEPK(hi)
		for i := m.search(lo); i < m.Len(); i++ {
			if i > 0 && m.compare(head, tail, i-1) <= 0 { // range i starts at or past hi
				return
			}
			if !yield(i) {
				return
			}
		}
	}
}

// search returns the index of the range that holds epk: the first whose
// Max is above it; Len() if there is none (epk at or above "FF").
func (m *RangeMap) search(epk []byte) int {
	var b [8]byte
	n := copy(b[:], epk)
	return m.searchSplit(binary.BigEndian.Uint64(b[:]), epk[n:])
}

// searchSplit is search for the EPK whose first 8 bytes are head and whose
// rest is tail (trailing zeros allowed).
func (m *RangeMap) searchSplit(head uint64, tail []byte) int {
	lo, hi := 0, len(m.heads)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h := m.heads[mid]; head < h || (head == h && compareEPK(tail, m.tail(mid)) < 0) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// compare compares the EPK (head, tail) with range i's Max.
func (m *RangeMap) compare(head uint64, tail []byte, i int) int {
	switch h := m.heads[i]; {
	case head < h:
		return -1
	case head > h:
		return 1
	}
	return compareEPK(tail, m.tail(i))
}

// bound returns range i's Max, binary, without trailing zero bytes.
func (m *RangeMap) bound(i int) []byte {
	b := binary.BigEndian.AppendUint64(nil, m.heads[i])
	if t := m.tail(i); len(t) > 0 {
		return append(b, t...)
	}
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// tail returns the rest of range i's Max after its first 8 bytes.
func (m *RangeMap) tail(i int) []byte {
	var start uint32
	if i > 0 {
		start = m.ends[i-1]
	}
	return m.tails[start:m.ends[i]]
}

// id returns range i's id.
func (m *RangeMap) id(i int) string {
	var start uint32
	if i > 0 {
		start = m.idEnds[i-1]
	}
	return m.ids[start:m.idEnds[i]]
}
