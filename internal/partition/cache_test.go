package partition

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	orders    = "dbs/shop/colls/orders"
	customers = "dbs/shop/colls/customers"
	invoices  = "dbs/shop/colls/invoices"
)

// twoRanges splits the key space at "20", as cosmostest's containers do.
var twoRanges = []Range{{ID: "0", Min: "", Max: "20"}, {ID: "1", Min: "20", Max: "FF"}}

// fakeLoader answers loads with answer and records each call.
type fakeLoader struct {
	answer func(ctx context.Context, container string, n int) (Definition, []Range, error)

	mu    sync.Mutex // guards calls and times
	calls map[string]int
	times map[string][]time.Time
}

func newFakeLoader(answer func(ctx context.Context, container string, n int) (Definition, []Range, error)) *fakeLoader {
	return &fakeLoader{answer: answer, calls: map[string]int{}, times: map[string][]time.Time{}}
}

// loaded answers every load at once with def and ranges.
func loaded(def Definition, ranges []Range) *fakeLoader {
	return newFakeLoader(func(context.Context, string, int) (Definition, []Range, error) { return def, ranges, nil })
}

func (f *fakeLoader) load(ctx context.Context, container string) (Definition, []Range, error) {
	f.mu.Lock()
	f.calls[container]++
	n := f.calls[container]
	f.times[container] = append(f.times[container], time.Now())
	f.mu.Unlock()
	return f.answer(ctx, container, n)
}

func (f *fakeLoader) count(container string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[container]
}

func (f *fakeLoader) at(container string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.times[container]...)
}

// rangeOf is the range of twoRanges that holds header's key under hashV2.
func rangeOf(t *testing.T, header string) string {
	t.Helper()
	epk, _, err := EffectivePartitionKey(hashV2, header)
	require.NoError(t, err)
	if CompareEPK(epk, "20") < 0 {
		return "0"
	}
	return "1"
}

// warm looks container up once and waits, in a synctest bubble, for its
// load to end.
func warm(c *Cache, container string) {
	c.Lookup(container, `["warm"]`)
	synctest.Wait()
}

func TestLookupNeverWaitsAndLoadsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := newFakeLoader(func(ctx context.Context, _ string, _ int) (Definition, []Range, error) {
			<-release // a slow metadata read
			return hashV2, twoRanges, nil
		})
		c := NewCache(f.load, CacheOptions{})
		defer c.Close()

		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				_, ok := c.Lookup(orders, `["eu"]`)
				assert.False(t, ok, "nothing is loaded yet")
			})
		}
		wg.Wait() // every lookup returned while the load is still blocked
		synctest.Wait()
		assert.Equal(t, 1, f.count(orders), "100 concurrent lookups, one load")

		close(release)
		synctest.Wait()
		id, ok := c.Lookup(orders, `["eu"]`)
		assert.True(t, ok)
		assert.Equal(t, rangeOf(t, `["eu"]`), id)
		assert.Equal(t, 1, f.count(orders))
	})
}

func TestLookupFindsTheRangeOfEachKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := loaded(hashV2, twoRanges)
		c := NewCache(f.load, CacheOptions{})
		defer c.Close()
		warm(c, orders)

		seen := map[string]bool{}
		for _, h := range []string{`["eu"]`, `["us"]`, `["asia"]`, `[42]`, `[true]`, `[false]`, `[null]`, `[{}]`, `["caf\u00e9"]`, `[ "eu" ]`} {
			id, ok := c.Lookup(orders, h)
			if assert.True(t, ok, h) {
				assert.Equal(t, rangeOf(t, h), id, h)
				seen[id] = true
			}
		}
		assert.Len(t, seen, 2, "the keys cover both ranges")

		for _, h := range []string{``, `eu`, `["eu"`, `["a","b"]`, `[[1]]`} {
			_, ok := c.Lookup(orders, h)
			assert.False(t, ok, "%q is not a key of the container", h)
		}
		_, ok := c.Lookup(orders, `[]`)
		assert.False(t, ok, "the empty key spans both ranges")
		ids, ok := c.LookupAll(orders, `[]`, nil)
		assert.True(t, ok)
		assert.Equal(t, []string{"0", "1"}, ids)
		ids, ok = c.LookupAll(orders, `["eu"]`, []string{"x"})
		assert.True(t, ok)
		assert.Equal(t, []string{"x", rangeOf(t, `["eu"]`)}, ids)
		assert.Equal(t, 1, f.count(orders))
	})
}

// A prefix of a hierarchical key is one range's when the range holds all
// of it, and several ranges' when a split falls inside it.
func TestLookupOfAHierarchicalPrefix(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		acme, _, err := EffectivePartitionKey(multiHash2, `["acme"]`)
		require.NoError(t, err)
		split := acme + "20"
		ranges := []Range{
			{ID: "0", Min: "", Max: acme},
			{ID: "1", Min: acme, Max: split},
			{ID: "2", Min: split, Max: "FF"},
		}
		c := NewCache(loaded(multiHash2, ranges).load, CacheOptions{})
		defer c.Close()
		warm(c, orders)

		_, ok := c.Lookup(orders, `["acme"]`)
		assert.False(t, ok, "acme's keys span ranges 1 and 2")
		ids, ok := c.LookupAll(orders, `["acme"]`, nil)
		assert.True(t, ok)
		assert.Equal(t, []string{"1", "2"}, ids)

		other, _, err := EffectivePartitionKey(multiHash2, `["globex"]`)
		require.NoError(t, err)
		want := "0"
		if CompareEPK(other, acme) > 0 {
			want = "2"
		}
		id, ok := c.Lookup(orders, `["globex"]`)
		assert.True(t, ok, "another tenant lies in one range")
		assert.Equal(t, want, id)

		full, _, err := EffectivePartitionKey(multiHash2, `["acme","alice"]`)
		require.NoError(t, err)
		want = "1"
		if CompareEPK(full, split) >= 0 {
			want = "2"
		}
		id, ok = c.Lookup(orders, `["acme","alice"]`)
		assert.True(t, ok)
		assert.Equal(t, want, id)
	})
}

// Within one load, failed attempts are retried after RetryDelay, doubled,
// or after the 429's hint when it is longer.
func TestLoadRetriesAndHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		throttled := &LoadError{Err: errors.New("429"), RetryAfter: 2 * time.Second}
		f := newFakeLoader(func(_ context.Context, _ string, n int) (Definition, []Range, error) {
			switch n {
			case 1:
				return Definition{}, nil, throttled
			case 2:
				return Definition{}, nil, errors.New("503")
			}
			return hashV2, twoRanges, nil
		})
		c := NewCache(f.load, CacheOptions{Attempts: 3, RetryDelay: 100 * time.Millisecond})
		defer c.Close()
		start := time.Now()
		c.Lookup(orders, `["eu"]`)
		synctest.Wait()
		_, ok := c.Lookup(orders, `["eu"]`)
		assert.False(t, ok, "still waiting out the hint")

		time.Sleep(10 * time.Second)
		_, ok = c.Lookup(orders, `["eu"]`)
		assert.True(t, ok)
		at := f.at(orders)
		require.Len(t, at, 3)
		assert.Equal(t, start, at[0])
		assert.GreaterOrEqual(t, at[1].Sub(at[0]), 2*time.Second, "not before the hint")
		assert.LessOrEqual(t, at[1].Sub(at[0]), 2200*time.Millisecond, "the hint plus at most 10 %")
		assert.GreaterOrEqual(t, at[2].Sub(at[1]), 200*time.Millisecond, "the delay doubled")
		assert.LessOrEqual(t, at[2].Sub(at[1]), 220*time.Millisecond)
	})
}

// clock is a manual clock for CacheOptions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// After a load fails, lookups answer false at once without loading again
// until the backoff has passed; the backoff doubles with each failed load.
func TestAFailedLoadIsNotRetriedBeforeItsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		var fail atomic.Bool
		fail.Store(true)
		f := newFakeLoader(func(context.Context, string, int) (Definition, []Range, error) {
			if fail.Load() {
				return Definition{}, nil, errors.New("403: this credential may not read metadata")
			}
			return hashV2, twoRanges, nil
		})
		c := NewCache(f.load, CacheOptions{Attempts: -1, FailureBackoff: 5 * time.Second, Now: clk.now})
		defer c.Close()

		lookups := func() {
			for range 50 {
				_, ok := c.Lookup(orders, `["eu"]`)
				assert.False(t, ok)
			}
			synctest.Wait()
		}
		lookups()
		assert.Equal(t, 1, f.count(orders))
		clk.advance(4900 * time.Millisecond)
		lookups()
		assert.Equal(t, 1, f.count(orders), "within the first backoff (5 s)")
		clk.advance(700 * time.Millisecond) // 5.6 s: past 5 s and its jitter
		lookups()
		assert.Equal(t, 2, f.count(orders), "one load after the backoff, however many lookups")
		clk.advance(9900 * time.Millisecond)
		lookups()
		assert.Equal(t, 2, f.count(orders), "within the second backoff (10 s)")
		c.Invalidate(orders)
		synctest.Wait()
		assert.Equal(t, 2, f.count(orders), "Invalidate does not break the backoff of a container never loaded")
		clk.advance(1200 * time.Millisecond)
		fail.Store(false)
		warm(c, orders)
		assert.Equal(t, 3, f.count(orders))
		_, ok := c.Lookup(orders, `["eu"]`)
		assert.True(t, ok)
	})
}

// A 429's hint longer than the backoff holds the next load back too.
func TestRetryAfterHoldsTheNextLoadBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		f := newFakeLoader(func(context.Context, string, int) (Definition, []Range, error) {
			return Definition{}, nil, &LoadError{Err: errors.New("429"), RetryAfter: 20 * time.Second, Final: true}
		})
		c := NewCache(f.load, CacheOptions{Now: clk.now})
		defer c.Close()
		warm(c, orders)
		assert.Equal(t, 1, f.count(orders), "Final: no retry within the load")
		clk.advance(19 * time.Second)
		warm(c, orders)
		assert.Equal(t, 1, f.count(orders))
		clk.advance(2 * time.Second)
		warm(c, orders)
		assert.Equal(t, 2, f.count(orders))
	})
}

// A load is bounded: attempts time out, a definition the cache cannot use
// is not retried, and a hostile feed is retried only Attempts times.
func TestLoadsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeLoader(func(ctx context.Context, container string, _ int) (Definition, []Range, error) {
			switch container {
			case orders: // hangs
				<-ctx.Done()
				return Definition{}, nil, ctx.Err()
			case customers:
				return Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 9}, twoRanges, nil
			}
			return hashV2, []Range{{ID: "0", Min: "", Max: "20"}}, nil // a gap to FF
		})
		c := NewCache(f.load, CacheOptions{Attempts: 2, RetryDelay: time.Second, AttemptTimeout: 3 * time.Second})
		defer c.Close()
		start := time.Now()
		for _, container := range []string{orders, customers, invoices} {
			c.Lookup(container, `["eu"]`)
		}
		time.Sleep(time.Minute)
		assert.Equal(t, 2, f.count(orders))
		at := f.at(orders)
		assert.GreaterOrEqual(t, at[1].Sub(start), 4*time.Second, "3 s timeout, then 1 s")
		assert.Equal(t, 1, f.count(customers), "an unusable definition is final")
		assert.Equal(t, 2, f.count(invoices))
		for _, container := range []string{orders, customers, invoices} {
			_, ok := c.Lookup(container, `["eu"]`)
			assert.False(t, ok, container)
		}
		assert.ErrorIs(t, c.Err(orders), context.DeadlineExceeded)
		assert.ErrorIs(t, c.Err(customers), ErrDefinition)
		assert.ErrorIs(t, c.Err(invoices), ErrRanges)
		assert.EqualError(t, c.Err(invoices), `partition: loading dbs/shop/colls/invoices: invalid partition key ranges: the last range, "0", ends at 20, not at FF`)
		assert.NoError(t, c.Err("dbs/shop/colls/unknown"))
	})
}

// After a split, Invalidate reloads the container; the old ranges answer
// until the new ones arrive. Invalidations during a load add one load.
func TestInvalidateReloadsAfterASplit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		split := []Range{
			{ID: "0", Min: "", Max: "20"},
			{ID: "2", Min: "20", Max: "30", Parents: []string{"1"}},
			{ID: "3", Min: "30", Max: "FF", Parents: []string{"1"}},
		}
		release := make(chan struct{}, 10)
		f := newFakeLoader(func(_ context.Context, _ string, n int) (Definition, []Range, error) {
			if n == 1 {
				return hashV2, twoRanges, nil
			}
			<-release
			return hashV2, split, nil
		})
		c := NewCache(f.load, CacheOptions{})
		defer c.Close()
		warm(c, orders)
		h := findKey(t, func(epk string) bool { return CompareEPK(epk, "30") >= 0 })
		id, _ := c.Lookup(orders, h)
		assert.Equal(t, "1", id)

		for range 10 {
			c.Invalidate(orders) // 410/1002 from many calls at once
		}
		synctest.Wait()
		id, ok := c.Lookup(orders, h)
		assert.True(t, ok)
		assert.Equal(t, "1", id, "the old ranges answer during the reload")
		assert.Equal(t, 2, f.count(orders))

		release <- struct{}{}
		release <- struct{}{}
		synctest.Wait()
		id, _ = c.Lookup(orders, h)
		assert.Equal(t, "3", id)
		assert.Equal(t, 3, f.count(orders), "the invalidations during the reload added one more load, no more")

		c.Invalidate("dbs/shop/colls/unknown")
		synctest.Wait()
		assert.Zero(t, f.count("dbs/shop/colls/unknown"), "Invalidate loads nothing that is not cached")
	})
}

// A reload after Invalidate that fails keeps the old ranges answering, and
// is tried again by a lookup once its backoff has passed.
func TestAFailedReloadIsRetriedAfterItsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		split := []Range{{ID: "0", Min: "", Max: "20"}, {ID: "2", Min: "20", Max: "30"}, {ID: "3", Min: "30", Max: "FF"}}
		f := newFakeLoader(func(_ context.Context, _ string, n int) (Definition, []Range, error) {
			switch n {
			case 1:
				return hashV2, twoRanges, nil
			case 2:
				return Definition{}, nil, &LoadError{Err: errors.New("503"), Final: true}
			}
			return hashV2, split, nil
		})
		c := NewCache(f.load, CacheOptions{Now: clk.now})
		defer c.Close()
		warm(c, orders)
		h := findKey(t, func(epk string) bool { return CompareEPK(epk, "30") >= 0 })

		c.Invalidate(orders)
		synctest.Wait()
		assert.Equal(t, 2, f.count(orders))
		assert.ErrorContains(t, c.Err(orders), "503")
		id, ok := c.Lookup(orders, h)
		assert.True(t, ok)
		assert.Equal(t, "1", id, "the old ranges answer")
		synctest.Wait()
		assert.Equal(t, 2, f.count(orders), "not within the backoff")

		clk.advance(6 * time.Second)
		c.Lookup(orders, h)
		synctest.Wait()
		assert.Equal(t, 3, f.count(orders))
		assert.NoError(t, c.Err(orders))
		id, _ = c.Lookup(orders, h)
		assert.Equal(t, "3", id)
		c.Lookup(orders, h)
		synctest.Wait()
		assert.Equal(t, 3, f.count(orders), "loaded: no more loads")
	})
}

// findKey returns a header whose version 2 EPK satisfies ok.
func findKey(t *testing.T, ok func(epk string) bool) string {
	t.Helper()
	for i := range 1000 {
		h := `["key-` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `"]`
		epk, _, err := EffectivePartitionKey(hashV2, h)
		require.NoError(t, err)
		if ok(epk) {
			return h
		}
	}
	t.Fatal("no key found")
	return ""
}

func TestTheLeastRecentlyUsedContainerIsEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := loaded(hashV2, twoRanges)
		c := NewCache(f.load, CacheOptions{MaxContainers: 2})
		defer c.Close()
		warm(c, orders)
		warm(c, customers)
		_, ok := c.Lookup(orders, `["eu"]`) // orders is now more recent than customers
		assert.True(t, ok)
		warm(c, invoices) // evicts customers
		assert.Len(t, *c.snap.Load(), 2)

		_, ok = c.Lookup(orders, `["eu"]`)
		assert.True(t, ok, "orders stayed")
		_, ok = c.Lookup(invoices, `["eu"]`)
		assert.True(t, ok, "invoices is in")
		_, ok = c.Lookup(customers, `["eu"]`)
		assert.False(t, ok, "customers was evicted")
		synctest.Wait()
		assert.Equal(t, []int{1, 2, 1}, []int{f.count(orders), f.count(customers), f.count(invoices)})
	})
}

// An evicted container's load in progress is cancelled.
func TestEvictionCancelsALoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancelled error
		f := newFakeLoader(func(ctx context.Context, container string, _ int) (Definition, []Range, error) {
			if container == orders {
				<-ctx.Done()
				cancelled = ctx.Err()
				return Definition{}, nil, ctx.Err()
			}
			return hashV2, twoRanges, nil
		})
		c := NewCache(f.load, CacheOptions{MaxContainers: 1})
		defer c.Close()
		warm(c, orders)
		warm(c, customers)
		assert.ErrorIs(t, cancelled, context.Canceled)
	})
}

func TestCloseStopsTheLoads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen error
		f := newFakeLoader(func(ctx context.Context, container string, _ int) (Definition, []Range, error) {
			if container == orders {
				return hashV2, twoRanges, nil
			}
			<-ctx.Done()
			seen = ctx.Err()
			return Definition{}, nil, ctx.Err()
		})
		c := NewCache(f.load, CacheOptions{AttemptTimeout: -1})
		warm(c, orders)
		warm(c, customers)
		require.NoError(t, c.Close()) // returns once the hanging load has ended
		assert.ErrorIs(t, seen, context.Canceled)
		require.NoError(t, c.Close())

		_, ok := c.Lookup(orders, `["eu"]`)
		assert.True(t, ok, "what is loaded still answers")
		c.Lookup(invoices, `["eu"]`)
		c.Invalidate(orders)
		synctest.Wait()
		assert.Zero(t, f.count(invoices), "no load after Close")
		assert.Equal(t, 1, f.count(orders))
	})
}

func TestNewCacheNeedsALoader(t *testing.T) {
	assert.Panics(t, func() { NewCache(nil, CacheOptions{}) })
}
