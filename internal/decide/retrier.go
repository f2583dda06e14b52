package decide

import (
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/cosmosrt/cosmosrt/policy"
)

// clock gives a now function the shape of backoff.Clock.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

// A Route says where the next attempt goes.
type Route uint8

// The routes of a retry.
const (
	SameEndpoint Route = iota // resend where the last attempt went
	NextRegion                // reads: next preferred read region; writes: next write region of a multi-write account, else the (current) write endpoint
	WriteRegion               // resend to the write region (404.1002)
	Refresh                   // mark the endpoint, force an account refresh, resend to the endpoint it names (403.3, 403.1008)
)

var routeNames = [...]string{
	SameEndpoint: "same_endpoint",
	NextRegion:   "next_region",
	WriteRegion:  "write_region",
	Refresh:      "refresh",
}

// String returns the route's short snake_case name ("same_endpoint",
// "next_region", ...), or "unknown".
func (r Route) String() string {
	if int(r) < len(routeNames) {
		return routeNames[r]
	}
	return "unknown"
}

// A Decision is what to do after one attempt.
type Decision struct {
	// Retry says whether to make another attempt. When false, the call
	// returns the last answer as it came, and the other fields but Reason
	// are zero.
	Retry bool
	// Wait is how long to wait before the next attempt. It already includes
	// jitter and is never below the server's hint. For Route Refresh it is
	// the spacing of resends to an endpoint that has not changed.
	Wait time.Duration
	// Route says where the next attempt goes.
	Route Route
	// OtherRegionOnly says to retry only if the router has another region
	// to try, and to return the answer otherwise.
	OtherRegionOnly bool
	// Budgeted says the retry is caused by unavailability: the transport
	// must get Budget.Allow() before making it, and return otherwise.
	Budgeted bool
	// Reason is the outcome that led to this decision, for metrics and
	// spans.
	Reason Outcome

	// Mark says to mark the endpoint that gave the answer unavailable (for
	// writes if the call is a write, else for reads), so that other calls
	// avoid it until the mark expires.
	Mark bool
	// LookUp says to read the account again in the background, without
	// waiting: the write region may have moved and this call will not
	// resend to learn where.
	LookUp bool
}

// Jitter of the waits a Retrier computes.
const (
	// A backoff wait is drawn from (interval/2, interval], so that
	// RetryWithMax and UnavailableMax are true maxima.
	backoffJitter = 0.5
	// A 429 wait is drawn from [hint, hint×1.05): never before the hint.
	throttleJitter = 0.05
)

// A Retrier holds the retry state of one call: how many retries of each
// kind it has made, how long it has waited, its backoff sequences. Make a
// new one for each call with NewRetrier and consult it after every
// attempt with Decide. A Retrier is not safe for concurrent use.
//
// Its rules, by Outcome (reads / writes):
//
//   - OK, Final, Canceled: no retry.
//   - Throttled (429): wait the server's hint (RetryAfter, with
//     DefaultRetryAfter and MaxRetryAfter) plus up to 5% jitter, same
//     endpoint, while retries ≤ MaxThrottleRetries and the total 429 wait
//     ≤ MaxThrottleWait. Not budgeted.
//   - RetryWith (449): exponential backoff from RetryWithInitial doubling
//     to RetryWithMax, or the server's floor if longer, same endpoint,
//     while the total 449 wait ≤ MaxRetryWithWait. Not budgeted.
//   - Unavailable (503): reads go to the next region, the call's first
//     unavailability retry at once and later ones after backoff
//     (UnavailableInitial doubling to UnavailableMax); writes go after
//     backoff to the next write region of a multi-write account, else to
//     the write endpoint again. Either way the wait is at least the
//     server's floor. Budgeted.
//   - ServerError (500): reads retry once at once, in another region only;
//     writes are not retried. Budgeted.
//   - RequestTimeout (408): reads retry once at once, next region; writes
//     are not retried (the write may have run). Budgeted.
//   - NeverSent: reads go to the next region, writes to the next write
//     region of a multi-write account, else to the (current) write
//     endpoint (nothing was sent), the first at once and later ones after
//     backoff.
//     Budgeted.
//   - Ambiguous: reads as NeverSent; writes are never retried, so that no
//     write runs twice.
//   - WriteForbidden (403.3): writes refresh the account and resend, the
//     first at once and later ones every FailoverInterval, until
//     MaxFailoverWait after the call's first such answer; reads are not
//     retried. Not budgeted.
//   - RegionNotFound (403.1008): reads and writes, as WriteForbidden.
//   - SessionNotAvailable (404.1002): reads retry at once on the write
//     region, at most MaxSessionRetries times; writes are not retried.
//   - CircuitOpen: reads, and writes of a multi-write account, go at once
//     to another region only (OtherRegionOnly), not budgeted (nothing is
//     sent); a single-write account has no other region for a write.
//
// The server's floor is x-ms-retry-after-ms on a 449 or 503 answer, when
// present and well formed, clamped by MaxRetryAfter (a negative hint is
// 0). Only that header counts: Retry-After is not read on these answers.
// Without a floor the wait is the backoff alone. The floor raises a wait
// but never makes a retry that the rules above would not make: with the
// unavailability backoff turned off, a retry that would back off is
// still not made.
//
// Unavailable, ServerError, RequestTimeout, NeverSent and Ambiguous
// retries share the cap MaxUnavailableRetries; CircuitOpen retries have
// their own cap of the same size.
type Retrier struct {
	o    policy.RetryOptions // with defaults
	now  func() time.Time
	rand func() float64

	throttleRetries int
	throttleWaited  time.Duration

	retryWith       *backoff.ExponentialBackOff // nil until the first 449
	retryWithWaited time.Duration

	unavailable        *backoff.ExponentialBackOff // nil until the first backed-off retry
	unavailableRetries int
	serverErrorRetried bool
	timeoutRetried     bool
	circuitRetries     int

	failingOver    bool
	failoverStart  time.Time
	failoverWaited time.Duration // a lower bound of the time since failoverStart, should the clock stand still

	sessionRetries int
}

// NewRetrier returns the retry state of a new call under options o. A nil
// now means time.Now; a nil random means math/rand/v2's Float64.
// random should return values in [0, 1) (others are clamped); it draws the
// jitter of every wait.
func NewRetrier(o policy.RetryOptions, now func() time.Time, random func() float64) *Retrier {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Float64
	}
	return &Retrier{o: RetryDefaults(o), now: now, rand: random}
}

// Decide returns what to do after an attempt of a read (write false) or a
// write whose outcome is o. resp is the attempt's response, or nil after a
// transport error; Decide reads only its headers. Each call to Decide that
// returns Retry counts against the call's limits.
func (r *Retrier) Decide(write bool, o Outcome, resp *http.Response) Decision {
	stop := Decision{Reason: o}
	switch o {
	case Throttled:
		return r.throttled(resp)
	case RetryWith:
		return r.retryWithBackoff(r.floor(resp))
	case Unavailable:
		if write {
			return r.unavailability(o, NextRegion, false, r.floor(resp))
		}
		return r.unavailability(o, NextRegion, true, r.floor(resp))
	case NeverSent:
		return r.unavailability(o, NextRegion, true, 0)
	case Ambiguous:
		if write {
			return stop
		}
		return r.unavailability(o, NextRegion, true, 0)
	case ServerError:
		if write {
			return stop
		}
		d := r.once(o, &r.serverErrorRetried)
		d.OtherRegionOnly = d.Retry
		return d
	case RequestTimeout:
		if write {
			return stop
		}
		return r.once(o, &r.timeoutRetried)
	case WriteForbidden:
		if !write {
			return stop
		}
		return r.failover(o)
	case RegionNotFound:
		return r.failover(o)
	case SessionNotAvailable:
		if write || r.sessionRetries >= max(r.o.MaxSessionRetries, 0) {
			return stop
		}
		r.sessionRetries++
		return Decision{Retry: true, Route: WriteRegion, Reason: o}
	case CircuitOpen:
		if r.circuitRetries >= max(r.o.MaxUnavailableRetries, 0) {
			return stop
		}
		r.circuitRetries++
		return Decision{Retry: true, Route: NextRegion, OtherRegionOnly: true, Reason: o}
	default: // OK, Final, Canceled, and values that are not outcomes
		return stop
	}
}

func (r *Retrier) throttled(resp *http.Response) Decision {
	stop := Decision{Reason: Throttled}
	if r.o.MaxThrottleWait < 0 || r.throttleRetries >= max(r.o.MaxThrottleRetries, 0) {
		return stop
	}
	var h http.Header
	if resp != nil {
		h = resp.Header
	}
	hint, ok := retryAfterHint(h, r.now())
	switch {
	case !ok && r.o.DefaultRetryAfter < 0:
		return stop
	case !ok:
		hint = r.o.DefaultRetryAfter
	default:
		hint = r.clamp(hint)
	}
	left := r.o.MaxThrottleWait - r.throttleWaited
	if hint > left {
		return stop
	}
	wait := hint + min(r.fraction(hint, throttleJitter), left-hint)
	r.throttleRetries++
	r.throttleWaited += wait
	return Decision{Retry: true, Wait: wait, Route: SameEndpoint, Reason: Throttled}
}

// floor returns the server's floor for the wait after resp, a 449 or a
// 503: its x-ms-retry-after-ms clamped by MaxRetryAfter, or 0 if it has
// none that is well formed.
func (r *Retrier) floor(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	d, ok := retryAfterMs(resp.Header)
	if !ok {
		return 0
	}
	return r.clamp(d)
}

// clamp bounds a server's hint by MaxRetryAfter, unless that is negative.
func (r *Retrier) clamp(hint time.Duration) time.Duration {
	if r.o.MaxRetryAfter >= 0 {
		return min(hint, r.o.MaxRetryAfter)
	}
	return hint
}

func (r *Retrier) retryWithBackoff(floor time.Duration) Decision {
	stop := Decision{Reason: RetryWith}
	if r.o.RetryWithInitial < 0 || r.o.RetryWithMax < 0 || r.o.MaxRetryWithWait < 0 {
		return stop
	}
	if r.retryWith == nil {
		r.retryWith = r.newBackOff(r.o.RetryWithInitial, r.o.RetryWithMax)
	}
	wait := max(r.jittered(min(r.retryWith.NextBackOff(), r.o.RetryWithMax)), floor)
	if wait > r.o.MaxRetryWithWait-r.retryWithWaited {
		return stop
	}
	r.retryWithWaited += wait
	return Decision{Retry: true, Wait: wait, Route: SameEndpoint, Reason: RetryWith}
}

// unavailability decides a budgeted retry after o. If firstAtOnce, the
// call's first unavailability retry goes without waiting for backoff; the
// others wait the unavailability backoff. No wait is below floor.
func (r *Retrier) unavailability(o Outcome, route Route, firstAtOnce bool, floor time.Duration) Decision {
	stop := Decision{Reason: o}
	if r.unavailableRetries >= max(r.o.MaxUnavailableRetries, 0) {
		return stop
	}
	wait := floor
	if !firstAtOnce || r.unavailableRetries > 0 {
		if r.o.UnavailableInitial < 0 || r.o.UnavailableMax < 0 {
			return stop
		}
		if r.unavailable == nil {
			r.unavailable = r.newBackOff(r.o.UnavailableInitial, r.o.UnavailableMax)
		}
		wait = max(r.jittered(min(r.unavailable.NextBackOff(), r.o.UnavailableMax)), floor)
	}
	r.unavailableRetries++
	return Decision{Retry: true, Wait: wait, Route: route, Budgeted: true, Reason: o}
}

// once decides the single, immediate, budgeted retry of a read after a 500
// or a 408.
func (r *Retrier) once(o Outcome, done *bool) Decision {
	if *done || r.unavailableRetries >= max(r.o.MaxUnavailableRetries, 0) {
		return Decision{Reason: o}
	}
	*done = true
	r.unavailableRetries++
	return Decision{Retry: true, Route: NextRegion, Budgeted: true, Reason: o}
}

func (r *Retrier) failover(o Outcome) Decision {
	stop := Decision{Reason: o}
	if r.o.MaxFailoverWait < 0 {
		return stop
	}
	now := r.now()
	if !r.failingOver {
		r.failingOver, r.failoverStart = true, now
		return Decision{Retry: true, Route: Refresh, Reason: o}
	}
	if r.o.FailoverInterval < 0 {
		return stop
	}
	elapsed := max(now.Sub(r.failoverStart), r.failoverWaited)
	if elapsed > r.o.MaxFailoverWait || r.o.FailoverInterval > r.o.MaxFailoverWait-elapsed {
		return stop
	}
	r.failoverWaited = elapsed + r.o.FailoverInterval
	return Decision{Retry: true, Wait: r.o.FailoverInterval, Route: Refresh, Reason: o}
}

// newBackOff returns a backoff sequence from initial doubling to maxInterval.
// Its own randomization is off: jitter comes from r.rand, so that tests can
// fix it.
func (r *Retrier) newBackOff(initial, maxInterval time.Duration) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     initial,
		RandomizationFactor: 0,
		Multiplier:          2,
		MaxInterval:         maxInterval,
		MaxElapsedTime:      0, // never Stop: the caps are ours
		Stop:                backoff.Stop,
		Clock:               clock(r.now),
	}
	b.Reset()
	return b
}

// jittered returns d less a random part of up to backoffJitter of it.
func (r *Retrier) jittered(d time.Duration) time.Duration {
	return d - r.fraction(d, backoffJitter)
}

// fraction returns a random duration in [0, d×f).
func (r *Retrier) fraction(d time.Duration, f float64) time.Duration {
	x := r.rand()
	if !(x > 0) { // also NaN
		return 0
	}
	x = min(x, math.Nextafter(1, 0))
	return time.Duration(float64(d) * f * x)
}
