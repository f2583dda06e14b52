package decide_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/policy"
)

// A call pinned to one region (an arm of a hedged read) keeps the rules
// that retry where it is and ends where it would move, still teaching the
// account what the answer says.
func TestPinnedCallEndsWhereItWouldMove(t *testing.T) {
	p := decide.New(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	c := p.Call()
	s := decide.Situation{Replayable: true, OtherRegion: true, Account: true, Pinned: true}

	d := c.Decide(decide.Throttled, withHeader(http.StatusTooManyRequests, "x-ms-retry-after-ms", "5"), s)
	assert.True(t, d.Retry)
	assert.Equal(t, decide.SameEndpoint, d.Route)

	d = c.Decide(decide.Unavailable, response(http.StatusServiceUnavailable, 0), s)
	assert.False(t, d.Retry, "a 503 moves a read: the arm ends")
	assert.Zero(t, d.Wait)
	assert.True(t, d.Mark, "the region is still marked")

	d = c.Decide(decide.RegionNotFound, response(http.StatusForbidden, 1008), s)
	assert.False(t, d.Retry)
	assert.True(t, d.LookUp, "not resending: the account is read again in the background")

	s.Pinned = false
	unpinned := p.Call()
	d = unpinned.Decide(decide.Unavailable, response(http.StatusServiceUnavailable, 0), s)
	assert.True(t, d.Retry, "unpinned, the read moves on")
	assert.Equal(t, decide.NextRegion, d.Route)
}
