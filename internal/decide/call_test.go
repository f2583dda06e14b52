package decide

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

// A call pinned to one region (an arm of a hedged read) keeps the rules
// that retry where it is and ends where it would move, still teaching the
// account what the answer says.
func TestPinnedCallEndsWhereItWouldMove(t *testing.T) {
	p := New(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	c := p.Call()
	s := Situation{Replayable: true, OtherRegion: true, Account: true, Pinned: true}

	d := c.Decide(throttled, withHeader(http.StatusTooManyRequests, "x-ms-retry-after-ms", "5"), s)
	assert.True(t, d.Retry)
	assert.Equal(t, sameEndpoint, d.Route)

	d = c.Decide(unavailable, response(http.StatusServiceUnavailable, 0), s)
	assert.False(t, d.Retry, "a 503 moves a read: the arm ends")
	assert.Zero(t, d.Wait)
	assert.True(t, d.Mark, "the region is still marked")

	d = c.Decide(regionNotFound, response(http.StatusForbidden, 1008), s)
	assert.False(t, d.Retry)
	assert.True(t, d.LookUp, "not resending: the account is read again in the background")

	s.Pinned = false
	unpinned := p.Call()
	d = unpinned.Decide(unavailable, response(http.StatusServiceUnavailable, 0), s)
	assert.True(t, d.Retry, "unpinned, the read moves on")
	assert.Equal(t, NextRegion, d.Route)
}

// An answer teaches the account about the endpoint that gave it whether
// or not the call goes on: Mark steers other calls away from it, LookUp
// reads the account again when this call will not wait to learn where the
// write region went.
func TestTeaches(t *testing.T) {
	read := Situation{Replayable: true, OtherRegion: true, Account: true}
	write := Situation{Write: true, Replayable: true, Account: true}
	multi := Situation{Write: true, MultiWrite: true, Replayable: true, OtherRegion: true, Account: true}
	noAccount := Situation{Write: true, Replayable: true}
	moving := Situation{Write: true, Replayable: true, OtherRegion: true, Account: true, Ranged: true, PartitionFailover: true}
	movedEverywhere := Situation{Write: true, Replayable: true, Account: true, Ranged: true, PartitionFailover: true}
	for _, tt := range []struct {
		name         string
		o            Outcome
		resp         *http.Response
		s            Situation
		mark, lookUp bool
	}{
		{"403.3 write resent", WriteForbidden, response(403, 3), write, true, false},
		{"403.3 write returned", WriteForbidden, response(403, 3), noAccount, true, true},
		{"403.3 read", WriteForbidden, response(403, 3), read, true, true},
		{"403.3 write of a range that moves", WriteForbidden, response(403, 3), moving, false, false},
		{"403.3 write of a range refused everywhere", WriteForbidden, response(403, 3), movedEverywhere, true, false},
		{"403.1008 read resent", regionNotFound, response(403, 1008), read, true, false},
		{"never sent read", NeverSent, nil, read, true, false},
		{"never sent write", NeverSent, nil, write, true, true},
		{"never sent multi-write", NeverSent, nil, multi, true, false},
		{"circuit open read", circuitOpen, nil, read, true, false},
		{"circuit open write", circuitOpen, nil, write, true, true},
		{"503 read", unavailable, response(503, 0), read, true, false},
		{"503 write", unavailable, response(503, 0), write, false, false},
		{"503 multi-write", unavailable, response(503, 0), multi, true, false},
		{"503 write of a range that moves", unavailable, response(503, 0), moving, false, false},
		{"429", throttled, response(429, 0), read, false, false},
		{"449", retryWith, response(449, 0), write, false, false},
		{"500", serverError, response(500, 0), read, false, false},
		{"408", requestTimeout, response(408, 0), read, false, false},
		{"ambiguous write", Ambiguous, nil, write, false, false},
		{"404.1002", sessionNotAvailable, response(404, 1002), read, false, false},
		{"ok", OK, response(200, 0), write, false, false},
		{"final", Final, response(409, 0), write, false, false},
		{"canceled", canceled, nil, write, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(policy.RetryOptions{}, newClock().Now, fixedRand(0)).Call()
			d := c.Decide(tt.o, tt.resp, tt.s)
			assert.Equal(t, tt.mark, d.Mark, "Mark")
			assert.Equal(t, tt.lookUp, d.LookUp, "LookUp")
		})
	}
}

// A Call is a value: starting one costs no allocation, and neither does
// a final answer of a call in no doubt.
func TestCallDoesNotAllocate(t *testing.T) {
	p := New(policy.RetryOptions{}, nil, nil)
	ok, conflict := response(http.StatusOK, 0), response(http.StatusConflict, 0)
	s := Situation{Write: true, Replayable: true, Tracking: Tracking{Tracked: true}}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		c := p.Call()
		_ = c.Decide(OK, ok, s)
		_ = c.Decide(Final, conflict, s)
	}))
}
