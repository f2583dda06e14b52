package decide

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

// The tracked-write doubt, for every outcome of a single-write account's
// write: tracked or not, a create or not, its body replayable (so that
// the rules' retries go) or not, the doubt raised by this attempt or by an
// earlier ambiguous one.
func TestTrackedWriteDoubt(t *testing.T) {
	for _, tt := range []struct {
		name     string
		o        Outcome
		resp     *http.Response
		doubtful bool // the attempt itself may have committed
		tracked  bool // a tracked write retries it
		plain    bool // an untracked write retries it
		settles  bool // a read-back can settle it when the call ends on it
	}{
		{"200", OK, response(200, 0), false, false, false, false},
		{"201", OK, response(201, 0), false, false, false, false},
		{"400", Final, response(400, 0), false, false, false, false},
		{"404", Final, response(404, 0), false, false, false, false},
		{"409", Final, response(409, 0), false, false, false, true},
		{"412", Final, response(412, 0), false, false, false, true},
		{"429", throttled, response(429, 0), false, true, true, false},
		{"449", retryWith, response(449, 0), false, true, true, false},
		{"503", unavailable, response(503, 0), true, true, true, true},
		{"500", serverError, response(500, 0), false, false, false, false},
		{"408", requestTimeout, response(408, 0), true, true, false, true},
		{"403.3", WriteForbidden, response(403, 3), false, true, true, false},
		{"403.1008", regionNotFound, response(403, 1008), false, true, true, false},
		{"404.1002", sessionNotAvailable, response(404, 1002), false, false, false, false},
		{"never sent", NeverSent, nil, false, true, true, true},
		{"ambiguous", Ambiguous, nil, true, true, false, true},
		{"canceled", canceled, nil, false, false, false, true},
		{"circuit open", circuitOpen, nil, false, false, false, true},
	} {
		for _, tracked := range []bool{false, true} {
			for _, creates := range []bool{false, true} {
				for _, replayable := range []bool{false, true} {
					for _, earlier := range []bool{false, true} {
						name := fmt.Sprintf("%s/tracked=%v/creates=%v/replayable=%v/earlier=%v", tt.name, tracked, creates, replayable, earlier)
						t.Run(name, func(t *testing.T) {
							c := New(policy.RetryOptions{}, newClock().Now, fixedRand(0)).Call()
							s := Situation{Write: true, Replayable: replayable, Account: true, Tracked: tracked, Creates: creates}
							if earlier {
								c.Decide(Ambiguous, nil, s)
							}
							d := c.Decide(tt.o, tt.resp, s)

							retry := replayable && (tt.plain || tracked && tt.tracked)
							assert.Equal(t, retry, d.Retry, "Retry")
							doubt := tracked && (earlier || tt.doubtful)
							switch {
							case !doubt:
								assert.False(t, d.ReadBack, "no doubt, no read-back")
							case retry:
								assert.Equal(t, !creates, d.ReadBack, "read back before a resend, unless a create")
							default:
								assert.Equal(t, tt.settles, d.ReadBack, "read back an answer it can settle")
							}
							if !doubt && (tt.o == OK || tt.o == Final) {
								assert.Equal(t, Decision{Reason: tt.o}, d)
							}
						})
					}
				}
			}
		}
	}
}

// A doubt lasts for the rest of the call: a create resent after an
// ambiguous attempt goes without a read-back, and the 409 it meets is read
// back; a later success is returned as it came.
func TestDoubtLastsForTheCall(t *testing.T) {
	p := New(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	create := Situation{Write: true, Replayable: true, Account: true, Tracked: true, Creates: true}

	c := p.Call()
	d := c.Decide(throttled, response(429, 0), create)
	assert.Equal(t, Decision{Retry: true, Wait: d.Wait, Route: sameEndpoint, Reason: throttled}, d, "no doubt yet")
	d = c.Decide(Ambiguous, nil, create)
	assert.True(t, d.Retry)
	assert.False(t, d.ReadBack, "a create is resent as it is")
	d = c.Decide(throttled, response(429, 0), create)
	assert.True(t, d.Retry)
	assert.False(t, d.ReadBack)
	d = c.Decide(Final, response(409, 0), create)
	assert.Equal(t, Decision{Reason: Final, ReadBack: true}, d)

	upsert := create
	upsert.Creates = false
	c = p.Call()
	c.Decide(requestTimeout, response(408, 0), upsert)
	d = c.Decide(throttled, response(429, 0), upsert)
	assert.True(t, d.Retry)
	assert.True(t, d.ReadBack, "every resend of an upsert in doubt reads back first")
	d = c.Decide(OK, response(200, 0), upsert)
	assert.Equal(t, Decision{Reason: OK}, d)
}

// A resend after a 403.3 that cannot be carried out (no account to learn
// the new region from) returns the answer; after a doubt, a read-back
// settles it only where the answer is one a read-back can settle.
func TestUnableKeepsWhatTheAnswerTeachesAndTheDoubtRule(t *testing.T) {
	p := New(policy.RetryOptions{}, nil, func() float64 { return 0 })
	s := Situation{Write: true, Replayable: true, Account: true, Tracked: true}
	for _, tt := range []struct {
		name     string
		first    *http.Response // nil: an ambiguous failure
		readBack bool
	}{
		{"no doubt", response(200, 0), false},
		{"after an ambiguous attempt", nil, false},
	} {
		c := p.Call()
		if tt.first == nil {
			c.Decide(Ambiguous, nil, s)
		}
		forbidden := response(403, 3)
		d := c.Decide(WriteForbidden, forbidden, s)
		assert.True(t, d.Retry, tt.name)
		u := c.Unable(d, forbidden)
		assert.False(t, u.Retry, tt.name)
		assert.Zero(t, u.Wait, tt.name)
		assert.Equal(t, WriteForbidden, u.Reason, tt.name)
		assert.Equal(t, d.Mark, u.Mark, tt.name)
		assert.Equal(t, tt.readBack, u.ReadBack, "%s: a 403 is not settled by a read-back", tt.name)

		unavailable := response(503, 0)
		assert.Equal(t, tt.first == nil, c.Unable(d, unavailable).ReadBack, "%s: a 503 is settled by a read-back after a doubt", tt.name)
	}
}
