package partition

import (
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// KeyIn finds, for every range of a container, a key that the range holds
// by the container's definition, whatever its kind: Lookup agrees.
func TestKeyInFindsAKeyOfEachRange(t *testing.T) {
	for _, tt := range []struct {
		name   string
		def    Definition
		ranges []Range
	}{
		{"hash v2, 100 ranges", hashV2, evenRanges(100)},
		{"hash v1, 7 ranges", hashV1, v1Ranges(7)},
		{"three levels, 50 ranges", multiHash3, evenRanges(50)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := loadedCache(t, tt.def, tt.ranges)
			for _, r := range tt.ranges {
				h, ok := c.KeyIn(orders, r.ID)
				require.True(t, ok, r.ID)
				id, ok := c.Lookup(orders, h)
				require.True(t, ok, h)
				assert.Equal(t, r.ID, id, h)
				again, _ := c.KeyIn(orders, r.ID)
				assert.Equal(t, h, again, "the same key each time")
			}
		})
	}
}

// KeyIn says no for a range the container does not have, and for a
// container not loaded yet.
func TestKeyInWithoutARange(t *testing.T) {
	c := loadedCache(t, hashV2, evenRanges(4))
	_, ok := c.KeyIn(orders, "4")
	assert.False(t, ok)
	_, ok = c.KeyIn("dbs/shop/colls/other", "0")
	assert.False(t, ok)
}

// v1Ranges returns n ranges, ids "0" to n-1, that split version 1 EPKs
// of strings where the EPKs of 100 sample keys fall, in equal shares.
func v1Ranges(n int) []Range {
	var epks []string
	for i := range 100 {
		epk, _, err := EffectivePartitionKey(hashV1, `["sample-`+strconv.Itoa(i)+`"]`)
		if err != nil {
			panic(err)
		}
		epks = append(epks, epk)
	}
	slices.SortFunc(epks, CompareEPK)
	out := evenRanges(n)
	for i := range out[:n-1] {
		out[i].Max = epks[(i+1)*len(epks)/n]
		out[i+1].Min = out[i].Max
	}
	return out
}
