package decide

import (
	"sync"

	"github.com/cosmosrt/cosmosrt/policy"
)

const (
	defaultBudgetTokens = 10
	defaultBudgetRefill = 0.5
)

// budgetDefaults returns a copy of o in which zero fields hold their
// defaults. Negative fields are kept.
func budgetDefaults(o policy.BudgetOptions) policy.BudgetOptions {
	orDefault(&o.Tokens, defaultBudgetTokens)
	orDefault(&o.Refill, defaultBudgetRefill)
	return o
}

// A budget limits the retries caused by unavailability across all the calls
// of a transport, in the manner of gRPC retry throttling: a token bucket
// that loses one token per failed attempt and gains Refill per successful
// one, and allows a retry only while it holds more than half its capacity.
// A short burst of failures is retried; in a sustained outage the bucket
// empties and each call costs about one attempt.
//
// A budget is safe for concurrent use. A nil *budget allows every retry.
type budget struct {
	capacity float64 // negative: unlimited
	refill   float64 // zero or more

	mu     sync.Mutex
	tokens float64 // guarded by mu; in [0, capacity]
}

// newBudget returns a full budget configured by o.
func newBudget(o policy.BudgetOptions) *budget {
	o = budgetDefaults(o)
	return &budget{capacity: o.Tokens, refill: max(o.Refill, 0), tokens: max(o.Tokens, 0)}
}

// Allow reports whether a budgeted retry may go: whether the bucket holds
// more than half its capacity. It takes nothing from the bucket.
func (b *budget) allow() bool {
	if b == nil || b.capacity < 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
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
