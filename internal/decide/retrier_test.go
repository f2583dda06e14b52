package decide_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/decide"
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

// retries feeds the same outcome to r until it stops retrying (at most
// 1000 times), moving the clock by each wait plus rtt, and returns the
// retry decisions.
func retries(t *testing.T, r *decide.Retrier, clock *fakeClock, rtt time.Duration, write bool, o decide.Outcome, resp *http.Response) []decide.Decision {
	t.Helper()
	var ds []decide.Decision
	for range 1000 {
		d := r.Decide(write, o, resp)
		if !d.Retry {
			assert.Equal(t, decide.Decision{Reason: o}, d, "a stop carries only its reason")
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

func waits(ds []decide.Decision) []time.Duration {
	w := make([]time.Duration, len(ds))
	for i, d := range ds {
		w[i] = d.Wait
	}
	return w
}

func sum(ds []decide.Decision) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d.Wait
	}
	return s
}

const ms = time.Millisecond

func TestThrottledWaitsTheHintAtMostNineTimes(t *testing.T) {
	clock := newClock()
	r := decide.NewRetrier(policy.RetryOptions{}, clock.Now, fixedRand(0))
	ds := retries(t, r, clock, 0, true, decide.Throttled, withHeader(429, "x-ms-retry-after-ms", "100"))
	require.Len(t, ds, 9)
	for _, d := range ds {
		assert.Equal(t, decide.Decision{Retry: true, Wait: 100 * ms, Route: decide.SameEndpoint, Reason: decide.Throttled}, d)
	}
}

func TestThrottledJitterIsSmallAndAfterTheHint(t *testing.T) {
	for _, x := range []float64{0, 0.5, 0.999999} {
		r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(x))
		d := r.Decide(false, decide.Throttled, withHeader(429, "x-ms-retry-after-ms", "1000"))
		require.True(t, d.Retry)
		assert.GreaterOrEqual(t, d.Wait, time.Second, "never before the hint (rand %v)", x)
		assert.Less(t, d.Wait, 1050*ms, "at most 5%% jitter (rand %v)", x)
	}
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0.5))
	assert.Equal(t, 1025*ms, r.Decide(false, decide.Throttled, withHeader(429, "x-ms-retry-after-ms", "1000")).Wait)
}

func TestThrottledStopsAtThirtySecondsCumulative(t *testing.T) {
	t.Run("default hint", func(t *testing.T) {
		clock := newClock()
		r := decide.NewRetrier(policy.RetryOptions{}, clock.Now, fixedRand(0))
		ds := retries(t, r, clock, 0, false, decide.Throttled, response(429, 0))
		assert.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}, waits(ds))
	})
	t.Run("server hint", func(t *testing.T) {
		r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, false, decide.Throttled, withHeader(429, "Retry-After", "7"))
		assert.Len(t, ds, 4, "4×7s fit in 30s, a fifth does not")
	})
	t.Run("jitter never crosses the cap", func(t *testing.T) {
		r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0.999999))
		// 2×(9.6s+5%) leave 9.84s: the third wait fits without its jitter.
		ds := retries(t, r, nil, 0, false, decide.Throttled, withHeader(429, "x-ms-retry-after-ms", "9600"))
		require.Len(t, ds, 3)
		assert.Equal(t, 30*time.Second, sum(ds))
		assert.Less(t, ds[2].Wait, ds[1].Wait, "the last wait is trimmed…")
		assert.GreaterOrEqual(t, ds[2].Wait, 9600*ms, "…never below the hint")
	})
	t.Run("a huge hint is clamped to MaxRetryAfter", func(t *testing.T) {
		r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, false, decide.Throttled, withHeader(429, "x-ms-retry-after-ms", "3600000"))
		assert.Equal(t, []time.Duration{30 * time.Second}, waits(ds))
	})
	t.Run("custom caps", func(t *testing.T) {
		r := decide.NewRetrier(policy.RetryOptions{MaxThrottleRetries: 20, MaxThrottleWait: time.Minute}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, false, decide.Throttled, withHeader(429, "x-ms-retry-after-ms", "1000"))
		assert.Len(t, ds, 20)
	})
}

func TestThrottledNegativeOptions(t *testing.T) {
	hinted := withHeader(429, "x-ms-retry-after-ms", "20000")
	bare := response(429, 0)
	tests := []struct {
		name      string
		o         policy.RetryOptions
		resp      *http.Response
		wantRetry bool
	}{
		{"MaxThrottleRetries off", policy.RetryOptions{MaxThrottleRetries: -1}, hinted, false},
		{"MaxThrottleWait off", policy.RetryOptions{MaxThrottleWait: -1}, hinted, false},
		{"DefaultRetryAfter off, no hint", policy.RetryOptions{DefaultRetryAfter: -1}, bare, false},
		{"DefaultRetryAfter off, hint", policy.RetryOptions{DefaultRetryAfter: -1}, hinted, true},
		{"MaxRetryAfter off, hint fits", policy.RetryOptions{MaxRetryAfter: -1}, hinted, true},
		{"MaxRetryAfter off, hint too long", policy.RetryOptions{MaxRetryAfter: -1}, withHeader(429, "x-ms-retry-after-ms", "40000"), false},
		{"no response", policy.RetryOptions{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide.NewRetrier(tt.o, newClock().Now, fixedRand(0)).Decide(false, decide.Throttled, tt.resp)
			assert.Equal(t, tt.wantRetry, d.Retry)
		})
	}
	d := decide.NewRetrier(policy.RetryOptions{MaxRetryAfter: -1}, newClock().Now, fixedRand(0)).Decide(false, decide.Throttled, hinted)
	assert.Equal(t, 20*time.Second, d.Wait)
}

func TestRetryWithBacksOffExponentially(t *testing.T) {
	clock := newClock()
	r := decide.NewRetrier(policy.RetryOptions{}, clock.Now, fixedRand(0))
	ds := retries(t, r, clock, 0, true, decide.RetryWith, response(449, 0))
	w := waits(ds)
	require.Len(t, w, 35, "10+20+…+640 ms, then 28×1s fit in 30s")
	assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}, w[:9])
	assert.LessOrEqual(t, sum(ds), 30*time.Second)
	for _, d := range ds {
		assert.Equal(t, decide.SameEndpoint, d.Route)
		assert.False(t, d.Budgeted)
	}
}

func TestRetryWithJitterStaysBelowTheInterval(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0.5))
	var w []time.Duration
	for range 9 {
		w = append(w, r.Decide(true, decide.RetryWith, nil).Wait)
	}
	// rand 0.5 takes a quarter off each interval.
	assert.Equal(t, []time.Duration{7500 * time.Microsecond, 15 * ms, 30 * ms, 60 * ms, 120 * ms, 240 * ms, 480 * ms, 750 * ms, 750 * ms}, w)
}

func TestRetryWithIgnoresElapsedTime(t *testing.T) {
	// backoff/v4 stops after 15 minutes unless told otherwise.
	clock := newClock()
	r := decide.NewRetrier(policy.RetryOptions{MaxRetryWithWait: time.Hour}, clock.Now, fixedRand(0))
	for _, want := range []time.Duration{10 * ms, 20 * ms, 40 * ms} {
		d := r.Decide(true, decide.RetryWith, nil)
		require.True(t, d.Retry)
		assert.Equal(t, want, d.Wait)
		clock.Advance(20 * time.Minute)
	}
}

func TestRetryWithNegativeOptions(t *testing.T) {
	for _, o := range []policy.RetryOptions{{RetryWithInitial: -1}, {RetryWithMax: -1}, {MaxRetryWithWait: -1}} {
		assert.False(t, decide.NewRetrier(o, newClock().Now, fixedRand(0)).Decide(true, decide.RetryWith, nil).Retry, "%+v", o)
	}
}

func TestUnavailableReads(t *testing.T) {
	clock := newClock()
	r := decide.NewRetrier(policy.RetryOptions{}, clock.Now, fixedRand(0))
	ds := retries(t, r, clock, 0, false, decide.Unavailable, response(503, 0))
	assert.Equal(t, []decide.Decision{
		{Retry: true, Wait: 0, Route: decide.NextRegion, Budgeted: true, Reason: decide.Unavailable},
		{Retry: true, Wait: 100 * ms, Route: decide.NextRegion, Budgeted: true, Reason: decide.Unavailable},
		{Retry: true, Wait: 200 * ms, Route: decide.NextRegion, Budgeted: true, Reason: decide.Unavailable},
	}, ds)
}

func TestUnavailableWrites(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, true, decide.Unavailable, response(503, 0))
	assert.Equal(t, []decide.Decision{
		{Retry: true, Wait: 100 * ms, Route: decide.NextRegion, Budgeted: true, Reason: decide.Unavailable},
		{Retry: true, Wait: 200 * ms, Route: decide.NextRegion, Budgeted: true, Reason: decide.Unavailable},
		{Retry: true, Wait: 400 * ms, Route: decide.NextRegion, Budgeted: true, Reason: decide.Unavailable},
	}, ds)

	r = decide.NewRetrier(policy.RetryOptions{MaxUnavailableRetries: 5, UnavailableMax: 150 * ms}, newClock().Now, fixedRand(0.5))
	ds = retries(t, r, nil, 0, true, decide.Unavailable, response(503, 0))
	assert.Equal(t, []time.Duration{75 * ms, 112500 * time.Microsecond, 112500 * time.Microsecond, 112500 * time.Microsecond, 112500 * time.Microsecond}, waits(ds))
}

func TestNeverSent(t *testing.T) {
	for _, write := range []bool{false, true} {
		r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, write, decide.NeverSent, nil)
		assert.Equal(t, []time.Duration{0, 100 * ms, 200 * ms}, waits(ds), "write %v", write)
		for _, d := range ds {
			// Writes: the next write region of a multi-write account, else
			// the write endpoint again (nothing was sent).
			assert.Equal(t, decide.NextRegion, d.Route, "write %v", write)
			assert.True(t, d.Budgeted)
		}
	}
}

func TestAmbiguousWritesAreNeverRetried(t *testing.T) {
	opts := []policy.RetryOptions{{}, {MaxUnavailableRetries: 100}, {UnavailableInitial: time.Nanosecond}}
	for _, o := range opts {
		r := decide.NewRetrier(o, newClock().Now, fixedRand(0))
		assert.Empty(t, retries(t, r, nil, 0, true, decide.Ambiguous, nil), "%+v", o)
	}
	// Even after other retries of the same call.
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	require.True(t, r.Decide(true, decide.NeverSent, nil).Retry)
	assert.False(t, r.Decide(true, decide.Ambiguous, nil).Retry)

	r = decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, decide.Ambiguous, nil)
	assert.Equal(t, []time.Duration{0, 100 * ms, 200 * ms}, waits(ds), "reads are")
}

func TestUnavailabilityRetriesShareOneCap(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	assert.Equal(t, time.Duration(0), r.Decide(false, decide.NeverSent, nil).Wait)
	assert.Equal(t, 100*ms, r.Decide(false, decide.Unavailable, nil).Wait)
	assert.Equal(t, 200*ms, r.Decide(false, decide.Ambiguous, nil).Wait)
	for _, o := range []decide.Outcome{decide.Unavailable, decide.NeverSent, decide.Ambiguous, decide.ServerError, decide.RequestTimeout} {
		assert.False(t, r.Decide(false, o, nil).Retry, "%s after the cap", o)
	}
}

func TestServerErrorAndRequestTimeout(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, decide.ServerError, response(500, 0))
	assert.Equal(t, []decide.Decision{{Retry: true, Route: decide.NextRegion, OtherRegionOnly: true, Budgeted: true, Reason: decide.ServerError}}, ds)

	r = decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds = retries(t, r, nil, 0, false, decide.RequestTimeout, response(408, 0))
	assert.Equal(t, []decide.Decision{{Retry: true, Route: decide.NextRegion, Budgeted: true, Reason: decide.RequestTimeout}}, ds)

	for _, o := range []decide.Outcome{decide.ServerError, decide.RequestTimeout} {
		assert.Empty(t, retries(t, decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0)), nil, 0, true, o, nil), "writes: %s", o)
	}
}

func TestWriteForbiddenFailover(t *testing.T) {
	clock := newClock()
	start := clock.Now()
	r := decide.NewRetrier(policy.RetryOptions{}, clock.Now, fixedRand(0))
	resp := response(403, 3)
	// Each resend takes 50ms to come back with another 403.3.
	var sentAt []time.Duration
	var ds []decide.Decision
	for range 1000 {
		d := r.Decide(true, decide.WriteForbidden, resp)
		if !d.Retry {
			break
		}
		ds = append(ds, d)
		clock.Advance(d.Wait)
		sentAt = append(sentAt, clock.Now().Sub(start))
		clock.Advance(50 * ms)
	}
	require.NotEmpty(t, ds)
	assert.Equal(t, decide.Decision{Retry: true, Route: decide.Refresh, Reason: decide.WriteForbidden}, ds[0], "the first resend goes at once")
	for _, d := range ds[1:] {
		assert.Equal(t, decide.Decision{Retry: true, Wait: time.Second, Route: decide.Refresh, Reason: decide.WriteForbidden}, d)
	}
	assert.LessOrEqual(t, sentAt[len(sentAt)-1], 60*time.Second, "no resend after MaxFailoverWait")
	assert.Greater(t, sentAt[len(sentAt)-1], 58*time.Second, "resends go on until about MaxFailoverWait")
	assert.Len(t, ds, 58)

	assert.Empty(t, retries(t, decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0)), nil, 0, false, decide.WriteForbidden, resp), "reads")
}

func TestFailoverIsBoundedWithAStoppedClock(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{MaxFailoverWait: 10 * time.Second}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, true, decide.WriteForbidden, nil)
	assert.Len(t, ds, 11, "one at once, then ten spaced a second apart")
}

func TestRegionNotFoundFailover(t *testing.T) {
	for _, write := range []bool{false, true} {
		clock := newClock()
		r := decide.NewRetrier(policy.RetryOptions{MaxFailoverWait: 5 * time.Second, FailoverInterval: 2 * time.Second}, clock.Now, fixedRand(0))
		ds := retries(t, r, clock, 0, write, decide.RegionNotFound, response(403, 1008))
		assert.Equal(t, []time.Duration{0, 2 * time.Second, 2 * time.Second}, waits(ds), "write %v", write)
		for _, d := range ds {
			assert.Equal(t, decide.Refresh, d.Route)
			assert.False(t, d.Budgeted)
		}
	}
}

func TestFailoverSharesItsClockAcrossSubStatuses(t *testing.T) {
	clock := newClock()
	r := decide.NewRetrier(policy.RetryOptions{MaxFailoverWait: 3 * time.Second}, clock.Now, fixedRand(0))
	require.Equal(t, time.Duration(0), r.Decide(true, decide.WriteForbidden, nil).Wait)
	clock.Advance(2500 * ms)
	assert.False(t, r.Decide(true, decide.RegionNotFound, nil).Retry)
}

func TestFailoverNegativeOptions(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{MaxFailoverWait: -1}, newClock().Now, fixedRand(0))
	assert.Empty(t, retries(t, r, nil, 0, true, decide.WriteForbidden, nil))
	r = decide.NewRetrier(policy.RetryOptions{FailoverInterval: -1}, newClock().Now, fixedRand(0))
	assert.Equal(t, []time.Duration{0}, waits(retries(t, r, nil, 0, true, decide.WriteForbidden, nil)), "only the first resend")
}

func TestSessionNotAvailable(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, decide.SessionNotAvailable, response(404, 1002))
	want := decide.Decision{Retry: true, Route: decide.WriteRegion, Reason: decide.SessionNotAvailable}
	assert.Equal(t, []decide.Decision{want, want}, ds)

	assert.Empty(t, retries(t, decide.NewRetrier(policy.RetryOptions{}, newClock().Now, nil), nil, 0, true, decide.SessionNotAvailable, nil), "writes")
	assert.Empty(t, retries(t, decide.NewRetrier(policy.RetryOptions{MaxSessionRetries: -1}, newClock().Now, nil), nil, 0, false, decide.SessionNotAvailable, nil), "off")
	assert.Len(t, retries(t, decide.NewRetrier(policy.RetryOptions{MaxSessionRetries: 5}, newClock().Now, nil), nil, 0, false, decide.SessionNotAvailable, nil), 5)
}

func TestCircuitOpen(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	ds := retries(t, r, nil, 0, false, decide.CircuitOpen, nil)
	want := decide.Decision{Retry: true, Route: decide.NextRegion, OtherRegionOnly: true, Reason: decide.CircuitOpen}
	assert.Equal(t, []decide.Decision{want, want, want}, ds)
	// Writes too, but only to another region: one that a multi-write
	// account has and a single-write account has not.
	ds = retries(t, decide.NewRetrier(policy.RetryOptions{}, newClock().Now, nil), nil, 0, true, decide.CircuitOpen, nil)
	assert.Equal(t, []decide.Decision{want, want, want}, ds, "writes")
}

func TestFinalOutcomesAreNotRetried(t *testing.T) {
	for _, o := range []decide.Outcome{decide.OK, decide.Final, decide.Canceled, decide.Outcome(200)} {
		for _, write := range []bool{false, true} {
			r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, nil)
			assert.Equal(t, decide.Decision{Reason: o}, r.Decide(write, o, response(200, 0)), "%s write %v", o, write)
		}
	}
}

func TestMaxUnavailableRetriesOff(t *testing.T) {
	o := policy.RetryOptions{MaxUnavailableRetries: -1}
	for _, out := range []decide.Outcome{decide.Unavailable, decide.ServerError, decide.RequestTimeout, decide.NeverSent, decide.Ambiguous, decide.CircuitOpen} {
		for _, write := range []bool{false, true} {
			assert.False(t, decide.NewRetrier(o, newClock().Now, nil).Decide(write, out, nil).Retry, "%s write %v", out, write)
		}
	}
	// Other kinds of retry are unaffected.
	assert.True(t, decide.NewRetrier(o, newClock().Now, nil).Decide(true, decide.Throttled, nil).Retry)
}

func TestUnavailableBackoffOff(t *testing.T) {
	for _, o := range []policy.RetryOptions{{UnavailableInitial: -1}, {UnavailableMax: -1}} {
		read := retries(t, decide.NewRetrier(o, newClock().Now, nil), nil, 0, false, decide.Unavailable, nil)
		assert.Equal(t, []time.Duration{0}, waits(read), "a read's first retry still goes at once")
		assert.Empty(t, retries(t, decide.NewRetrier(o, newClock().Now, nil), nil, 0, true, decide.Unavailable, nil), "writes always back off")
		sent := retries(t, decide.NewRetrier(o, newClock().Now, nil), nil, 0, true, decide.NeverSent, nil)
		assert.Equal(t, []time.Duration{0}, waits(sent))
	}
}

func TestBackoffsAreSeparate(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	assert.Equal(t, 10*ms, r.Decide(true, decide.RetryWith, nil).Wait)
	assert.Equal(t, 100*ms, r.Decide(true, decide.Unavailable, nil).Wait)
	assert.Equal(t, 20*ms, r.Decide(true, decide.RetryWith, nil).Wait)
	assert.Equal(t, 200*ms, r.Decide(true, decide.Unavailable, nil).Wait)
}

func TestRetrierDefaultsClockAndRand(t *testing.T) {
	r := decide.NewRetrier(policy.RetryOptions{}, nil, nil)
	d := r.Decide(false, decide.Throttled, withHeader(429, "Retry-After", "1"))
	require.True(t, d.Retry)
	assert.GreaterOrEqual(t, d.Wait, time.Second)
	assert.Less(t, d.Wait, 1050*ms)
	d = r.Decide(true, decide.RetryWith, nil)
	assert.True(t, d.Wait > 5*ms && d.Wait <= 10*ms, "wait %v", d.Wait)
}

func TestRetrierClampsBadRand(t *testing.T) {
	for _, x := range []float64{-1, 1, 7} {
		r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(x))
		d := r.Decide(true, decide.RetryWith, nil)
		assert.True(t, d.Wait > 5*ms && d.Wait <= 10*ms, "rand %v: wait %v", x, d.Wait)
	}
}

func TestRouteString(t *testing.T) {
	assert.Equal(t, "same_endpoint", decide.SameEndpoint.String())
	assert.Equal(t, "next_region", decide.NextRegion.String())
	assert.Equal(t, "write_region", decide.WriteRegion.String())
	assert.Equal(t, "refresh", decide.Refresh.String())
	assert.Equal(t, "unknown", decide.Route(9).String())
}

func TestServerFloorOnRetryWithAndUnavailable(t *testing.T) {
	const hdr = "x-ms-retry-after-ms"
	small449 := policy.RetryOptions{MaxRetryWithWait: 100 * ms}
	for _, tc := range []struct {
		name    string
		o       policy.RetryOptions
		rand    float64
		write   bool
		outcome decide.Outcome
		header  []string // name, value pairs
		want    []time.Duration
	}{
		// 449: backoff 10, 20, 40 ms; the next (80) would pass 100 ms.
		{"449 no hint", small449, 0, true, decide.RetryWith, nil, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 hint above the backoff", small449, 0, true, decide.RetryWith, []string{hdr, "30"}, []time.Duration{30 * ms, 30 * ms, 40 * ms}},
		{"449 hint below the backoff", small449, 0, true, decide.RetryWith, []string{hdr, "5"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 decimal hint", small449, 0, true, decide.RetryWith, []string{hdr, " 12.5 "}, []time.Duration{12500 * time.Microsecond, 20 * ms, 40 * ms}},
		{"449 hint counts toward MaxRetryWithWait", small449, 0, true, decide.RetryWith, []string{hdr, "45"}, []time.Duration{45 * ms, 45 * ms}},
		{"449 hint past MaxRetryWithWait", small449, 0, true, decide.RetryWith, []string{hdr, "101"}, nil},
		{"449 hint clamped by MaxRetryAfter", policy.RetryOptions{MaxRetryWithWait: 100 * ms, MaxRetryAfter: 25 * ms}, 0, true, decide.RetryWith, []string{hdr, "1000"}, []time.Duration{25 * ms, 25 * ms, 40 * ms}},
		{"449 huge hint clamped by the default MaxRetryAfter", policy.RetryOptions{MaxRetryWithWait: time.Minute, RetryWithMax: 10 * ms}, 0, true, decide.RetryWith, []string{hdr, "99999999999999999999"}, []time.Duration{30 * time.Second, 30 * time.Second}},
		{"449 hint floors the jittered wait", small449, 0.5, true, decide.RetryWith, []string{hdr, "10"}, []time.Duration{10 * ms, 15 * ms, 30 * ms}},
		{"449 malformed hint", small449, 0, true, decide.RetryWith, []string{hdr, "1e3"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 negative hint", small449, 0, true, decide.RetryWith, []string{hdr, "-500"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 Retry-After is not a floor", small449, 0, true, decide.RetryWith, []string{"Retry-After", "1"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},

		// 503 reads: the first retry at once, then 100, 200 ms.
		{"503 read no hint", policy.RetryOptions{}, 0, false, decide.Unavailable, nil, []time.Duration{0, 100 * ms, 200 * ms}},
		{"503 read hint delays even the first retry", policy.RetryOptions{}, 0, false, decide.Unavailable, []string{hdr, "150"}, []time.Duration{150 * ms, 150 * ms, 200 * ms}},
		{"503 read hint below the backoff", policy.RetryOptions{}, 0, false, decide.Unavailable, []string{hdr, "50"}, []time.Duration{50 * ms, 100 * ms, 200 * ms}},
		{"503 read hint clamped by MaxRetryAfter", policy.RetryOptions{MaxRetryAfter: 120 * ms}, 0, false, decide.Unavailable, []string{hdr, "5000"}, []time.Duration{120 * ms, 120 * ms, 200 * ms}},
		{"503 read malformed hint", policy.RetryOptions{}, 0, false, decide.Unavailable, []string{hdr, "soon"}, []time.Duration{0, 100 * ms, 200 * ms}},
		{"503 read Retry-After is not a floor", policy.RetryOptions{}, 0, false, decide.Unavailable, []string{"Retry-After", "3"}, []time.Duration{0, 100 * ms, 200 * ms}},
		{"503 read hint with backoff off", policy.RetryOptions{UnavailableInitial: -1}, 0, false, decide.Unavailable, []string{hdr, "150"}, []time.Duration{150 * ms}},

		// 503 writes: 100, 200, 400 ms.
		{"503 write no hint", policy.RetryOptions{}, 0, true, decide.Unavailable, nil, []time.Duration{100 * ms, 200 * ms, 400 * ms}},
		{"503 write hint", policy.RetryOptions{}, 0, true, decide.Unavailable, []string{hdr, "300"}, []time.Duration{300 * ms, 300 * ms, 400 * ms}},
		{"503 write hint floors the jittered wait", policy.RetryOptions{}, 0.5, true, decide.Unavailable, []string{hdr, "100"}, []time.Duration{100 * ms, 150 * ms, 300 * ms}},
		{"503 write unclamped hint", policy.RetryOptions{MaxRetryAfter: -1}, 0, true, decide.Unavailable, []string{hdr, "60000"}, []time.Duration{time.Minute, time.Minute, time.Minute}},
		{"503 write hint with backoff off", policy.RetryOptions{UnavailableMax: -1}, 0, true, decide.Unavailable, []string{hdr, "300"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := response(map[decide.Outcome]int{decide.RetryWith: 449, decide.Unavailable: 503}[tc.outcome], 0)
			for i := 0; i+1 < len(tc.header); i += 2 {
				resp.Header.Set(tc.header[i], tc.header[i+1])
			}
			clock := newClock()
			r := decide.NewRetrier(tc.o, clock.Now, fixedRand(tc.rand))
			ds := retries(t, r, clock, 0, tc.write, tc.outcome, resp)
			if len(tc.want) == 0 {
				assert.Empty(t, ds)
			} else {
				assert.Equal(t, tc.want, waits(ds))
			}
			for _, d := range ds {
				assert.Equal(t, tc.outcome == decide.Unavailable, d.Budgeted)
			}
		})
	}
}

func TestServerFloorIsPerAnswer(t *testing.T) {
	// A hint on one answer does not carry over to the next one without.
	r := decide.NewRetrier(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	assert.Equal(t, 250*ms, r.Decide(false, decide.Unavailable, withHeader(503, "x-ms-retry-after-ms", "250")).Wait)
	assert.Equal(t, 100*ms, r.Decide(false, decide.Unavailable, response(503, 0)).Wait)
	assert.Equal(t, 10*ms, r.Decide(true, decide.RetryWith, nil).Wait)
	assert.Equal(t, 250*ms, r.Decide(true, decide.RetryWith, withHeader(449, "x-ms-retry-after-ms", "250")).Wait)
	assert.Equal(t, 40*ms, r.Decide(true, decide.RetryWith, response(449, 0)).Wait)
}
