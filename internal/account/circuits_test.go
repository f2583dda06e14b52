package account

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The table agrees with a map through random additions and removals, with
// several containers, hosts and named ranges: what it finds, what it
// names, its count and its least recently used order.
func TestCircuitTableAgreesWithAMap(t *testing.T) {
	type triple struct{ container, rangeID, host string }
	var tb circuitTable
	model := map[triple]uint32{}
	used := map[triple]int{} // the step when each was last added or touched
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func() triple {
		r := strconv.Itoa(rng.IntN(3000))
		if rng.IntN(10) == 0 {
			r = "r" + r
		}
		return triple{fmt.Sprint("dbs/d/colls/c", rng.IntN(4)), r, fmt.Sprint("h", rng.IntN(3))}
	}
	for n := range 40_000 {
		k := pick()
		i, ok := model[k]
		want := i
		if !ok {
			want = noIndex
		}
		require.Equal(t, want, tb.find(k.container, k.rangeID, k.host), "step %d", n)
		switch {
		case ok && rng.IntN(2) == 0:
			tb.remove(i)
			delete(model, k)
			delete(used, k)
		case ok:
			tb.touch(i)
			used[k] = n
		default:
			i, ok := tb.add(k.container, k.rangeID, k.host)
			require.True(t, ok)
			model[k] = i
			used[k] = n
		}
		require.Equal(t, len(model), tb.count)
	}
	for k, i := range model {
		require.Equal(t, i, tb.find(k.container, k.rangeID, k.host))
		c, r, h := tb.names(tb.at(i).key)
		require.Equal(t, k, triple{c, r, h})
	}
	order := slices.SortedFunc(maps.Keys(used), func(a, b triple) int { return used[a] - used[b] })
	var walked []triple
	for i := tb.closed.tail; i != noIndex; i = tb.at(i).prev {
		c, r, h := tb.names(tb.at(i).key)
		walked = append(walked, triple{c, r, h})
	}
	assert.Equal(t, order, walked)
}

func TestRangeNumber(t *testing.T) {
	for id, want := range map[string]bool{"0": true, "7": true, "2147483647": true, "": false, "01": false,
		"2147483648": false, "4294967296": false, "99999999999": false, "-1": false, "1a": false, " 1": false} {
		n, ok := rangeNumber(id)
		assert.Equal(t, want, ok, id)
		if ok {
			assert.Equal(t, id, strconv.FormatUint(uint64(n), 10))
		}
	}
}
