package decide

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

func TestThrottledWaitsTheHintAtMostNineTimes(t *testing.T) {
	clock := newClock()
	r := newCall(policy.RetryOptions{}, clock.Now, fixedRand(0))
	ds := retries(t, r, clock, 0, true, throttled, withHeader(429, "x-ms-retry-after-ms", "100"))
	require.Len(t, ds, 9)
	for _, d := range ds {
		assert.Equal(t, Decision{Retry: true, Wait: 100 * ms, Route: sameEndpoint, Reason: throttled}, d)
	}
}

func TestThrottledJitterIsSmallAndAfterTheHint(t *testing.T) {
	for _, x := range []float64{0, 0.5, 0.999999} {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(x))
		d := r.decide(false, throttled, withHeader(429, "x-ms-retry-after-ms", "1000"))
		require.True(t, d.Retry)
		assert.GreaterOrEqual(t, d.Wait, time.Second, "never before the hint (rand %v)", x)
		assert.Less(t, d.Wait, 1050*ms, "at most 5%% jitter (rand %v)", x)
	}
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0.5))
	assert.Equal(t, 1025*ms, r.decide(false, throttled, withHeader(429, "x-ms-retry-after-ms", "1000")).Wait)
}

func TestThrottledStopsAtThirtySecondsCumulative(t *testing.T) {
	t.Run("default hint", func(t *testing.T) {
		clock := newClock()
		r := newCall(policy.RetryOptions{}, clock.Now, fixedRand(0))
		ds := retries(t, r, clock, 0, false, throttled, response(429, 0))
		assert.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}, waits(ds))
	})
	t.Run("server hint", func(t *testing.T) {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, false, throttled, withHeader(429, "Retry-After", "7"))
		assert.Len(t, ds, 4, "4×7s fit in 30s, a fifth does not")
	})
	t.Run("jitter never crosses the cap", func(t *testing.T) {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0.999999))
		// 2×(9.6s+5%) leave 9.84s: the third wait fits without its jitter.
		ds := retries(t, r, nil, 0, false, throttled, withHeader(429, "x-ms-retry-after-ms", "9600"))
		require.Len(t, ds, 3)
		assert.Equal(t, 30*time.Second, sum(ds))
		assert.Less(t, ds[2].Wait, ds[1].Wait, "the last wait is trimmed…")
		assert.GreaterOrEqual(t, ds[2].Wait, 9600*ms, "…never below the hint")
	})
	t.Run("a huge hint is clamped to MaxRetryAfter", func(t *testing.T) {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, false, throttled, withHeader(429, "x-ms-retry-after-ms", "3600000"))
		assert.Equal(t, []time.Duration{30 * time.Second}, waits(ds))
	})
	t.Run("custom caps", func(t *testing.T) {
		r := newCall(policy.RetryOptions{MaxThrottleRetries: 20, MaxThrottleWait: time.Minute}, newClock().Now, fixedRand(0))
		ds := retries(t, r, nil, 0, false, throttled, withHeader(429, "x-ms-retry-after-ms", "1000"))
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
			d := newCall(tt.o, newClock().Now, fixedRand(0)).decide(false, throttled, tt.resp)
			assert.Equal(t, tt.wantRetry, d.Retry)
		})
	}
	d := newCall(policy.RetryOptions{MaxRetryAfter: -1}, newClock().Now, fixedRand(0)).decide(false, throttled, hinted)
	assert.Equal(t, 20*time.Second, d.Wait)
}

func TestRetryWithBacksOffExponentially(t *testing.T) {
	clock := newClock()
	r := newCall(policy.RetryOptions{}, clock.Now, fixedRand(0))
	ds := retries(t, r, clock, 0, true, retryWith, response(449, 0))
	w := waits(ds)
	require.Len(t, w, 35, "10+20+…+640 ms, then 28×1s fit in 30s")
	assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}, w[:9])
	assert.LessOrEqual(t, sum(ds), 30*time.Second)
	for _, d := range ds {
		assert.Equal(t, sameEndpoint, d.Route)
		assert.False(t, d.budgeted)
	}
}

func TestRetryWithJitterStaysBelowTheInterval(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0.5))
	var w []time.Duration
	for range 9 {
		w = append(w, r.decide(true, retryWith, nil).Wait)
	}
	// rand 0.5 takes a quarter off each interval.
	assert.Equal(t, []time.Duration{7500 * time.Microsecond, 15 * ms, 30 * ms, 60 * ms, 120 * ms, 240 * ms, 480 * ms, 750 * ms, 750 * ms}, w)
}

func TestRetryWithIgnoresElapsedTime(t *testing.T) {
	// backoff/v4 stops after 15 minutes unless told otherwise.
	clock := newClock()
	r := newCall(policy.RetryOptions{MaxRetryWithWait: time.Hour}, clock.Now, fixedRand(0))
	for _, want := range []time.Duration{10 * ms, 20 * ms, 40 * ms} {
		d := r.decide(true, retryWith, nil)
		require.True(t, d.Retry)
		assert.Equal(t, want, d.Wait)
		clock.Advance(20 * time.Minute)
	}
}

func TestRetryWithNegativeOptions(t *testing.T) {
	for _, o := range []policy.RetryOptions{{RetryWithInitial: -1}, {RetryWithMax: -1}, {MaxRetryWithWait: -1}} {
		assert.False(t, newCall(o, newClock().Now, fixedRand(0)).decide(true, retryWith, nil).Retry, "%+v", o)
	}
}

func TestBackoffsAreSeparate(t *testing.T) {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	assert.Equal(t, 10*ms, r.decide(true, retryWith, nil).Wait)
	assert.Equal(t, 100*ms, r.decide(true, unavailable, nil).Wait)
	assert.Equal(t, 20*ms, r.decide(true, retryWith, nil).Wait)
	assert.Equal(t, 200*ms, r.decide(true, unavailable, nil).Wait)
}

func TestCallDefaultsClockAndRand(t *testing.T) {
	r := newCall(policy.RetryOptions{}, nil, nil)
	d := r.decide(false, throttled, withHeader(429, "Retry-After", "1"))
	require.True(t, d.Retry)
	assert.GreaterOrEqual(t, d.Wait, time.Second)
	assert.Less(t, d.Wait, 1050*ms)
	d = r.decide(true, retryWith, nil)
	assert.True(t, d.Wait > 5*ms && d.Wait <= 10*ms, "wait %v", d.Wait)
}

func TestCallClampsBadRand(t *testing.T) {
	for _, x := range []float64{-1, 1, 7} {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(x))
		d := r.decide(true, retryWith, nil)
		assert.True(t, d.Wait > 5*ms && d.Wait <= 10*ms, "rand %v: wait %v", x, d.Wait)
	}
}

func TestServerFloorOnRetryWithAndUnavailable(t *testing.T) {
	const hdr = "x-ms-retry-after-ms"
	small449 := policy.RetryOptions{MaxRetryWithWait: 100 * ms}
	for _, tc := range []struct {
		name    string
		o       policy.RetryOptions
		rand    float64
		write   bool
		outcome Outcome
		header  []string // name, value pairs
		want    []time.Duration
	}{
		// 449: backoff 10, 20, 40 ms; the next (80) would pass 100 ms.
		{"449 no hint", small449, 0, true, retryWith, nil, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 hint above the backoff", small449, 0, true, retryWith, []string{hdr, "30"}, []time.Duration{30 * ms, 30 * ms, 40 * ms}},
		{"449 hint below the backoff", small449, 0, true, retryWith, []string{hdr, "5"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 decimal hint", small449, 0, true, retryWith, []string{hdr, " 12.5 "}, []time.Duration{12500 * time.Microsecond, 20 * ms, 40 * ms}},
		{"449 hint counts toward MaxRetryWithWait", small449, 0, true, retryWith, []string{hdr, "45"}, []time.Duration{45 * ms, 45 * ms}},
		{"449 hint past MaxRetryWithWait", small449, 0, true, retryWith, []string{hdr, "101"}, nil},
		{"449 hint clamped by MaxRetryAfter", policy.RetryOptions{MaxRetryWithWait: 100 * ms, MaxRetryAfter: 25 * ms}, 0, true, retryWith, []string{hdr, "1000"}, []time.Duration{25 * ms, 25 * ms, 40 * ms}},
		{"449 huge hint clamped by the default MaxRetryAfter", policy.RetryOptions{MaxRetryWithWait: time.Minute, RetryWithMax: 10 * ms}, 0, true, retryWith, []string{hdr, "99999999999999999999"}, []time.Duration{30 * time.Second, 30 * time.Second}},
		{"449 hint floors the jittered wait", small449, 0.5, true, retryWith, []string{hdr, "10"}, []time.Duration{10 * ms, 15 * ms, 30 * ms}},
		{"449 malformed hint", small449, 0, true, retryWith, []string{hdr, "1e3"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 negative hint", small449, 0, true, retryWith, []string{hdr, "-500"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},
		{"449 Retry-After is not a floor", small449, 0, true, retryWith, []string{"Retry-After", "1"}, []time.Duration{10 * ms, 20 * ms, 40 * ms}},

		// 503 reads: the first retry at once, then 100, 200 ms.
		{"503 read no hint", policy.RetryOptions{}, 0, false, unavailable, nil, []time.Duration{0, 100 * ms, 200 * ms}},
		{"503 read hint delays even the first retry", policy.RetryOptions{}, 0, false, unavailable, []string{hdr, "150"}, []time.Duration{150 * ms, 150 * ms, 200 * ms}},
		{"503 read hint below the backoff", policy.RetryOptions{}, 0, false, unavailable, []string{hdr, "50"}, []time.Duration{50 * ms, 100 * ms, 200 * ms}},
		{"503 read hint clamped by MaxRetryAfter", policy.RetryOptions{MaxRetryAfter: 120 * ms}, 0, false, unavailable, []string{hdr, "5000"}, []time.Duration{120 * ms, 120 * ms, 200 * ms}},
		{"503 read malformed hint", policy.RetryOptions{}, 0, false, unavailable, []string{hdr, "soon"}, []time.Duration{0, 100 * ms, 200 * ms}},
		{"503 read Retry-After is not a floor", policy.RetryOptions{}, 0, false, unavailable, []string{"Retry-After", "3"}, []time.Duration{0, 100 * ms, 200 * ms}},
		{"503 read hint with backoff off", policy.RetryOptions{UnavailableInitial: -1}, 0, false, unavailable, []string{hdr, "150"}, []time.Duration{150 * ms}},

		// 503 writes: 100, 200, 400 ms.
		{"503 write no hint", policy.RetryOptions{}, 0, true, unavailable, nil, []time.Duration{100 * ms, 200 * ms, 400 * ms}},
		{"503 write hint", policy.RetryOptions{}, 0, true, unavailable, []string{hdr, "300"}, []time.Duration{300 * ms, 300 * ms, 400 * ms}},
		{"503 write hint floors the jittered wait", policy.RetryOptions{}, 0.5, true, unavailable, []string{hdr, "100"}, []time.Duration{100 * ms, 150 * ms, 300 * ms}},
		{"503 write unclamped hint", policy.RetryOptions{MaxRetryAfter: -1}, 0, true, unavailable, []string{hdr, "60000"}, []time.Duration{time.Minute, time.Minute, time.Minute}},
		{"503 write hint with backoff off", policy.RetryOptions{UnavailableMax: -1}, 0, true, unavailable, []string{hdr, "300"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := response(map[Outcome]int{retryWith: 449, unavailable: 503}[tc.outcome], 0)
			for i := 0; i+1 < len(tc.header); i += 2 {
				resp.Header.Set(tc.header[i], tc.header[i+1])
			}
			clock := newClock()
			r := newCall(tc.o, clock.Now, fixedRand(tc.rand))
			ds := retries(t, r, clock, 0, tc.write, tc.outcome, resp)
			if len(tc.want) == 0 {
				assert.Empty(t, ds)
			} else {
				assert.Equal(t, tc.want, waits(ds))
			}
			for _, d := range ds {
				assert.Equal(t, tc.outcome == unavailable, d.budgeted)
			}
		})
	}
}

func TestServerFloorIsPerAnswer(t *testing.T) {
	// A hint on one answer does not carry over to the next one without.
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	assert.Equal(t, 250*ms, r.decide(false, unavailable, withHeader(503, "x-ms-retry-after-ms", "250")).Wait)
	assert.Equal(t, 100*ms, r.decide(false, unavailable, response(503, 0)).Wait)
	assert.Equal(t, 10*ms, r.decide(true, retryWith, nil).Wait)
	assert.Equal(t, 250*ms, r.decide(true, retryWith, withHeader(449, "x-ms-retry-after-ms", "250")).Wait)
	assert.Equal(t, 40*ms, r.decide(true, retryWith, response(449, 0)).Wait)
}
