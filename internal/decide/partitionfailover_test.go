package decide

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

func TestMovesRange(t *testing.T) {
	for o := range Outcome(len(outcomeNames)) {
		assert.Equal(t, o == WriteForbidden || o == unavailable, MovesRange(o), o.String())
	}
}

// Under per-partition failover a 403.3 moves the range's write to each
// region the call has not tried, at once; once every region refused it,
// the call fails over as the account's writes do, and stays so.
func TestA403_3MovesARangesWriteRegionByRegion(t *testing.T) {
	clock := newClock()
	c := New(policy.RetryOptions{}, clock.Now, fixedRand(0)).Call()
	s := Situation{Write: true, Replayable: true, OtherRegion: true, Account: true, Ranged: true, PartitionFailover: true}
	refused := response(http.StatusForbidden, 3)
	for range 2 {
		d := c.Decide(WriteForbidden, refused, s)
		assert.Equal(t, Decision{Retry: true, Route: NextRegion, otherRegionOnly: true, Reason: WriteForbidden}, d)
	}
	s.OtherRegion = false
	d := c.Decide(WriteForbidden, refused, s)
	assert.True(t, d.Retry)
	assert.Equal(t, Refresh, d.Route, "every region refused: the account may have moved")
	assert.True(t, d.Mark)
	assert.Zero(t, d.Wait)

	s.OtherRegion = true // the account's regions, from the top
	d = c.Decide(WriteForbidden, refused, s)
	assert.Equal(t, Refresh, d.Route, "the call fails over as the account's writes do from then on")
	assert.Equal(t, defaultFailoverInterval, d.Wait)

	plain := New(policy.RetryOptions{}, clock.Now, fixedRand(0)).Call()
	s.PartitionFailover = false
	assert.Equal(t, Refresh, plain.Decide(WriteForbidden, refused, s).Route, "without per-partition failover: the account")
}

// A 503 moves a range's write to the range's next region after the
// backoff of a write's 503, and marks no region.
func TestA503MovesARangesWrite(t *testing.T) {
	c := New(policy.RetryOptions{}, newClock().Now, fixedRand(0)).Call()
	s := Situation{Write: true, Replayable: true, OtherRegion: true, Account: true, Ranged: true, PartitionFailover: true}
	d := c.Decide(unavailable, response(http.StatusServiceUnavailable, 0), s)
	assert.True(t, d.Retry)
	assert.Equal(t, NextRegion, d.Route)
	assert.Positive(t, d.Wait)
	assert.False(t, d.Mark)
	assert.False(t, d.LookUp)
}

// A tracked write in doubt is settled where it went, whatever the range's
// failover says, except after a 403.3: that region takes the write no
// more, and the write moves after its read-back.
func TestARangesWriteInDoubtStaysUntilRefused(t *testing.T) {
	c := New(policy.RetryOptions{}, newClock().Now, fixedRand(0)).Call()
	s := Situation{Write: true, Replayable: true, OtherRegion: true, Account: true, Ranged: true, PartitionFailover: true,
		Tracking: Tracking{Tracked: true, Upserts: true}}
	d := c.Decide(Ambiguous, nil, s)
	assert.True(t, d.Retry)
	assert.Equal(t, sameEndpoint, d.Route, "settled where it went")
	assert.True(t, d.ReadBack)

	d = c.Decide(unavailable, response(http.StatusServiceUnavailable, 0), s)
	assert.Equal(t, sameEndpoint, d.Route, "a 503 in doubt stays")

	d = c.Decide(WriteForbidden, response(http.StatusForbidden, 3), s)
	assert.True(t, d.Retry)
	assert.Equal(t, NextRegion, d.Route, "refused: it moves")
	assert.True(t, d.ReadBack, "after reading back where it met its doubt")
}
