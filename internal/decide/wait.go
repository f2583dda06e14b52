package decide

import (
	"math"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// clock gives a now function the shape of backoff.Clock.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

// Jitter of the waits a Call computes.
const (
	// A backoff wait is drawn from (interval/2, interval], so that
	// RetryWithMax and UnavailableMax are true maxima.
	backoffJitter = 0.5
	// A 429 wait is drawn from [hint, hint×1.05): never before the hint.
	throttleJitter = 0.05
)

// after429 decides the retry of a 429: the same endpoint, after the
// server's hint.
func (c *Call) after429(resp *http.Response) Decision {
	stop := Decision{Reason: throttled}
	if c.p.opts.MaxThrottleWait < 0 || c.throttleRetries >= max(c.p.opts.MaxThrottleRetries, 0) {
		return stop
	}
	var h http.Header
	if resp != nil {
		h = resp.Header
	}
	hint, ok := retryAfterHint(h, c.p.now())
	switch {
	case !ok && c.p.opts.DefaultRetryAfter < 0:
		return stop
	case !ok:
		hint = c.p.opts.DefaultRetryAfter
	default:
		hint = c.clamp(hint)
	}
	left := c.p.opts.MaxThrottleWait - c.throttleWaited
	if hint > left {
		return stop
	}
	wait := hint + min(c.fraction(hint, throttleJitter), left-hint)
	c.throttleRetries++
	c.throttleWaited += wait
	return Decision{Retry: true, Wait: wait, Route: sameEndpoint, Reason: throttled}
}

// after449 decides the retry of a 449: the same endpoint, after backoff
// and never before floor.
func (c *Call) after449(floor time.Duration) Decision {
	stop := Decision{Reason: retryWith}
	if c.p.opts.RetryWithInitial < 0 || c.p.opts.RetryWithMax < 0 || c.p.opts.MaxRetryWithWait < 0 {
		return stop
	}
	if c.backoff449 == nil {
		c.backoff449 = c.newBackOff(c.p.opts.RetryWithInitial, c.p.opts.RetryWithMax)
	}
	wait := max(c.jittered(min(c.backoff449.NextBackOff(), c.p.opts.RetryWithMax)), floor)
	if wait > c.p.opts.MaxRetryWithWait-c.retryWithWaited {
		return stop
	}
	c.retryWithWaited += wait
	return Decision{Retry: true, Wait: wait, Route: sameEndpoint, Reason: retryWith}
}

// floor returns the server's floor for the wait after resp, a 449 or a
// 503: its x-ms-retry-after-ms clamped by MaxRetryAfter, or 0 if it has
// none that is well formed.
func (c *Call) floor(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	d, ok := retryAfterMs(resp.Header)
	if !ok {
		return 0
	}
	return c.clamp(d)
}

// clamp bounds a server's hint by MaxRetryAfter, unless that is negative.
func (c *Call) clamp(hint time.Duration) time.Duration {
	if c.p.opts.MaxRetryAfter >= 0 {
		return min(hint, c.p.opts.MaxRetryAfter)
	}
	return hint
}

// newBackOff returns a backoff sequence from initial doubling to maxInterval.
// Its own randomization is off: jitter comes from c.rand, so that tests can
// fix it.
func (c *Call) newBackOff(initial, maxInterval time.Duration) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     initial,
		RandomizationFactor: 0,
		Multiplier:          2,
		MaxInterval:         maxInterval,
		MaxElapsedTime:      0, // never Stop: the caps are ours
		Stop:                backoff.Stop,
		Clock:               clock(c.p.now),
	}
	b.Reset()
	return b
}

// jittered returns d less a random part of up to backoffJitter of it.
func (c *Call) jittered(d time.Duration) time.Duration {
	return d - c.fraction(d, backoffJitter)
}

// fraction returns a random duration in [0, d×f).
func (c *Call) fraction(d time.Duration, f float64) time.Duration {
	x := c.p.random()
	if !(x > 0) { // also NaN
		return 0
	}
	x = min(x, math.Nextafter(1, 0))
	return time.Duration(float64(d) * f * x)
}
