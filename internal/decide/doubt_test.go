package decide

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

// The write doubt, for every outcome of a single-write account's write:
// tracked or not, how it can be refused, its body replayable (so that the
// rules' retries go) or not, the doubt raised by this attempt or by an
// earlier ambiguous one.
func TestWriteDoubt(t *testing.T) {
	for _, tt := range []struct {
		name     string
		o        Outcome
		resp     *http.Response
		doubtful bool // the attempt itself may have committed unseen
		tracked  bool // a tracked write retries it
		plain    bool // an untracked write retries it
	}{
		{"200", OK, response(200, 0), false, false, false},
		{"201", OK, response(201, 0), false, false, false},
		{"400", Final, response(400, 0), false, false, false},
		{"404", Final, response(404, 0), false, false, false},
		{"409", Final, response(409, 0), false, false, false},
		{"412", Final, response(412, 0), false, false, false},
		{"429", throttled, response(429, 0), false, true, true},
		{"449", retryWith, response(449, 0), false, true, true},
		{"503", unavailable, response(503, 0), false, true, true},
		{"500", serverError, response(500, 0), false, false, false},
		{"408", requestTimeout, response(408, 0), true, true, false},
		{"403.3", WriteForbidden, response(403, 3), false, true, true},
		{"403.1008", regionNotFound, response(403, 1008), false, true, true},
		{"404.1002", sessionNotAvailable, response(404, 1002), false, false, false},
		{"never sent", NeverSent, nil, false, true, true},
		{"ambiguous", Ambiguous, nil, true, true, false},
		{"canceled", canceled, nil, false, false, false},
		{"circuit open", circuitOpen, nil, false, false, false},
	} {
		for _, tracking := range []Tracking{{}, {Tracked: true}, {Tracked: true, Creates: true}, {Tracked: true, Upserts: true}, {Tracked: true, IfMatch: true}} {
			for _, replayable := range []bool{false, true} {
				for _, earlier := range []bool{false, true} {
					if earlier && !tracking.Tracked {
						continue // the earlier ambiguous attempt ended the call
					}
					name := fmt.Sprintf("%s/%+v/replayable=%v/earlier=%v", tt.name, tracking, replayable, earlier)
					t.Run(name, func(t *testing.T) {
						c := New(policy.RetryOptions{}, newClock().Now, fixedRand(0)).Call()
						s := Situation{Write: true, Replayable: replayable, Account: true, Tracking: tracking}
						if earlier {
							c.Decide(Ambiguous, nil, s)
						}
						d := c.Decide(tt.o, tt.resp, s)

						tracked := tracking.Tracked
						retry := replayable && (tt.plain || tracked && tt.tracked)
						assert.Equal(t, retry, d.Retry, "Retry")
						doubt := tracked && (earlier || tt.doubtful)
						switch {
						case !doubt:
							assert.False(t, d.ReadBack, "no doubt, no read-back")
							if !earlier {
								assert.Equal(t, !retry && tt.o == Ambiguous, d.Unknown, "an untracked write that may have run ends unknown")
							}
						case retry:
							assert.Equal(t, !tracking.Creates && !tracking.IfMatch, d.ReadBack,
								"read back before a resend, unless the service can refuse a second run")
							assert.False(t, d.Unknown)
						default:
							assert.Equal(t, tt.o != OK, d.ReadBack, "read back every end but a success")
							assert.Equal(t, tt.o != OK, d.Unknown, "unknown unless the read-back finds the call's id")
						}
						if !doubt && !d.Unknown && (tt.o == OK || tt.o == Final) {
							assert.Equal(t, Decision{Reason: tt.o}, d)
						}
					})
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
	create := Situation{Write: true, Replayable: true, Account: true, Tracking: Tracking{Tracked: true, Creates: true}}

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
	assert.Equal(t, Decision{Reason: Final, ReadBack: true, Unknown: true}, d)

	upsert := Situation{Write: true, Replayable: true, Account: true, Tracking: Tracking{Tracked: true, Upserts: true}}
	c = p.Call()
	c.Decide(requestTimeout, response(408, 0), upsert)
	d = c.Decide(throttled, response(429, 0), upsert)
	assert.True(t, d.Retry)
	assert.True(t, d.ReadBack, "every resend of an upsert in doubt reads back first")
	d = c.Decide(OK, response(200, 0), upsert)
	assert.Equal(t, Decision{Reason: OK}, d)
}

// A write in doubt is resent only where the service can refuse a second
// run; only the call's own id acknowledges it.
func TestSettle(t *testing.T) {
	replace, upsert := Tracking{Tracked: true}, Tracking{Tracked: true, Upserts: true}
	create, guarded := Tracking{Tracked: true, Creates: true}, Tracking{Tracked: true, IfMatch: true}
	for _, tt := range []struct {
		t         Tracking
		f         Found
		resending bool
		want      Settlement
	}{
		{replace, FoundOurs, true, Acknowledge},
		{replace, FoundOurs, false, Acknowledge},
		{replace, FoundAbsent, true, Unknown},
		{replace, FoundOther, true, Unknown},
		{replace, FoundNothing, true, Unknown},
		{replace, FoundBase, true, ResendIfMatch},
		{upsert, FoundBase, true, ResendIfMatch},
		{upsert, FoundBase, false, Unknown},
		{upsert, FoundAbsent, true, ResendAsCreate},
		{upsert, FoundOther, true, Unknown},
		{upsert, FoundNothing, true, Unknown},
		{upsert, FoundAbsent, false, Unknown},
		{create, FoundNothing, true, Resend},
		{create, FoundOther, false, Unknown},
		{guarded, FoundBase, true, Resend},
		{guarded, FoundAbsent, true, Resend},
		{guarded, FoundNothing, true, Resend},
		{guarded, FoundOther, true, Unknown},
		{guarded, FoundBase, false, Unknown},
	} {
		c := New(policy.RetryOptions{}, nil, nil).Call()
		assert.Equal(t, tt.want, c.Settle(tt.f, tt.resending, tt.t), "%+v found %d resending %v", tt.t, tt.f, tt.resending)
	}
}

// A delete in doubt is resent; a 404 then means it is done.
func TestDeleteInDoubt(t *testing.T) {
	s := Situation{Write: true, Replayable: true, Account: true, Tracking: Tracking{Deletes: true}}
	c := New(policy.RetryOptions{}, nil, nil).Call()
	d := c.Decide(Ambiguous, nil, s)
	assert.True(t, d.Retry)
	assert.False(t, d.ReadBack)
	d = c.Decide(Final, response(404, 0), s)
	assert.Equal(t, Decision{Reason: Final, Gone: true}, d)

	c = New(policy.RetryOptions{}, nil, nil).Call()
	c.Decide(Ambiguous, nil, s)
	d = c.Decide(Final, response(412, 0), s)
	assert.True(t, d.Unknown, "any other end of a delete in doubt is unknown")
}

// A write whose caller's context ended after its request may have left
// ends unknown; one that never left does not.
func TestCanceledWriteThatMayHaveRunIsUnknown(t *testing.T) {
	c := New(policy.RetryOptions{}, nil, nil).Call()
	d := c.Decide(canceled, nil, Situation{Write: true, Replayable: true, Sent: true})
	assert.True(t, d.Unknown)
	d = c.Decide(canceled, nil, Situation{Write: true, Replayable: true})
	assert.False(t, d.Unknown)
}

// A read-back stays where it is sent: what the rules would send elsewhere
// is retried in place, unbudgeted; an open circuit ends it.
func TestStayRetriesInPlace(t *testing.T) {
	p := New(policy.RetryOptions{Budget: policy.BudgetOptions{Tokens: 1}}, newClock().Now, fixedRand(0))
	for range 3 {
		p.Judge(response(503, 0), nil) // empty the budget
	}
	c := p.Call()
	s := Situation{Replayable: true, Stay: true}
	d := c.Decide(unavailable, response(503, 0), s)
	assert.True(t, d.Retry, "not budgeted")
	assert.Equal(t, sameEndpoint, d.Route)
	d = c.Decide(serverError, response(500, 0), s)
	assert.True(t, d.Retry, "no other region needed")
	assert.Equal(t, sameEndpoint, d.Route)
	d = c.Decide(circuitOpen, nil, s)
	assert.False(t, d.Retry)
}

// MayHaveRun: only what the phase or the error's kind proves unsent is.
func TestMayHaveRun(t *testing.T) {
	assert.True(t, MayHaveRun(io.ErrUnexpectedEOF))
	assert.True(t, MayHaveRun(errors.New("anything")))
	assert.False(t, MayHaveRun(phased{io.ErrUnexpectedEOF, PhaseConnecting}))
	assert.True(t, MayHaveRun(phased{io.ErrUnexpectedEOF, PhaseWritten}))
}

// A resend after a 403.3 that cannot be carried out (no account to learn
// the new region from) returns the answer; after a doubt, the doubt rule
// of an answer that ends the call applies: read back, else unknown.
func TestUnableKeepsWhatTheAnswerTeachesAndTheDoubtRule(t *testing.T) {
	p := New(policy.RetryOptions{}, nil, func() float64 { return 0 })
	s := Situation{Write: true, Replayable: true, Account: true, Tracking: Tracking{Tracked: true}}
	for _, tt := range []struct {
		name  string
		doubt bool
	}{
		{"no doubt", false},
		{"after an ambiguous attempt", true},
	} {
		c := p.Call()
		if tt.doubt {
			c.Decide(Ambiguous, nil, s)
		}
		forbidden := response(403, 3)
		d := c.Decide(WriteForbidden, forbidden, s)
		assert.True(t, d.Retry, tt.name)
		u := c.Unable(d, forbidden, s)
		assert.False(t, u.Retry, tt.name)
		assert.Zero(t, u.Wait, tt.name)
		assert.Equal(t, WriteForbidden, u.Reason, tt.name)
		assert.Equal(t, d.Mark, u.Mark, tt.name)
		assert.Equal(t, tt.doubt, u.ReadBack, tt.name)
		assert.Equal(t, tt.doubt, u.Unknown, tt.name)
	}
}
