package decide

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func fixedRand(x float64) func() float64 { return func() float64 { return x } }

// withHeader returns a response with the status and one header.
func withHeader(status int, key, value string) *http.Response {
	h := http.Header{}
	h.Set(key, value)
	return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}
}

// testCall is a Call under test, fed answers as one of a call that nothing
// else stops from retrying.
type testCall struct{ Call }

func newCall(o policy.RetryOptions, now func() time.Time, random func() float64) *testCall {
	return &testCall{New(o, now, random).Call()}
}

// decide returns the Call's decision after an attempt of a read (write
// false) or a write whose outcome is o, in a situation that lets any retry
// go (a replayable body, another region, an account, no deadline), less
// what the answer teaches the account (Mark, LookUp: see TestTeaches).
func (c *testCall) decide(write bool, o Outcome, resp *http.Response) Decision {
	d := c.Decide(o, resp, Situation{Write: write, Replayable: true, OtherRegion: true, Account: true})
	d.Mark, d.LookUp, d.Unknown = false, false, false // tested in call_test.go and doubt_test.go
	return d
}

// retries feeds the same outcome to r until it stops retrying (at most
// 1000 times), moving the clock by each wait plus rtt, and returns the
// retry decisions.
func retries(t *testing.T, r *testCall, clock *fakeClock, rtt time.Duration, write bool, o Outcome, resp *http.Response) []Decision {
	t.Helper()
	var ds []Decision
	for range 1000 {
		d := r.decide(write, o, resp)
		if !d.Retry {
			assert.Equal(t, Decision{Reason: o}, d, "a stop carries only its reason")
			return ds
		}
		assert.Equal(t, o, d.Reason)
		ds = append(ds, d)
		if clock != nil {
			clock.Advance(d.Wait + rtt)
		}
	}
	t.Fatalf("still retrying %s after 1000 decisions", o)
	return nil
}

func waits(ds []Decision) []time.Duration {
	w := make([]time.Duration, len(ds))
	for i, d := range ds {
		w[i] = d.Wait
	}
	return w
}

func sum(ds []Decision) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d.Wait
	}
	return s
}

const ms = time.Millisecond

func TestUnavailableReads(t *testing.T) {
	clock := newClock()
	r := newCall(policy.RetryOptions{}, clock.Now, fixedRand(0))
	ds := retries(t, r, clock, 0, false, unavailable, response(503, 0))
	assert.Equal(t, []Decision{
		{Retry: true, Wait: 0, Route: NextRegion, budgeted: true, Reason: unavailable},
		{Retry: true, Wait: 100 * ms, Route: NextRegion, budgeted: true, Reason: unavailable},
		{Retry: true, Wait: 200 * ms, Route: NextRegion, budgeted: true, Reason: unavailable},
	}, ds)
}

func TestUnavailableWrites(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, true, unavailable, response(503, 0))
	assert.Equal(t, []Decision{
		{Retry: true, Wait: 100 * ms, Route: NextRegion, budgeted: true, Reason: unavailable},
		{Retry: true, Wait: 200 * ms, Route: NextRegion, budgeted: true, Reason: unavailable},
		{Retry: true, Wait: 400 * ms, Route: NextRegion, budgeted: true, Reason: unavailable},
	}, ds)

	r = newCall(policy.RetryOptions{MaxUnavailableRetries: 5, UnavailableMax: 150 * ms}, newClock().Now, fixedRand(0.5))
	ds = retries(t, r, nil, 0, true, unavailable, response(503, 0))
	assert.Equal(t, []time.Duration{75 * ms, 112500 * time.Microsecond, 112500 * time.Microsecond, 112500 * time.Microsecond, 112500 * time.Microsecond}, waits(ds))
}

func TestNeverSent(t *testing.T) {
	for _, write := range []bool{false, true} {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, write, NeverSent, nil)
		assert.Equal(t, []time.Duration{0, 100 * ms, 200 * ms}, waits(ds), "write %v", write)
		for _, d := range ds {
			// Writes: the next write region of a multi-write account, else
			// the write endpoint again (nothing was sent).
			assert.Equal(t, NextRegion, d.Route, "write %v", write)
			assert.True(t, d.budgeted)
		}
	}
}

func TestAmbiguousWritesAreNeverRetried(t *testing.T) {
	opts := []policy.RetryOptions{{}, {MaxUnavailableRetries: 100}, {UnavailableInitial: time.Nanosecond}}
	for _, o := range opts {
		r := newCall(o, newClock().Now, fixedRand(0))
		assert.Empty(t, retries(t, r, nil, 0, true, Ambiguous, nil), "%+v", o)
	}
	// Even after other retries of the same call.
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	require.True(t, r.decide(true, NeverSent, nil).Retry)
	assert.False(t, r.decide(true, Ambiguous, nil).Retry)

	r = newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, Ambiguous, nil)
	assert.Equal(t, []time.Duration{0, 100 * ms, 200 * ms}, waits(ds), "reads are")
}

func TestUnavailabilityRetriesShareOneCap(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	assert.Equal(t, time.Duration(0), r.decide(false, NeverSent, nil).Wait)
	assert.Equal(t, 100*ms, r.decide(false, unavailable, nil).Wait)
	assert.Equal(t, 200*ms, r.decide(false, Ambiguous, nil).Wait)
	for _, o := range []Outcome{unavailable, NeverSent, Ambiguous, serverError, requestTimeout} {
		assert.False(t, r.decide(false, o, nil).Retry, "%s after the cap", o)
	}
}

func TestServerErrorAndRequestTimeout(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, serverError, response(500, 0))
	assert.Equal(t, []Decision{{Retry: true, Route: NextRegion, otherRegionOnly: true, budgeted: true, Reason: serverError}}, ds)

	r = newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds = retries(t, r, nil, 0, false, requestTimeout, response(408, 0))
	assert.Equal(t, []Decision{{Retry: true, Route: NextRegion, budgeted: true, Reason: requestTimeout}}, ds)

	for _, o := range []Outcome{serverError, requestTimeout} {
		assert.Empty(t, retries(t, newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0)), nil, 0, true, o, nil), "writes: %s", o)
	}
}

func TestWriteForbiddenFailover(t *testing.T) {
	clock := newClock()
	start := clock.Now()
	r := newCall(policy.RetryOptions{}, clock.Now, fixedRand(0))
	resp := response(403, 3)
	// Each resend takes 50ms to come back with another 403.3.
	var sentAt []time.Duration
	var ds []Decision
	for range 1000 {
		d := r.decide(true, WriteForbidden, resp)
		if !d.Retry {
			break
		}
		ds = append(ds, d)
		clock.Advance(d.Wait)
		sentAt = append(sentAt, clock.Now().Sub(start))
		clock.Advance(50 * ms)
	}
	require.NotEmpty(t, ds)
	assert.Equal(t, Decision{Retry: true, Route: Refresh, Reason: WriteForbidden}, ds[0], "the first resend goes at once")
	for _, d := range ds[1:] {
		assert.Equal(t, Decision{Retry: true, Wait: time.Second, Route: Refresh, Reason: WriteForbidden}, d)
	}
	assert.LessOrEqual(t, sentAt[len(sentAt)-1], 60*time.Second, "no resend after MaxFailoverWait")
	assert.Greater(t, sentAt[len(sentAt)-1], 58*time.Second, "resends go on until about MaxFailoverWait")
	assert.Len(t, ds, 58)

	assert.Empty(t, retries(t, newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0)), nil, 0, false, WriteForbidden, resp), "reads")
}

func TestFailoverIsBoundedWithAStoppedClock(t *testing.T) {
	r := newCall(policy.RetryOptions{MaxFailoverWait: 10 * time.Second}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, true, WriteForbidden, nil)
	assert.Len(t, ds, 11, "one at once, then ten spaced a second apart")
}

func TestRegionNotFoundFailover(t *testing.T) {
	for _, write := range []bool{false, true} {
		clock := newClock()
		r := newCall(policy.RetryOptions{MaxFailoverWait: 5 * time.Second, FailoverInterval: 2 * time.Second}, clock.Now, fixedRand(0))
		ds := retries(t, r, clock, 0, write, regionNotFound, response(403, 1008))
		assert.Equal(t, []time.Duration{0, 2 * time.Second, 2 * time.Second}, waits(ds), "write %v", write)
		for _, d := range ds {
			assert.Equal(t, Refresh, d.Route)
			assert.False(t, d.budgeted)
		}
	}
}

func TestFailoverSharesItsClockAcrossSubStatuses(t *testing.T) {
	clock := newClock()
	r := newCall(policy.RetryOptions{MaxFailoverWait: 3 * time.Second}, clock.Now, fixedRand(0))
	require.Equal(t, time.Duration(0), r.decide(true, WriteForbidden, nil).Wait)
	clock.Advance(2500 * ms)
	assert.False(t, r.decide(true, regionNotFound, nil).Retry)
}

func TestFailoverNegativeOptions(t *testing.T) {
	r := newCall(policy.RetryOptions{MaxFailoverWait: -1}, newClock().Now, fixedRand(0))
	assert.Empty(t, retries(t, r, nil, 0, true, WriteForbidden, nil))
	r = newCall(policy.RetryOptions{FailoverInterval: -1}, newClock().Now, fixedRand(0))
	assert.Equal(t, []time.Duration{0}, waits(retries(t, r, nil, 0, true, WriteForbidden, nil)), "only the first resend")
}

func TestSessionNotAvailable(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, sessionNotAvailable, response(404, 1002))
	want := Decision{Retry: true, Route: WriteRegion, Reason: sessionNotAvailable}
	assert.Equal(t, []Decision{want, want}, ds)

	assert.Empty(t, retries(t, newCall(policy.RetryOptions{}, newClock().Now, nil), nil, 0, true, sessionNotAvailable, nil), "writes")
	assert.Empty(t, retries(t, newCall(policy.RetryOptions{MaxSessionRetries: -1}, newClock().Now, nil), nil, 0, false, sessionNotAvailable, nil), "off")
	assert.Len(t, retries(t, newCall(policy.RetryOptions{MaxSessionRetries: 5}, newClock().Now, nil), nil, 0, false, sessionNotAvailable, nil), 5)
}

func TestCircuitOpen(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, circuitOpen, nil)
	want := Decision{Retry: true, Route: NextRegion, otherRegionOnly: true, Reason: circuitOpen}
	assert.Equal(t, []Decision{want, want, want}, ds)
	// Writes too, but only to another region: one that a multi-write
	// account has and a single-write account has not.
	ds = retries(t, newCall(policy.RetryOptions{}, newClock().Now, nil), nil, 0, true, circuitOpen, nil)
	assert.Equal(t, []Decision{want, want, want}, ds, "writes")
}

func TestFinalOutcomesAreNotRetried(t *testing.T) {
	for _, o := range []Outcome{OK, Final, canceled, Outcome(200)} {
		for _, write := range []bool{false, true} {
			r := newCall(policy.RetryOptions{}, newClock().Now, nil)
			assert.Equal(t, Decision{Reason: o}, r.decide(write, o, response(200, 0)), "%s write %v", o, write)
		}
	}
}

func TestMaxUnavailableRetriesOff(t *testing.T) {
	o := policy.RetryOptions{MaxUnavailableRetries: -1}
	for _, out := range []Outcome{unavailable, serverError, requestTimeout, NeverSent, Ambiguous, circuitOpen} {
		for _, write := range []bool{false, true} {
			assert.False(t, newCall(o, newClock().Now, nil).decide(write, out, nil).Retry, "%s write %v", out, write)
		}
	}
	// Other kinds of retry are unaffected.
	assert.True(t, newCall(o, newClock().Now, nil).decide(true, throttled, nil).Retry)
}

func TestUnavailableBackoffOff(t *testing.T) {
	for _, o := range []policy.RetryOptions{{UnavailableInitial: -1}, {UnavailableMax: -1}} {
		read := retries(t, newCall(o, newClock().Now, nil), nil, 0, false, unavailable, nil)
		assert.Equal(t, []time.Duration{0}, waits(read), "a read's first retry still goes at once")
		assert.Empty(t, retries(t, newCall(o, newClock().Now, nil), nil, 0, true, unavailable, nil), "writes always back off")
		sent := retries(t, newCall(o, newClock().Now, nil), nil, 0, true, NeverSent, nil)
		assert.Equal(t, []time.Duration{0}, waits(sent))
	}
}
