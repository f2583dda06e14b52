package throttle

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// clock is a fake clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_800_000_000, 0)} }
func ms(n int) time.Duration         { return time.Duration(n) * time.Millisecond }
func key(r string) Key               { return Key{Container: "dbs/d/colls/c", Range: r, Host: "west:443"} }
func answer(status, sub int, charge float64) Answer {
	return Answer{Status: status, SubStatus: sub, Charge: charge, Charged: true}
}

func newThrottle(t *testing.T, c *clock, o policy.ThroughputOptions) *Throttle {
	t.Helper()
	th, err := New(Options{ThroughputOptions: o, Now: c.now})
	require.NoError(t, err)
	return th
}

func TestGroupPacesEachRangeAtItsShareOfTheTarget(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 400}}})
	g, _ := th.Group("batch")
	// 4 ranges: 100 RU/s each; writes of 10 RU: one every 100 ms per range,
	// after a burst of the tolerance.
	var waits []time.Duration
	for i := 0; i < 5; i++ {
		var s Slot
		require.NoError(t, th.Reserve(Call{Group: g, Key: key("0"), Ranges: 4, Kind: Write}, &s))
		th.Settle(&s, answer(201, 0, 10))
		waits = append(waits, s.Wait)
	}
	// The first reserves the first estimate (6 RU) and settles 10: the
	// estimate is then 10.
	assert.Equal(t, time.Duration(0), waits[0])
	for i := 2; i < 5; i++ {
		assert.InDelta(t, float64(waits[i-1]+ms(100)), float64(waits[i]), float64(ms(1)), "waits %v", waits)
	}
	// Another range is not held back by this one.
	var s Slot
	require.NoError(t, th.Reserve(Call{Group: g, Key: key("1"), Ranges: 4, Kind: Write}, &s))
	assert.Zero(t, s.Wait)
}

func TestGroupRefusesWhatCannotBeServedBeforeTheDeadline(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 10}}})
	g, _ := th.Group("batch")
	call := Call{Group: g, Key: key("0"), Ranges: 1, Kind: Read, Deadline: c.t.Add(ms(500))}
	var served, refused int
	for i := 0; i < 20; i++ {
		var s Slot
		err := th.Reserve(call, &s)
		var late *NotInTime
		if errors.As(err, &late) {
			refused++
			assert.Greater(t, late.Wait, ms(500)-serveMargin, "a turn must leave serveMargin before the deadline")
			continue
		}
		require.NoError(t, err)
		served++
	}
	// 10 RU/s, reads of 1 RU: the burst (100 ms: 1 RU) and 5 more within 500 ms.
	assert.InDelta(t, 6, served, 1)
	assert.Equal(t, 20-served, refused)
	// A refusal reserved nothing: after the deadline's wait has passed, the
	// next call waits no longer than the served ones' turns.
	c.add(time.Second)
	var s Slot
	require.NoError(t, th.Reserve(Call{Group: g, Key: key("0"), Ranges: 1, Kind: Read}, &s))
	assert.Zero(t, s.Wait)
}

func TestGroupQueueIsBounded(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{QueueLimit: 3, Groups: []policy.ThroughputGroup{{Name: "b", TargetRU: 1}}})
	g, _ := th.Group("b")
	var slots []Slot
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		var s Slot
		full = th.Reserve(Call{Group: g, Key: key("0"), Ranges: 1, Kind: Read}, &s)
		if full == nil {
			slots = append(slots, s)
		}
	}
	var late *NotInTime
	require.ErrorAs(t, full, &late)
	assert.True(t, late.QueueFull)
	assert.Len(t, slots, 4, "one goes at once, three wait")
	// One waiter leaves: there is room for one more.
	th.Cancel(&slots[3])
	var s Slot
	assert.NoError(t, th.Reserve(Call{Group: g, Key: key("0"), Ranges: 1, Kind: Read}, &s))
}

func TestChargeAboveTheEstimateIsDebtTheNextCallsWaitOut(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "b", TargetRU: 100}}})
	g, _ := th.Group("b")
	var s Slot
	require.NoError(t, th.Reserve(Call{Group: g, Key: key("0"), Ranges: 1, Kind: Query}, &s))
	th.Settle(&s, answer(200, 0, 300)) // 3 s of the group's budget
	require.NoError(t, th.Reserve(Call{Group: g, Key: key("0"), Ranges: 1, Kind: Read}, &s))
	assert.InDelta(t, float64(3*time.Second-groupTolerance), float64(s.Wait), float64(ms(2)))
	st := th.GroupStatus()
	require.Len(t, st, 1)
	assert.InDelta(t, 300, st[0].Debt, 2)
	assert.Equal(t, 1, st[0].Queued)
}

func TestThrottledRangeHoldsItsCallsUntilTheHint(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{})
	var s Slot
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
	th.Settle(&s, Answer{Status: 429, SubStatus: 3200, Hint: ms(400), Range: "0", Charged: true})
	require.True(t, th.Holding())

	// A call of the held range waits out the hint (spread by up to 100 ms);
	// one of another range, or region, does not.
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
	assert.GreaterOrEqual(t, s.Wait, ms(400))
	assert.LessOrEqual(t, s.Wait, ms(500))
	require.NoError(t, th.Reserve(Call{Key: key("1"), Kind: Read}, &s))
	assert.Zero(t, s.Wait)
	other := key("0")
	other.Host = "east:443"
	require.NoError(t, th.Reserve(Call{Key: other, Kind: Read}, &s))
	assert.Zero(t, s.Wait)

	// A call whose deadline comes first goes at once, as before.
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read, Deadline: c.t.Add(ms(100))}, &s))
	assert.Zero(t, s.Wait)

	// Other sub-statuses hold nothing.
	for _, sub := range []int{3212, 3092, 0} {
		require.NoError(t, th.Reserve(Call{Key: key("7"), Kind: Read}, &s))
		th.Settle(&s, Answer{Status: 429, SubStatus: sub, Hint: ms(400), Range: "7"})
		require.NoError(t, th.Reserve(Call{Key: key("7"), Kind: Read}, &s))
		assert.Zero(t, s.Wait, "sub-status %d", sub)
	}
}

func TestLowPriorityThrottleNeverHoldsHighCalls(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{})
	var s Slot
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Write, Low: true}, &s))
	th.Settle(&s, Answer{Status: 429, SubStatus: 3200, Hint: ms(300), Range: "0"})
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
	assert.Zero(t, s.Wait, "a High call is not held by a Low call's 429")
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read, Low: true}, &s))
	assert.GreaterOrEqual(t, s.Wait, ms(300))

	// A High call's 429 holds Low calls too.
	require.NoError(t, th.Reserve(Call{Key: key("1"), Kind: Read}, &s))
	th.Settle(&s, Answer{Status: 429, SubStatus: 3200, Hint: ms(300), Range: "1"})
	require.NoError(t, th.Reserve(Call{Key: key("1"), Kind: Read, Low: true}, &s))
	assert.GreaterOrEqual(t, s.Wait, ms(300))
}

func TestHeldRangeLearnsItsRateAndReleasesCallsGradually(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{})
	throttle := func() {
		var s Slot
		require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
		th.Settle(&s, Answer{Status: 429, SubStatus: 3200, Hint: ms(10), Range: "0"})
	}
	throttle()
	// 2 s serving 100 RU/s: 200 reads of 1 RU, then throttled again.
	for i := 0; i < 200; i++ {
		c.add(ms(10))
		var s Slot
		require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
		th.Settle(&s, answer(200, 0, 1))
	}
	throttle()
	st := th.HeldStatus()
	require.Len(t, st, 1)
	assert.InDelta(t, 95, st[0].Rate, 3, "95 %% of what the range served")

	// Calls released after the hold are spaced at that rate: 20 calls of
	// 1 RU over about 200 ms, not at once.
	var first, last time.Duration
	for i := 0; i < 20; i++ {
		var s Slot
		require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
		if i == 0 {
			first = s.Wait
		}
		last = s.Wait
	}
	assert.GreaterOrEqual(t, first, ms(10), "not before the hold ends")
	assert.InDelta(t, float64(ms(19*1000/95)-heldTolerance), float64(last-first), float64(ms(12)))

	// Quiet for long enough, the range is forgotten: calls pay nothing.
	c.add(quietForget + 2*time.Second)
	var s Slot
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
	assert.Zero(t, s.Wait)
	assert.False(t, th.Holding())
}

func TestGroupsAreChecked(t *testing.T) {
	for _, g := range []policy.ThroughputGroup{
		{}, {Name: "a"}, {Name: "a", TargetRU: -1}, {Name: "a", TargetShare: 1.5}, {Name: "a", TargetRU: 1, Priority: 9},
	} {
		_, err := New(Options{ThroughputOptions: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{g}}})
		assert.Error(t, err, "%+v", g)
	}
	_, err := New(Options{ThroughputOptions: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "a", TargetRU: 1}, {Name: "a", TargetRU: 2}}}})
	assert.ErrorContains(t, err, "taken")
}

// Calls of other ranges forget quiet held ranges too, every so often, so
// that once the service stops throttling nobody pays for holds.
func TestQuietHeldRangesAreSweptByOtherCalls(t *testing.T) {
	c := newClock()
	th := newThrottle(t, c, policy.ThroughputOptions{})
	var s Slot
	require.NoError(t, th.Reserve(Call{Key: key("0"), Kind: Read}, &s))
	th.Settle(&s, Answer{Status: 429, SubStatus: 3200, Hint: ms(10), Range: "0"})
	require.True(t, th.Holding())
	c.add(quietForget + time.Second)
	for i := 0; i < sweepEvery && th.Holding(); i++ {
		require.NoError(t, th.Reserve(Call{Key: key("9"), Kind: Read}, &s))
	}
	assert.False(t, th.Holding())
}
