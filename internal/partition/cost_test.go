package partition

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadedCache returns a cache whose container orders is loaded with def
// and ranges. It is built outside any synctest bubble, for benchmarks.
func loadedCache(tb testing.TB, def Definition, ranges []Range) *Cache {
	tb.Helper()
	_, err := newTable(def, ranges)
	require.NoError(tb, err)
	done := make(chan struct{})
	var once sync.Once
	c := NewCache(func(context.Context, string) (Definition, []Range, error) {
		defer once.Do(func() { close(done) })
		return def, ranges, nil
	}, CacheOptions{})
	tb.Cleanup(func() { c.Close() })
	c.Lookup(orders, `["warm"]`)
	<-done
	for {
		if _, ok := c.Lookup(orders, `["eu"]`); ok {
			return c
		}
		runtime.Gosched() // the load's goroutine is storing its table
	}
}

// The request path's budget: a lookup in a loaded container costs no
// allocation for short keys, whatever the hash version.
func TestLookupCostsNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	for _, tt := range []struct {
		def    Definition
		header string
	}{
		{hashV2, `["eu"]`},
		{hashV2, `[42]`},
		{hashV2, `["caf\u00e9"]`},
		{hashV1, `["eu"]`},
		{multiHash3, `["acme","alice","s1"]`},
		{multiHash3, `["acme"]`},
	} {
		c := loadedCache(t, tt.def, evenRanges(1000))
		allocs := testing.AllocsPerRun(1000, func() {
			if _, ok := c.Lookup(orders, tt.header); !ok && tt.header != `["acme"]` {
				t.Fatalf("%s: no range", tt.header)
			}
		})
		assert.Zero(t, allocs, "%v %s", tt.def.Kind, tt.header)
	}
}

// BenchmarkLookup measures Cache.Lookup of a loaded container, the cost
// every call with a partition key pays.
func BenchmarkLookup(b *testing.B) {
	for _, bb := range []struct {
		name   string
		def    Definition
		ranges int
		header string
	}{
		{"v2/string/16ranges", hashV2, 16, `["eu"]`},
		{"v2/string/100000ranges", hashV2, 100_000, `["eu"]`},
		{"v2/uuid/100000ranges", hashV2, 100_000, `["2f1b7c64-3c1e-4a63-9a57-0b7c7e1f4d21"]`},
		{"v2/number/16ranges", hashV2, 16, `[42]`},
		{"v1/string/16ranges", hashV1, 16, `["eu"]`},
		{"multihash3/100000ranges", multiHash3, 100_000, `["acme","alice","s1"]`},
	} {
		b.Run(bb.name, func(b *testing.B) {
			c := loadedCache(b, bb.def, evenRanges(bb.ranges))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := c.Lookup(orders, bb.header); !ok {
					b.Fatal("no range")
				}
			}
		})
	}
	b.Run("parallel/v2/string/100000ranges", func(b *testing.B) {
		c := loadedCache(b, hashV2, evenRanges(100_000))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Lookup(orders, `["eu"]`)
			}
		})
	})
}

// heapAfter returns the live heap after build, minus before; it keeps
// build's result alive until measured.
func heapAfter(build func() any) (uint64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // the second frees what sync.Pools kept through the first
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return after.HeapAlloc - before.HeapAlloc, v
}

// The memory the cache keeps, measured: per range in a container of
// 100 000 ranges (version 2 bounds, 32 hex digits, ids "0" to "99999"),
// that container cached, and per container for 1000 containers of 100
// ranges (100 000 ranges in all).
func TestMemoryPerRangeAndPerContainer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes the heap")
	}
	const n = 100_000
	ranges := evenRanges(n)
	bytes, m := heapAfter(func() any {
		m, err := NewRangeMap(ranges)
		require.NoError(t, err)
		return m
	})
	perRange := float64(bytes) / n
	t.Logf("RangeMap of %d ranges: %d bytes, %.1f bytes a range", n, bytes, perRange)
	assert.Less(t, perRange, 40.0, "16 bytes of bound, ~5 of id, 8 of offsets")
	runtime.KeepAlive(m)
	runtime.KeepAlive(ranges) // else freed during the measurement, which then comes out negative

	synctest.Test(t, func(t *testing.T) {
		// One cached container of n ranges: what the chain keeps for it.
		c := NewCache(func(context.Context, string) (Definition, []Range, error) {
			return Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 2}, ranges, nil
		}, CacheOptions{})
		defer c.Close()
		bytes, _ := heapAfter(func() any {
			c.Lookup(orders, `["eu"]`)
			synctest.Wait()
			return nil
		})
		_, ok := c.Lookup(orders, `["eu"]`)
		require.True(t, ok)
		t.Logf("a cached container of %d ranges: %d bytes", n, bytes)
		assert.Less(t, float64(bytes)/n, 40.0)
	})

	synctest.Test(t, func(t *testing.T) {
		const containers, each = 1000, 100
		per := evenRanges(each)
		c := NewCache(func(context.Context, string) (Definition, []Range, error) {
			return Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 2}, per, nil
		}, CacheOptions{MaxContainers: containers})
		defer c.Close()
		links := make([]string, containers)
		for i := range links {
			links[i] = "dbs/shop/colls/c" + strconv.Itoa(i)
		}
		bytes, _ := heapAfter(func() any {
			for _, l := range links {
				c.Lookup(l, `["eu"]`)
			}
			synctest.Wait()
			return nil
		})
		for _, l := range links {
			_, ok := c.Lookup(l, `["eu"]`)
			require.True(t, ok, l)
		}
		rangeBytes := uint64(perRange * each)
		perContainer := float64(bytes)/containers - float64(rangeBytes)
		t.Logf("cache of %d containers × %d ranges: %d bytes; %.0f bytes a container beyond its ranges", containers, each, bytes, perContainer)
		assert.Less(t, perContainer, 1024.0, "a container's own overhead")
	})
}

func ExampleCache() {
	// The loader does the I/O: GET the container and its pkranges feed.
	load := func(ctx context.Context, container string) (Definition, []Range, error) {
		def, err := ParseContainer([]byte(`{"id":"orders","partitionKey":{"paths":["/region"],"kind":"Hash","version":2}}`))
		if err != nil {
			return Definition{}, nil, err
		}
		ranges, err := ParseRanges([]byte(`{"PartitionKeyRanges":[
			{"id":"0","minInclusive":"","maxExclusive":"20"},
			{"id":"1","minInclusive":"20","maxExclusive":"FF"}]}`))
		return def, ranges, err
	}
	c := NewCache(load, CacheOptions{})
	defer c.Close()

	_, ok := c.Lookup("dbs/shop/colls/orders", `["eu"]`)
	fmt.Println(ok) // not loaded yet: the lookup started the load
	for !ok {
		runtime.Gosched()
		_, ok = c.Lookup("dbs/shop/colls/orders", `["eu"]`)
	}
	id, _ := c.Lookup("dbs/shop/colls/orders", `["eu"]`)
	fmt.Println(id)
	// Output:
	// false
	// 1
}

// Lookup's fast path for a plain one-string key agrees with its general
// path, whatever the string and wherever the range bounds fall.
func TestLookupFastPathAgreesWithTheGeneralPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	v1Ranges := func(n int) []Range { // bounds spread over most version 1 EPKs: 05C1...
		out := evenRanges(n)
		for i := range out[:n-1] {
			out[i].Max = fmt.Sprintf("05C1%016X", uint64(i+1)*(^uint64(0)/uint64(n)))
			out[i+1].Min = out[i].Max
		}
		return out
	}
	for _, tt := range []struct {
		def    Definition
		ranges func(int) []Range
		plain  int
	}{
		{hashV2, evenRanges, 2},
		{Definition{Paths: []string{"/t"}, Kind: MultiHash, Version: 2}, evenRanges, 2},
		{hashV1, v1Ranges, 1},
	} {
		def := tt.def
		for _, n := range []int{1, 2, 7, 1000} {
			c := loadedCache(t, def, tt.ranges(n))
			tb := c.table(orders)
			require.Equal(t, tt.plain, tb.plain)
			seen := map[string]bool{}
			for range 2000 {
				b := make([]byte, rng.IntN(maxPlain+3))
				for i := range b {
					b[i] = byte(0x20 + rng.IntN(0x5F))
				}
				h, _ := json.Marshal([]string{string(b)})
				fast, fastOK := c.Lookup(orders, string(h))
				slow, slowOK := tb.lookup(string(h))
				require.Equal(t, slowOK, fastOK, "%s", h)
				require.Equal(t, slow, fast, "%s", h)
				seen[fast] = true
			}
			assert.GreaterOrEqual(t, len(seen), min(n, 3), "%v v%d: the keys reach several ranges", def.Kind, def.Version)
		}
	}
	_, ok := plainString(`["` + strings.Repeat("a", maxPlain) + `"]`)
	assert.True(t, ok)
	for _, h := range []string{`["` + strings.Repeat("a", maxPlain+1) + `"]`, `["a\"b"]`, `["é"]`, `[ "a"]`, `["a",1]`} {
		_, ok := plainString(h)
		assert.False(t, ok, h)
	}
}
