package policy

import "time"

// RetryOptions configures the retry rules of one transport. The zero value
// is the documented default of every field: for each field 0 means its
// default and a negative value turns off what its comment says.
type RetryOptions struct {
	// MaxThrottleRetries is how many times one call retries a 429.
	// Default 9; negative: a 429 is returned at once.
	MaxThrottleRetries int
	// MaxThrottleWait caps the total time one call waits on 429s; a 429
	// whose wait would go past it is returned. Default 30s; negative: a 429
	// is returned at once.
	MaxThrottleWait time.Duration
	// DefaultRetryAfter is the wait after a 429 that carries no hint.
	// Default 5s; negative: a 429 without a hint is returned.
	DefaultRetryAfter time.Duration
	// MaxRetryAfter clamps a single server hint: the wait a 429 asks for,
	// and the floor x-ms-retry-after-ms puts under the backoff of a 449 or
	// a 503. Default 30s; negative: hints are not clamped, and one that
	// does not fit in MaxThrottleWait (or MaxRetryWithWait) returns the
	// answer.
	MaxRetryAfter time.Duration

	// RetryWithInitial is the first backoff interval after a 449; each
	// further interval doubles, up to RetryWithMax. A 449's
	// x-ms-retry-after-ms, if longer, replaces the interval. Defaults 10ms
	// and 1s.
	RetryWithInitial, RetryWithMax time.Duration
	// MaxRetryWithWait caps the total time one call waits on 449s, the
	// waits lengthened by x-ms-retry-after-ms included; a 449 whose wait
	// would go past it is returned. Default 30s. If any of the three 449
	// fields is negative, a 449 is returned at once.
	MaxRetryWithWait time.Duration

	// UnavailableInitial is the first backoff interval after a 503 or a
	// transport error; each further interval doubles, up to UnavailableMax.
	// A 503's x-ms-retry-after-ms, if longer, replaces the interval, and
	// delays even a retry that would go at once. Defaults 100ms and 2s. If
	// either is negative, only the retries that would go at once remain (a
	// read's first, to the next region; a never-sent write's first).
	UnavailableInitial, UnavailableMax time.Duration
	// MaxUnavailableRetries is how many times one call retries because of
	// unavailability: 503, 500, 408 and transport errors together (500 and
	// 408 at most once each). It also caps, counted apart, the retries of
	// a call whose endpoint's circuit is open. Default 3; negative: none of
	// these are retried.
	MaxUnavailableRetries int

	// MaxFailoverWait is how long one call keeps resending after its first
	// 403.3 (write forbidden) or 403.1008 (region not found), measured from
	// that answer. Default 60s; negative: these are returned at once.
	MaxFailoverWait time.Duration
	// FailoverInterval spaces the failover resends after the first, which
	// goes at once. Default 1s; negative: only the first resend is made.
	FailoverInterval time.Duration

	// MaxSessionRetries is how many times one read retries a 404.1002
	// (session not available) on the write region. Default 2; negative:
	// returned at once.
	MaxSessionRetries int

	// ReadTimeLimit and WriteTimeLimit bound a read or a write call, as
	// a context deadline would, when the caller's context has none: every
	// attempt, wait, look-up and read-back of the call, and the reading of
	// the response's body. A call that runs out of its limit ends with an
	// error wrapping transport.ErrTimeLimit, never
	// context.DeadlineExceeded (a client above, azcosmos for one, resends
	// on that while its own context is live); a write that may have run by
	// then wraps transport.ErrOutcomeUnknown too. Default: no limit;
	// negative: the same.
	ReadTimeLimit, WriteTimeLimit time.Duration

	// MaxBufferedBody is the largest request body, without GetBody, that
	// the transport buffers to make the request replayable; a longer body
	// is sent once and not retried. Default 2 MiB + 64 KiB (the service's
	// document limit with room for the envelope); negative: never buffer.
	MaxBufferedBody int64
	// MaxDrain is how many bytes of a discarded response the transport
	// reads so that the connection can be reused. Default 64 KiB; negative:
	// discarded responses are closed without reading.
	MaxDrain int64

	// Budget configures the retry budget shared by the transport's calls.
	Budget BudgetOptions

	// TrackWrites lets a write whose outcome is in doubt (its connection
	// failed after the request was sent, or a 408) be settled instead of
	// returned as transport.ErrOutcomeUnknown. Creates, upserts and
	// replaces of a document whose body is a JSON object get a
	// "_trackingId" property: a fresh random UUID per call (or the call's
	// transport.RequestOptions.TrackingID), kept across its attempts and
	// written over any id the body brought, since an id a body
	// round-trips proves nothing about this call. After a doubt the item is
	// read back with the chain's credential, under the chain's rules, where
	// the write went; only the call's id proves the write ran, and then the
	// call ends with its success. A write is resent only where the service
	// can refuse it if an earlier attempt ran: a create as it is, an
	// upsert whose item is absent as a create, anything with the caller's
	// If-Match, and a write whose item is still at the version its body
	// was made from (the "_etag" a read-modify-write sends back) guarded
	// by that etag. Everything else ends with transport.ErrOutcomeUnknown,
	// never a guessed status. With tracking, a delete in doubt is resent
	// and a 404 then counts as done (204). Patches, batches and stored
	// procedures keep the default rule. Default false: the property is
	// stored in every document written, and each settlement costs a read.
	TrackWrites bool
}

// BudgetOptions configures the retry budget: a token bucket, one per
// transport, that retries caused by unavailability draw on (see
// RetryOptions.Budget). The zero value is the default budget.
type BudgetOptions struct {
	// Tokens is the capacity of the bucket, which starts full. Default 10;
	// negative: no budget, every retry is allowed.
	Tokens float64
	// Refill is what one successful attempt puts back. Default 0.5: while
	// fewer than about a third of the attempts fail for unavailability,
	// the bucket holds and retries go on; above that, or in an outage, it
	// empties and calls stop retrying, but for what PerSecond puts back.
	// Negative: successes put nothing back.
	Refill float64
	// PerSecond is what time puts back: tokens a second, up to Tokens, in
	// the spirit of Linkerd's minRetriesPerSecond beside its ratio, so
	// that a quiet client in a brownout keeps the retries its few
	// successes could not buy. Default 10, as Linkerd's: a caller reading
	// every 100 ms whose every read meets 503, 503, 200 gets all its 200s
	// (it needs 8 to 10 a second, with the longest and the shortest
	// backoff waits; successes alone starve it by its third call).
	//
	// In a sustained outage time pays for first attempts before retries,
	// so PerSecond is what the budget lets through: a transport sending
	// more than PerSecond calls a second stays at about one attempt per
	// call (1.001 at 100 calls a second, 1.0001 at 1000); one sending
	// fewer gets about PerSecond less its rate in retries a second, up to
	// every call's MaxUnavailableRetries (at the defaults, below 2.5 calls
	// a second). Past the bucket's first Tokens, an outage costs a
	// transport at most about PerSecond retries a second. Each transport has its own bucket: N of them (N pods) add
	// up to N × PerSecond retries a second in all, on top of what their
	// successes buy through Refill in a partial outage. Negative: only
	// successes refill the bucket.
	PerSecond float64
}

// BreakerOptions configures the circuit breaker that guards each endpoint.
// The zero value is the documented default of every field: 0 means the
// default, negative turns off what the field's comment says.
type BreakerOptions struct {
	// ConsecutiveFailures trips the circuit after this many failures in a
	// row. Default 5; negative: this rule is off.
	ConsecutiveFailures int
	// FailureRatio trips the circuit when failures / (failures + successes)
	// in the window reaches it, once MinRequests outcomes have been counted.
	// Default 0.5; negative: this rule is off.
	FailureRatio float64
	// MinRequests is how many counted outcomes (successes and failures;
	// excluded ones are not counted) the ratio rule needs. Default 20;
	// negative: no minimum.
	MinRequests int
	// Interval is the length of the rolling window over which a closed
	// circuit counts outcomes; it moves in steps of a tenth of Interval.
	// Default 10s; negative: counts are cleared only when the state changes.
	Interval time.Duration
	// OpenTimeout is how long an open circuit refuses requests before it
	// lets HalfOpenProbes through. Default 30s; negative: no open period,
	// the circuit half-opens as soon as the clock moves on.
	OpenTimeout time.Duration
	// HalfOpenProbes is how many requests a half-open circuit lets
	// through; that many successes in a row close it, one failure opens it
	// again. Default 1; negative: 1.
	HalfOpenProbes int
}
