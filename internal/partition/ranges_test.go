package partition

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evenRanges returns n ranges that split the version 2 key space (EPKs
// below 40) evenly, with ids "0" to n-1 and 32-digit bounds whose second
// half is not zero, as the service's are.
func evenRanges(n int) []Range {
	out := make([]Range, n)
	prev := ""
	for i := range n {
		hi := "FF"
		if i < n-1 {
			hi = fmt.Sprintf("%016X%016X", uint64(i+1)*(0x4000000000000000/uint64(n)), uint64(i+1)*0x9E3779B97F4A7C15|1)
		}
		out[i] = Range{ID: strconv.Itoa(i), Min: prev, Max: hi}
		prev = hi
	}
	return out
}

func TestParseRangesReadsTheFeed(t *testing.T) {
	page := `{"_rid":"PaYSAPH8UdI=","PartitionKeyRanges":[
		{"_rid":"PaYSAPH8UdICAAAAAAAAUA==","id":"1","_etag":"\"00\"","minInclusive":"","maxExclusive":"1FFFFFFFFFFFFF",
		 "ridPrefix":1,"_self":"dbs/x/colls/y/pkranges/z/","throughputFraction":0.5,"status":"online","parents":[],"_ts":1,"_lsn":2},
		{"id":"2","minInclusive":"1FFFFFFFFFFFFF","maxExclusive":"FF","parents":["0"],"ownedArchivalPKRangeIds":["0"]}],
		"_count":2}`
	got, err := ParseRanges([]byte(page))
	require.NoError(t, err)
	assert.Equal(t, []Range{
		{ID: "1", Min: "", Max: "1FFFFFFFFFFFFF", Parents: []string{}},
		{ID: "2", Min: "1FFFFFFFFFFFFF", Max: "FF", Parents: []string{"0"}},
	}, got)

	got, err = ParseRanges([]byte(`{"partitionkeyranges":[{"ID":"0","MININCLUSIVE":"","MAXEXCLUSIVE":"FF"}]}`))
	require.NoError(t, err, "names match regardless of case")
	assert.Equal(t, []Range{{ID: "0", Min: "", Max: "FF"}}, got)

	for _, bad := range []string{``, `[]`, `{}`, `{"PartitionKeyRanges":null}`, `{"PartitionKeyRanges":{}}`,
		`{"PartitionKeyRanges":[{"id":0}]}`, `{"PartitionKeyRanges":[` + "\xff"} {
		_, err := ParseRanges([]byte(bad))
		assert.ErrorIs(t, err, ErrRanges, bad)
	}
}

func TestRangeMapFindsTheRangeOfAnEPK(t *testing.T) {
	m, err := NewRangeMap([]Range{ // out of order, as a feed may be
		{ID: "2", Min: "2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Max: "FF"},
		{ID: "0", Min: "", Max: "15555555555555555555555555555555"},
		{ID: "1", Min: "15555555555555555555555555555555", Max: "2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	})
	require.NoError(t, err)
	require.Equal(t, 3, m.Len())
	assert.Equal(t, Range{ID: "0", Min: "", Max: "15555555555555555555555555555555"}, m.At(0))
	for _, tt := range []struct{ epk, id string }{
		{"", "0"},
		{"00", "0"},
		{"0E711127C5B5A8E4726AC6DD306A3E59", "0"},
		{"15555555555555555555555555555554", "0"},
		{"15555555555555555555555555555555", "1"}, // a range holds its lower bound
		{"155555555555555555555555555555550000", "1"},
		{"1555555555555555555555555555555500000000000000000000000000000001", "1"},
		{"155555555555555555555555555555", "0"}, // a shorter EPK is below a longer one that adds non-zero digits
		{"1555555555555555555555555555555", "0"},
		{"2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "2"},
		{"3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "2"},
		{"378867e4430e67857ace5c908374fe16", "2"},
	} {
		r, ok := m.Find(tt.epk)
		if assert.True(t, ok, tt.epk) {
			assert.Equal(t, tt.id, r.ID, tt.epk)
			assert.True(t, CompareEPK(r.Min, tt.epk) <= 0 && CompareEPK(tt.epk, r.Max) < 0, "%s in %+v", tt.epk, r)
		}
	}
	for _, epk := range []string{"FF", "FF00", "FFFF", "not hex"} {
		_, ok := m.Find(epk)
		assert.False(t, ok, epk)
	}
}

// A hierarchical container's ranges may split inside one first-level
// value: its prefix's EPK range spans both sides.
func TestRangeMapListsTheRangesAPrefixOverlaps(t *testing.T) {
	prefix, complete, err := EffectivePartitionKey(multiHash2, `["tenant-1"]`)
	require.NoError(t, err)
	require.False(t, complete)
	split := prefix + "20000000000000000000000000000000" // inside the prefix: a second-level hash
	m, err := NewRangeMap([]Range{
		{ID: "low", Min: "", Max: prefix},
		{ID: "a", Min: prefix, Max: split},
		{ID: "b", Min: split, Max: PrefixEnd(prefix)},
		{ID: "high", Min: PrefixEnd(prefix), Max: "FF"},
	})
	require.NoError(t, err)
	var ids []string
	for _, r := range m.Overlapping(prefix, PrefixEnd(prefix)) {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Len(t, m.Overlapping("", "FF"), 4)
	assert.Empty(t, m.Overlapping("10", "10"))
	assert.Empty(t, m.Overlapping("20", "10"))
	assert.Empty(t, m.Overlapping("", "00"), `"" equals "00"`)
	assert.Equal(t, "low", m.Overlapping("", "01")[0].ID)

	for _, header := range []string{`["tenant-1","x"]`, `["tenant-1","y"]`, `["tenant-1","z"]`} {
		epk, _, err := EffectivePartitionKey(multiHash2, header)
		require.NoError(t, err)
		r, ok := m.Find(epk)
		require.True(t, ok)
		want := "a"
		if CompareEPK(epk, split) >= 0 {
			want = "b"
		}
		assert.Equal(t, want, r.ID, "a full key of the tenant falls in one of the two halves")
	}
}

// A feed read incrementally lists a split range beside its children; the
// children replace it.
func TestRangeMapDropsParents(t *testing.T) {
	m, err := NewRangeMap([]Range{
		{ID: "0", Min: "", Max: "FF"},
		{ID: "1", Min: "", Max: "20", Parents: []string{"0"}},
		{ID: "2", Min: "20", Max: "FF", Parents: []string{"0"}},
	})
	require.NoError(t, err)
	assert.Equal(t, 2, m.Len())
	r, _ := m.Find("30")
	assert.Equal(t, "2", r.ID)
}

func TestNewRangeMapRejectsHostileFeeds(t *testing.T) {
	long := strings.Repeat("A", maxEPKLen+1)
	for _, tt := range []struct {
		name   string
		ranges []Range
		says   string
	}{
		{"nothing", nil, "no ranges"},
		{"a gap", []Range{{ID: "0", Min: "", Max: "20"}, {ID: "1", Min: "30", Max: "FF"}}, "gap"},
		{"an overlap", []Range{{ID: "0", Min: "", Max: "30"}, {ID: "1", Min: "20", Max: "FF"}}, "overlap"},
		{"a duplicate", []Range{{ID: "0", Min: "", Max: "FF"}, {ID: "0", Min: "", Max: "FF"}}, "twice"},
		{"no start", []Range{{ID: "0", Min: "01", Max: "FF"}}, "not at \"\""},
		{"no end", []Range{{ID: "0", Min: "", Max: "FE"}}, "not at FF"},
		{"beyond the end", []Range{{ID: "0", Min: "", Max: "FFFF"}}, "not at FF"},
		{"an empty range", []Range{{ID: "0", Min: "", Max: "20"}, {ID: "1", Min: "20", Max: "20"}, {ID: "2", Min: "20", Max: "FF"}}, "empty"},
		{"a reversed range", []Range{{ID: "0", Min: "30", Max: "20"}}, "empty"},
		{"an empty id", []Range{{ID: "", Min: "", Max: "FF"}}, "range id"},
		{"a huge id", []Range{{ID: strings.Repeat("x", maxRangeID+1), Min: "", Max: "FF"}}, "range id"},
		{"not hex", []Range{{ID: "0", Min: "", Max: "FZ"}}, "not hex"},
		{"a huge bound", []Range{{ID: "0", Min: "", Max: long}}, "not hex"},
		{"too many parents", []Range{{ID: "0", Min: "", Max: "FF", Parents: make([]string, maxParentID+1)}}, "parents"},
		{"every range a parent", []Range{{ID: "0", Min: "", Max: "FF", Parents: []string{"0"}}}, "no ranges"},
		{"too many", make([]Range, maxRanges+1), "more than"},
	} {
		_, err := NewRangeMap(tt.ranges)
		if assert.ErrorIs(t, err, ErrRanges, tt.name) {
			assert.Contains(t, err.Error(), tt.says, tt.name)
			assert.Less(t, len(err.Error()), 400, "%s: the message stays short", tt.name)
		}
	}
}

func TestRangeMapOfManyRanges(t *testing.T) {
	ranges := evenRanges(100_000)
	m, err := NewRangeMap(ranges)
	require.NoError(t, err)
	require.Equal(t, len(ranges), m.Len())
	for i := 0; i < len(ranges); i += 997 {
		r := ranges[i]
		got, ok := m.Find(r.Min)
		require.True(t, ok)
		assert.Equal(t, r.ID, got.ID, "lower bound of %s", r.ID)
		if i > 0 {
			below := fmt.Sprintf("%016X%016X", uint64(i)*(0x4000000000000000/uint64(len(ranges)))-1, ^uint64(0))
			got, _ = m.Find(below)
			assert.Equal(t, ranges[i-1].ID, got.ID, "just below %s", r.ID)
		}
	}
}

// The packed search (heads and tails) finds what a linear scan with
// CompareEPK finds, for bounds of every length, bounds that share their
// first 8 bytes (as a hierarchical container's do inside one tenant), and
// any EPK.
func TestRangeMapSearchAgreesWithALinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randomEPK := func() string {
		b := make([]byte, rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		if len(b) > 0 {
			b[0] &= 0x7F
		}
		if len(b) > 9 && rng.IntN(3) == 0 {
			copy(b, "\x12\x34\x56\x78\x9A\xBC\xDE\xF0") // a shared head
		}
		return encodeEPK(b)
	}
	for _, n := range []int{1, 2, 63, 64, 65, 1000, 3000} {
		var bounds []string
		seen := map[string]bool{"": true}
		for len(bounds) < n-1 {
			e := randomEPK()
			canonical := encodeEPK(bytes.TrimRight(decodeEPK(e), "\x00")) // CompareEPK-equal EPKs are one bound
			if seen[canonical] {
				continue
			}
			seen[canonical] = true
			bounds = append(bounds, e)
		}
		slices.SortFunc(bounds, CompareEPK)
		bounds = append(bounds, "FF")
		ranges := make([]Range, n)
		prev := ""
		for i, b := range bounds {
			ranges[i] = Range{ID: strconv.Itoa(i), Min: prev, Max: b}
			prev = b
		}
		m, err := NewRangeMap(ranges)
		require.NoError(t, err)
		for range 1000 {
			epk := randomEPK()
			if rng.IntN(4) == 0 {
				epk = bounds[rng.IntN(n)] // on a bound
			}
			want := slices.IndexFunc(bounds, func(b string) bool { return CompareEPK(epk, b) < 0 })
			if want < 0 {
				want = n
			}
			require.Equal(t, want, m.search(decodeEPK(epk)), "n=%d epk=%s", n, epk)
		}
	}
}
