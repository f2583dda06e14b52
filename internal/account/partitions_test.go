package account

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var (
	west = &url.URL{Scheme: "https", Host: "west.example"}
	east = &url.URL{Scheme: "https", Host: "east.example"}
)

// A range trips after its failures in a row in one region, and only there
// and only for itself; one call tests it once the open period is over, and
// a success closes it.
func TestPartitionCircuitTripsTestsAndCloses(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	var marked []*url.URL
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 3, OpenTimeout: time.Second}, c.now, func(u *url.URL) { marked = append(marked, u) })
	for range 2 {
		p.record("dbs/d/colls/c", "1", west, true, true)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "two in a row: not yet")
	p.record("dbs/d/colls/c", "1", west, false, true)
	for range 2 {
		p.record("dbs/d/colls/c", "1", west, true, true)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "a success in between starts the count again")
	p.record("dbs/d/colls/c", "1", west, true, true)
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "three in a row: tripped")
	assert.False(t, p.avoid("dbs/d/colls/c", "0", west), "another range")
	assert.False(t, p.avoid("dbs/d/colls/c", "1", east), "another region")
	assert.False(t, p.avoid("dbs/d/colls/other", "1", west), "another container")
	assert.Empty(t, marked, "one range is not the region's failure")

	c.t = c.t.Add(1200 * time.Millisecond) // past the open period and its jitter
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the first call tests the region")
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "the others wait for the test")
	p.record("dbs/d/colls/c", "1", west, true, true)
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "the test failed: open again")
	c.t = c.t.Add(1200 * time.Millisecond)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	p.record("dbs/d/colls/c", "1", west, false, true)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the test succeeded: closed")
	assert.Empty(t, p.status(nil))
}

// Three ranges tripped in one region are the region's failure.
func TestThreeTrippedRangesMarkTheRegion(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	var marked []*url.URL
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1}, c.now, func(u *url.URL) { marked = append(marked, u) })
	for i := range 3 {
		p.record("dbs/d/colls/c", fmt.Sprint(i), west, true, true)
	}
	assert.Equal(t, []*url.URL{west}, marked)
	assert.Len(t, p.status(nil), 3)
}

// A busy healthy range does not trip on a background error rate: at
// 1 000 calls a second, 0.1 % of them failing, for ten minutes.
func TestABackgroundErrorRateTripsNothing(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{}, c.now, nil)
	r := rand.New(rand.NewPCG(1, 2))
	trips := 0
	for range 600_000 {
		c.t = c.t.Add(time.Millisecond)
		p.record("dbs/d/colls/c", "0", west, r.Float64() < 0.001, true)
		if p.avoid("dbs/d/colls/c", "0", west) {
			trips++
		}
	}
	assert.Zero(t, trips)
}

// The entries kept are bounded: the least recently used closed ones go
// first, and healthy ranges take no entry at all.
func TestPartitionEntriesAreBounded(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{MaxRanges: 100}, c.now, nil)
	for i := range 1000 {
		p.record("dbs/d/colls/c", fmt.Sprint(i), west, false, true)
	}
	assert.Empty(t, p.entries, "a healthy range is not remembered")
	for i := range 1000 {
		p.record("dbs/d/colls/c", fmt.Sprint(i), west, true, true)
	}
	assert.Len(t, p.entries, 100)
}

// Partition circuits can be turned off.
func TestPartitionCircuitsOff(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: -1}, c.now, nil)
	for range 100 {
		p.record("dbs/d/colls/c", "1", west, true, true)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.Empty(t, p.entries)
}

// The memory of tripped entries, measured at 100 000 ranges (logged, for
// BENCHMARKS.md; the bound is MaxRanges).
func TestPartitionEntryMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1}, c.now, nil)
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		p.record("dbs/d/colls/c", id, west, true, true)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	assert.Len(t, p.entries, 100_000)
	t.Logf("%d bytes per tripped range", (after.HeapAlloc-before.HeapAlloc)/100_000)
}

// A test that takes its time stays the one test: a region that hangs
// collects one stuck call per range, not one per open period. A test
// that said nothing (cancelled) lets the next call test.
func TestOneTestAtATimeHoweverLong(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: 100 * time.Millisecond}, c.now, nil)
	p.record("dbs/d/colls/c", "1", west, true, true)
	c.t = c.t.Add(200 * time.Millisecond)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the test")
	for range 10 {
		c.t = c.t.Add(200 * time.Millisecond)
		assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "still under way: no second test")
	}
	p.record("dbs/d/colls/c", "1", west, false, false) // the test was cancelled
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the next call tests")
}
