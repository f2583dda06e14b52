package account

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		p.record("dbs/d/colls/c", "1", west, readFailure)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "two in a row: not yet")
	p.record("dbs/d/colls/c", "1", west, success)
	for range 2 {
		p.record("dbs/d/colls/c", "1", west, readFailure)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "a success in between starts the count again")
	p.record("dbs/d/colls/c", "1", west, readFailure)
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "three in a row: tripped")
	assert.False(t, p.avoid("dbs/d/colls/c", "0", west), "another range")
	assert.False(t, p.avoid("dbs/d/colls/c", "1", east), "another region")
	assert.False(t, p.avoid("dbs/d/colls/other", "1", west), "another container")
	assert.Empty(t, marked, "one range is not the region's failure")

	c.t = c.t.Add(1200 * time.Millisecond) // past the open period and its jitter
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the first call tests the region")
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "the others wait for the test")
	p.record("dbs/d/colls/c", "1", west, readFailure)
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "the test failed: open again")
	c.t = c.t.Add(1200 * time.Millisecond)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	p.record("dbs/d/colls/c", "1", west, success)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the test succeeded: closed")
	assert.Empty(t, p.status(nil))
}

// Three ranges tripped in one region are the region's failure.
func TestThreeTrippedRangesMarkTheRegion(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	var marked []*url.URL
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1}, c.now, func(u *url.URL) { marked = append(marked, u) })
	for i := range 3 {
		p.record("dbs/d/colls/c", fmt.Sprint(i), west, readFailure)
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
		v := success
		if r.Float64() < 0.001 {
			v = readFailure
		}
		p.record("dbs/d/colls/c", "0", west, v)
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
		p.record("dbs/d/colls/c", fmt.Sprint(i), west, success)
	}
	assert.Zero(t, p.t.count, "a healthy range is not remembered")
	for i := range 1000 {
		p.record("dbs/d/colls/c", fmt.Sprint(i), west, readFailure)
	}
	assert.Equal(t, 100, p.t.count)
}

// Partition circuits can be turned off.
func TestPartitionCircuitsOff(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: -1}, c.now, nil)
	for range 100 {
		p.record("dbs/d/colls/c", "1", west, readFailure)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.Zero(t, p.t.count)
}

// The memory of tripped entries, measured at 100 000 ranges: at most 64
// bytes each (it was 259, with a list element, a map entry and three
// strings each), the index included. The ids live on in the caller's
// strings as the measurement runs, as the headers they come from would.
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
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		p.record("dbs/d/colls/c", id, west, readFailure)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ids)
	require.Equal(t, 100_000, p.t.count)
	require.Len(t, p.status(nil), 100_000, "every one tripped")
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / 100_000
	t.Logf("%.1f bytes per tripped range", perEntry)
	assert.LessOrEqual(t, perEntry, 64.0)

	for _, id := range ids {
		p.record("dbs/d/colls/c", id, west, success)
	}
	assert.Zero(t, p.t.count)
	assert.Nil(t, p.t.pages, "nothing kept once every range is healthy again")
}

// While circuits are open, a call's look-up of its range and the count
// of its success allocate nothing.
func TestPartitionLookupCostsNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	p := trippedPartitions(1000)
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.avoid("dbs/d/colls/c", "7", west) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.avoid("dbs/d/colls/c", "70000", west) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.avoid("dbs/d/colls/other", "7", east) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.record("dbs/d/colls/c", "70000", west, success) }))
}

// When the cap is reached and every kept circuit is open, the least
// recently used open one is forgotten, and no longer counted open.
func TestPartitionCapForgetsTheOldestOpenCircuitLast(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 2, MaxRanges: 3}, c.now, nil)
	for _, id := range []string{"1", "2", "3"} {
		p.record("dbs/d/colls/c", id, west, readFailure)
		p.record("dbs/d/colls/c", id, west, readFailure)
	}
	p.record("dbs/d/colls/c", "4", west, readFailure) // failing, not open
	assert.Equal(t, int64(2), p.open.Load(), "the oldest open circuit went for it")
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.True(t, p.avoid("dbs/d/colls/c", "2", west))
	p.record("dbs/d/colls/c", "5", west, readFailure) // the failing one goes first
	assert.True(t, p.avoid("dbs/d/colls/c", "2", west))
	assert.True(t, p.avoid("dbs/d/colls/c", "3", west))
	p.record("dbs/d/colls/c", "5", west, readFailure)
	assert.True(t, p.avoid("dbs/d/colls/c", "5", west), "5 failed twice in a row: kept all along")
}

// Range ids that are not small decimals (none of the service's are) are
// kept by name, apart from the numbers they look like.
func TestPartitionRangeIDsOfAnyText(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1}, c.now, nil)
	odd := []string{"01", "a", "4294967295", "2147483648", "-1", "1 "}
	for _, id := range odd {
		p.record("dbs/d/colls/c", id, west, readFailure)
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.False(t, p.avoid("dbs/d/colls/c", "2147483647", west))
	var got []string
	for _, s := range p.status(nil) {
		got = append(got, s.Range)
	}
	assert.ElementsMatch(t, odd, got)
	for _, id := range odd {
		assert.True(t, p.avoid("dbs/d/colls/c", id, west), id)
		p.record("dbs/d/colls/c", id, west, success)
	}
	assert.Zero(t, p.t.count)
}

// A test that takes its time stays the one test: a region that hangs
// collects one stuck call per range, not one per open period. A test
// that said nothing (cancelled) lets the next call test.
func TestOneTestAtATimeHoweverLong(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: 100 * time.Millisecond}, c.now, nil)
	p.record("dbs/d/colls/c", "1", west, readFailure)
	c.t = c.t.Add(200 * time.Millisecond)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the test")
	for range 10 {
		c.t = c.t.Add(200 * time.Millisecond)
		assert.True(t, p.avoid("dbs/d/colls/c", "1", west), "still under way: no second test")
	}
	p.record("dbs/d/colls/c", "1", west, notCounted) // the test was cancelled
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "the next call tests")
}

// trippedPartitions returns partitions with n ranges of one container
// tripped in the west region, ids "0" to n-1. Their clock stands still
// (time.Now is slow in some virtual machines, and not what is measured).
func trippedPartitions(n int) *partitions {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1, MaxRanges: n + 1}, c.now, nil)
	for i := range n {
		p.record("dbs/d/colls/c", strconv.Itoa(i), west, readFailure)
	}
	return p
}

// BenchmarkPartitionLookup measures what a call pays for its range's
// circuit: the look-up before its first attempt (avoid) and the count of
// its success (record), while no circuit is open and while 100 000 are,
// over 1000 ranges in turn.
func BenchmarkPartitionLookup(b *testing.B) {
	none := newPartitions(policy.PartitionOptions{}, (&clock{}).now, nil)
	many := trippedPartitions(100_000)
	healthy, tripped := make([]string, 1000), make([]string, 1000)
	for i := range healthy {
		healthy[i], tripped[i] = strconv.Itoa(100_000+i), strconv.Itoa(i*97)
	}
	for _, bb := range []struct {
		name string
		p    *partitions
		ids  []string
		f    func(p *partitions, id string)
	}{
		{"avoid/none-open", none, healthy, func(p *partitions, id string) { p.avoid("dbs/d/colls/c", id, west) }},
		{"avoid/healthy-range/100000-open", many, healthy, func(p *partitions, id string) { p.avoid("dbs/d/colls/c", id, west) }},
		{"avoid/tripped-range/100000-open", many, tripped, func(p *partitions, id string) { p.avoid("dbs/d/colls/c", id, west) }},
		{"record-success/none-failing", none, healthy, func(p *partitions, id string) { p.record("dbs/d/colls/c", id, west, success) }},
		{"record-success/healthy-range/100000-failing", many, healthy, func(p *partitions, id string) { p.record("dbs/d/colls/c", id, west, success) }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				bb.f(bb.p, bb.ids[i])
				if i++; i == len(bb.ids) {
					i = 0
				}
			}
		})
	}
}

// Hedged reads lost in a row by a region trip the range there, and only
// that range; a success of the region for the range starts the count
// again; a loss while the range is tested reopens it; the test is a real
// read.
func TestLostHedgesTripTheirRange(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{OpenTimeout: time.Second}, c.now, nil)
	for range 4 {
		assert.Zero(t, p.lost("dbs/d/colls/c", "1", west, 5))
	}
	p.record("dbs/d/colls/c", "1", west, success) // the region won one
	for range 4 {
		assert.Zero(t, p.lost("dbs/d/colls/c", "1", west, 5), "the count started again")
	}
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.Equal(t, PartitionTripped, p.lost("dbs/d/colls/c", "1", west, 5))
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.False(t, p.avoid("dbs/d/colls/c", "0", west), "another range")
	assert.False(t, p.avoid("dbs/d/colls/c", "1", east), "another region")

	c.t = c.t.Add(1200 * time.Millisecond)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west), "a read tests the region")
	assert.Equal(t, PartitionReopened, p.lost("dbs/d/colls/c", "1", west, 5), "and loses again")
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west))
	c.t = c.t.Add(1200 * time.Millisecond)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.Equal(t, PartitionRecovered, p.record("dbs/d/colls/c", "1", west, success))
	assert.Zero(t, p.t.count)
}

// Failures and lost hedges count apart: neither starts the other's
// count again.
func TestLostHedgesAndFailuresCountApart(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 3}, c.now, nil)
	p.lost("dbs/d/colls/c", "1", west, 3)
	p.record("dbs/d/colls/c", "1", west, readFailure)
	p.lost("dbs/d/colls/c", "1", west, 3)
	p.record("dbs/d/colls/c", "1", west, readFailure)
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.Equal(t, PartitionTripped, p.lost("dbs/d/colls/c", "1", west, 3))
}

// Once a read circuit is due, the read that finds it due leaves the test
// to a probe and still avoids the region, as every read does until the
// probe reports: a healthy answer closes the circuit, a failure opens it
// again.
func TestAProbeTestsADueReadCircuit(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: time.Second}, c.now, nil)
	p.probing = true
	p.record("dbs/d/colls/c", "1", west, readFailure)
	avoid, probe := p.check("dbs/d/colls/c", "1", west, true)
	assert.True(t, avoid)
	assert.False(t, probe, "not due yet")

	c.t = c.t.Add(1200 * time.Millisecond)
	avoid, probe = p.check("dbs/d/colls/c", "1", west, true)
	assert.True(t, avoid, "the read goes elsewhere")
	assert.True(t, probe, "and starts the probe")
	for range 3 {
		avoid, probe = p.check("dbs/d/colls/c", "1", west, true)
		assert.True(t, avoid)
		assert.False(t, probe, "one probe at a time")
	}
	p.record("dbs/d/colls/c", "1", west, notCounted) // a call cancelled meanwhile: the probe is still the test
	_, probe = p.check("dbs/d/colls/c", "1", west, true)
	assert.False(t, probe)
	assert.Equal(t, PartitionReopened, p.probeEnded("dbs/d/colls/c", "1", west, readFailure))
	assert.True(t, p.avoid("dbs/d/colls/c", "1", west))

	c.t = c.t.Add(1200 * time.Millisecond)
	_, probe = p.check("dbs/d/colls/c", "1", west, true)
	require.True(t, probe)
	assert.Equal(t, PartitionRecovered, p.probeEnded("dbs/d/colls/c", "1", west, success))
	assert.False(t, p.avoid("dbs/d/colls/c", "1", west))
	assert.Zero(t, p.probes)
}

// A probe tests neither a circuit that counted a write's failure (only a
// write shows that the range takes writes) nor one tripped by lost hedges
// (only a read shows that the region answers in time), nor one after a
// probe whose answer was unclear; nor does a write call start one; nor
// do more than maxProbes run at once. A real call tests those.
func TestWhatAProbeDoesNotTest(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: time.Second}, c.now, nil)
	p.probing = true
	p.record("dbs/d/colls/c", "w", west, writeFailure)
	p.lost("dbs/d/colls/c", "h", west, 1)
	p.record("dbs/d/colls/c", "u", west, readFailure)
	p.record("dbs/d/colls/c", "r", west, readFailure)
	c.t = c.t.Add(1200 * time.Millisecond)

	_, probe := p.check("dbs/d/colls/c", "u", west, true)
	require.True(t, probe)
	assert.Zero(t, p.probeEnded("dbs/d/colls/c", "u", west, unclear))
	for _, id := range []string{"w", "h", "u"} {
		avoid, probe := p.check("dbs/d/colls/c", id, west, true)
		assert.False(t, avoid, "%s: this read tests the region", id)
		assert.False(t, probe, id)
	}
	avoid, probe := p.check("dbs/d/colls/c", "r", west, false)
	assert.False(t, avoid, "a write tests the region itself")
	assert.False(t, probe)

	for i := range maxProbes + 2 {
		p.record("dbs/d/colls/c", strconv.Itoa(i), east, readFailure)
	}
	c.t = c.t.Add(1200 * time.Millisecond)
	probes := 0
	for i := range maxProbes + 2 {
		if _, probe := p.check("dbs/d/colls/c", strconv.Itoa(i), east, true); probe {
			probes++
		}
	}
	assert.Equal(t, maxProbes, probes, "the rest are tested by their calls")
}

// A probe whose answer does not count (throttled, cut short) is followed
// by the next one only after another open period, not at once.
func TestAProbeThatSaysNothingWaitsAnOpenPeriod(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	p := newPartitions(policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: time.Second}, c.now, nil)
	p.probing = true
	p.record("dbs/d/colls/c", "1", west, readFailure)
	c.t = c.t.Add(1200 * time.Millisecond)
	_, probe := p.check("dbs/d/colls/c", "1", west, true)
	require.True(t, probe)
	assert.Zero(t, p.probeEnded("dbs/d/colls/c", "1", west, notCounted))
	avoid, probe := p.check("dbs/d/colls/c", "1", west, true)
	assert.True(t, avoid)
	assert.False(t, probe)
	c.t = c.t.Add(1200 * time.Millisecond)
	_, probe = p.check("dbs/d/colls/c", "1", west, true)
	assert.True(t, probe)
}
