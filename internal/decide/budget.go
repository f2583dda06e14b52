package decide

import (
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

const (
	defaultBudgetTokens    = 10
	defaultBudgetRefill    = 0.5
	defaultBudgetPerSecond = 10
)

// budgetDefaults returns a copy of o in which zero fields hold their
// defaults. Negative fields are kept.
func budgetDefaults(o policy.BudgetOptions) policy.BudgetOptions {
	orDefault(&o.Tokens, defaultBudgetTokens)
	orDefault(&o.Refill, defaultBudgetRefill)
	orDefault(&o.PerSecond, defaultBudgetPerSecond)
	return o
}

// A budget limits the retries caused by unavailability across all the calls
// of a transport, in the manner of gRPC retry throttling with Linkerd's
// floor of retries per second: a token bucket that loses one token per
// failed attempt, gains Refill per successful one and PerSecond per second
// of time, up to its capacity, and allows a retry only while it holds more
// than half its capacity. A short burst of failures is retried, and so is
// a quiet client's brownout; in a sustained outage the bucket empties, a
// busy transport's calls cost about one attempt each, and any transport
// makes at most about PerSecond retries a second.
//
// Time is added lazily, before a token is taken or the bucket is read.
// Additions commute under the cap (min(min(x+a, c)+b, c) = min(x+a+b, c)
// for a, b ≥ 0), so a success adds its Refill without first adding the
// time: it never reads the clock.
//
// A budget is safe for concurrent use. A nil *budget allows every retry.
type budget struct {
	capacity  float64 // negative: unlimited
	refill    float64 // zero or more
	perSecond float64 // zero or more
	now       func() time.Time

	mu     sync.Mutex // guards tokens and last
	tokens float64    // in [0, capacity]
	last   time.Time  // when the clock was last read; zero: not yet
}

// newBudget returns a full budget configured by o, whose time is now.
func newBudget(o policy.BudgetOptions, now func() time.Time) *budget {
	o = budgetDefaults(o)
	return &budget{
		capacity: o.Tokens, refill: max(o.Refill, 0), perSecond: max(o.PerSecond, 0), now: now,
		tokens: max(o.Tokens, 0),
	}
}

// Allow reports whether a budgeted retry may go: whether the bucket holds
// more than half its capacity. It takes nothing from the bucket.
func (b *budget) allow() bool {
	if b == nil || b.capacity < 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.elapseLocked()
	return b.tokens > b.capacity/2
}

// Failure records an attempt that failed for unavailability (503, 500,
// 408, a transport error): one token less, never below zero.
func (b *budget) failure() {
	if b == nil || b.capacity < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.elapseLocked()
	b.tokens = max(b.tokens-1, 0)
}

// Success records an attempt that succeeded: Refill tokens more, never
// above the capacity.
func (b *budget) success() {
	if b == nil || b.capacity < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.tokens+b.refill, b.capacity)
}

// elapseLocked adds PerSecond for the time since it last ran, never above
// the capacity. A clock that went back adds nothing and restarts the
// count. b.mu must be held.
func (b *budget) elapseLocked() {
	if b.perSecond == 0 {
		return
	}
	now := b.now()
	if d := now.Sub(b.last); d > 0 && !b.last.IsZero() {
		b.tokens = min(b.tokens+b.perSecond*d.Seconds(), b.capacity)
	}
	b.last = now
}

// isUnavailability reports whether an attempt's outcome is the kind of
// failure the retry budget guards against (503, 500, 408 and transport
// errors): Judge reports such an attempt to the budget as a failure.
func isUnavailability(o Outcome) bool {
	switch o {
	case unavailable, serverError, requestTimeout, NeverSent, Ambiguous:
		return true
	}
	return false
}
