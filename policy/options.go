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
	// 408 at most once each). It also caps the retries of a read whose
	// endpoint's circuit is open. Default 3; negative: none of these are
	// retried.
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
}

// Defaults of RetryOptions.
const (
	defaultMaxThrottleRetries    = 9
	defaultMaxThrottleWait       = 30 * time.Second
	defaultRetryAfter            = 5 * time.Second
	defaultMaxRetryAfter         = 30 * time.Second
	defaultRetryWithInitial      = 10 * time.Millisecond
	defaultRetryWithMax          = time.Second
	defaultMaxRetryWithWait      = 30 * time.Second
	defaultUnavailableInitial    = 100 * time.Millisecond
	defaultUnavailableMax        = 2 * time.Second
	defaultMaxUnavailableRetries = 3
	defaultMaxFailoverWait       = 60 * time.Second
	defaultFailoverInterval      = time.Second
	defaultMaxSessionRetries     = 2
	defaultMaxBufferedBody       = 2<<20 + 64<<10
	defaultMaxDrain              = 64 << 10
)

// WithDefaults returns a copy of o in which every zero field, Budget's
// included, holds its default. Negative fields are kept.
func (o RetryOptions) WithDefaults() RetryOptions {
	orDefault(&o.MaxThrottleRetries, defaultMaxThrottleRetries)
	orDefault(&o.MaxThrottleWait, defaultMaxThrottleWait)
	orDefault(&o.DefaultRetryAfter, defaultRetryAfter)
	orDefault(&o.MaxRetryAfter, defaultMaxRetryAfter)
	orDefault(&o.RetryWithInitial, defaultRetryWithInitial)
	orDefault(&o.RetryWithMax, defaultRetryWithMax)
	orDefault(&o.MaxRetryWithWait, defaultMaxRetryWithWait)
	orDefault(&o.UnavailableInitial, defaultUnavailableInitial)
	orDefault(&o.UnavailableMax, defaultUnavailableMax)
	orDefault(&o.MaxUnavailableRetries, defaultMaxUnavailableRetries)
	orDefault(&o.MaxFailoverWait, defaultMaxFailoverWait)
	orDefault(&o.FailoverInterval, defaultFailoverInterval)
	orDefault(&o.MaxSessionRetries, defaultMaxSessionRetries)
	orDefault(&o.MaxBufferedBody, defaultMaxBufferedBody)
	orDefault(&o.MaxDrain, defaultMaxDrain)
	o.Budget = o.Budget.WithDefaults()
	return o
}

// orDefault sets *p to d if *p is zero.
func orDefault[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}
