package decide_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/policy"
)

// call simulates one call the way the transport runs it: an attempt, its
// outcome reported to the budget, then Decide and Budget.Allow until one
// of them says stop. outcomes gives each attempt's outcome (the last one
// repeats). It returns the number of attempts.
func call(b *decide.Budget, write bool, outcomes ...decide.Outcome) int {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	for attempts := 1; attempts <= 100; attempts++ {
		o := outcomes[min(attempts-1, len(outcomes)-1)]
		if decide.Unavailability(o) {
			b.Failure()
		} else if o == decide.OK {
			b.Success()
		}
		d := r.decide(write, o, nil)
		if !d.Retry || (d.Budgeted && !b.Allow()) {
			return attempts
		}
	}
	return 100
}

func TestBudgetSustainedOutageCostsAboutOneAttemptPerCall(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write bool
		o     decide.Outcome
	}{
		{"reads, 503", false, decide.Unavailable},
		{"writes, 503", true, decide.Unavailable},
		{"reads, refused", false, decide.NeverSent},
		{"reads, reset", false, decide.Ambiguous},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := decide.NewBudget(policy.BudgetOptions{})
			const calls = 1000
			attempts := 0
			for range calls {
				attempts += call(b, tt.write, tt.o)
			}
			ratio := float64(attempts) / calls
			t.Logf("%d attempts for %d calls (%.3f)", attempts, calls, ratio)
			assert.LessOrEqual(t, ratio, 1.2)

			without := call(decide.NewBudget(policy.BudgetOptions{Tokens: -1}), tt.write, tt.o)
			assert.Equal(t, 4, without, "without a budget each call makes 1 + MaxUnavailableRetries attempts")
		})
	}
}

func TestBudgetRetriesABurst(t *testing.T) {
	b := decide.NewBudget(policy.BudgetOptions{})
	assert.Equal(t, 3, call(b, false, decide.Unavailable, decide.NeverSent, decide.OK), "two failures, then success")
	assert.Equal(t, 3, call(b, true, decide.Unavailable, decide.Unavailable, decide.OK), "and again")
}

func TestBudgetRefillsWithSuccesses(t *testing.T) {
	b := decide.NewBudget(policy.BudgetOptions{})
	for range 20 {
		b.Failure()
	}
	require.False(t, b.Allow())
	for range 10 { // 5 tokens at 0.5 each: not yet above half of 10
		b.Success()
	}
	assert.False(t, b.Allow())
	for range 2 { // 6 tokens; a floor of 0 was kept, not -10
		b.Success()
	}
	assert.True(t, b.Allow())
}

func TestBudgetCapacityIsACap(t *testing.T) {
	b := decide.NewBudget(policy.BudgetOptions{})
	for range 1000 {
		b.Success()
	}
	for range 5 {
		b.Failure()
	}
	assert.False(t, b.Allow(), "successes beyond the capacity are not banked")
}

func TestBudgetOptions(t *testing.T) {
	b := decide.NewBudget(policy.BudgetOptions{Tokens: 4, Refill: 1})
	b.Failure()
	assert.True(t, b.Allow(), "3 > 2")
	b.Failure()
	assert.False(t, b.Allow(), "2 is not above half of 4")
	b.Success()
	assert.True(t, b.Allow(), "one success puts back one token")

	off := decide.NewBudget(policy.BudgetOptions{Tokens: -1})
	for range 100 {
		off.Failure()
	}
	assert.True(t, off.Allow(), "negative Tokens: no budget")

	noRefill := decide.NewBudget(policy.BudgetOptions{Refill: -1})
	for range 5 {
		noRefill.Failure()
	}
	for range 1000 {
		noRefill.Success()
	}
	assert.False(t, noRefill.Allow(), "negative Refill: successes put nothing back")

	var nilBudget *decide.Budget
	nilBudget.Failure()
	nilBudget.Success()
	assert.True(t, nilBudget.Allow())

	assert.Equal(t, policy.BudgetOptions{Tokens: 10, Refill: 0.5}, decide.BudgetDefaults(policy.BudgetOptions{}))
	assert.Equal(t, policy.BudgetOptions{Tokens: -1, Refill: 2}, decide.BudgetDefaults(policy.BudgetOptions{Tokens: -1, Refill: 2}))
}

func TestBudgetConcurrentUse(t *testing.T) {
	b := decide.NewBudget(policy.BudgetOptions{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Failure()
				b.Allow()
			}
		})
	}
	wg.Wait()
	assert.False(t, b.Allow())
	var ok sync.WaitGroup
	for range 8 {
		ok.Go(func() {
			for range 10 {
				b.Success()
			}
		})
	}
	ok.Wait()
	assert.True(t, b.Allow(), "80 successes from 0 make 8 tokens")
}

func TestBudgetKeepsRetryingUnderSteadyPartialFailure(t *testing.T) {
	// One attempt in five fails with 503, spread evenly, as when one
	// partition of many is unavailable: retries must go on.
	b := decide.NewBudget(policy.BudgetOptions{})
	n, failedCalls := 0, 0
	for range 1000 {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		for {
			n++
			if n%5 != 0 {
				b.Success()
				break
			}
			b.Failure()
			if d := r.decide(true, decide.Unavailable, nil); !d.Retry || (d.Budgeted && !b.Allow()) {
				failedCalls++
				break
			}
		}
	}
	t.Logf("20%% of attempts failing: %d of 1000 calls failed", failedCalls)
	assert.Zero(t, failedCalls, "every failed attempt was retried and the retry succeeded")
}
