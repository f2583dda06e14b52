package decide

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// call simulates one call the way the transport runs it: an attempt, its
// outcome reported to the budget, then Decide and budget.Allow until one
// of them says stop. outcomes gives each attempt's outcome (the last one
// repeats). It returns the number of attempts.
func call(b *budget, write bool, outcomes ...Outcome) int {
	r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
	for attempts := 1; attempts <= 100; attempts++ {
		o := outcomes[min(attempts-1, len(outcomes)-1)]
		if isUnavailability(o) {
			b.failure()
		} else if o == OK {
			b.success()
		}
		d := r.decide(write, o, nil)
		if !d.Retry || (d.budgeted && !b.allow()) {
			return attempts
		}
	}
	return 100
}

func TestBudgetSustainedOutageCostsAboutOneAttemptPerCall(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write bool
		o     Outcome
	}{
		{"reads, 503", false, unavailable},
		{"writes, 503", true, unavailable},
		{"reads, refused", false, NeverSent},
		{"reads, reset", false, Ambiguous},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBudget(policy.BudgetOptions{})
			const calls = 1000
			attempts := 0
			for range calls {
				attempts += call(b, tt.write, tt.o)
			}
			ratio := float64(attempts) / calls
			t.Logf("%d attempts for %d calls (%.3f)", attempts, calls, ratio)
			assert.LessOrEqual(t, ratio, 1.2)

			without := call(newBudget(policy.BudgetOptions{Tokens: -1}), tt.write, tt.o)
			assert.Equal(t, 4, without, "without a budget each call makes 1 + MaxUnavailableRetries attempts")
		})
	}
}

func TestBudgetRetriesABurst(t *testing.T) {
	b := newBudget(policy.BudgetOptions{})
	assert.Equal(t, 3, call(b, false, unavailable, NeverSent, OK), "two failures, then success")
	assert.Equal(t, 3, call(b, true, unavailable, unavailable, OK), "and again")
}

func TestBudgetRefillsWithSuccesses(t *testing.T) {
	b := newBudget(policy.BudgetOptions{})
	for range 20 {
		b.failure()
	}
	require.False(t, b.allow())
	for range 10 { // 5 tokens at 0.5 each: not yet above half of 10
		b.success()
	}
	assert.False(t, b.allow())
	for range 2 { // 6 tokens; a floor of 0 was kept, not -10
		b.success()
	}
	assert.True(t, b.allow())
}

func TestBudgetCapacityIsACap(t *testing.T) {
	b := newBudget(policy.BudgetOptions{})
	for range 1000 {
		b.success()
	}
	for range 5 {
		b.failure()
	}
	assert.False(t, b.allow(), "successes beyond the capacity are not banked")
}

func TestBudgetOptions(t *testing.T) {
	b := newBudget(policy.BudgetOptions{Tokens: 4, Refill: 1})
	b.failure()
	assert.True(t, b.allow(), "3 > 2")
	b.failure()
	assert.False(t, b.allow(), "2 is not above half of 4")
	b.success()
	assert.True(t, b.allow(), "one success puts back one token")

	off := newBudget(policy.BudgetOptions{Tokens: -1})
	for range 100 {
		off.failure()
	}
	assert.True(t, off.allow(), "negative Tokens: no budget")

	noRefill := newBudget(policy.BudgetOptions{Refill: -1})
	for range 5 {
		noRefill.failure()
	}
	for range 1000 {
		noRefill.success()
	}
	assert.False(t, noRefill.allow(), "negative Refill: successes put nothing back")

	var nilBudget *budget
	nilBudget.failure()
	nilBudget.success()
	assert.True(t, nilBudget.allow())

	assert.Equal(t, policy.BudgetOptions{Tokens: 10, Refill: 0.5}, budgetDefaults(policy.BudgetOptions{}))
	assert.Equal(t, policy.BudgetOptions{Tokens: -1, Refill: 2}, budgetDefaults(policy.BudgetOptions{Tokens: -1, Refill: 2}))
}

func TestBudgetConcurrentUse(t *testing.T) {
	b := newBudget(policy.BudgetOptions{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.failure()
				b.allow()
			}
		})
	}
	wg.Wait()
	assert.False(t, b.allow())
	var ok sync.WaitGroup
	for range 8 {
		ok.Go(func() {
			for range 10 {
				b.success()
			}
		})
	}
	ok.Wait()
	assert.True(t, b.allow(), "80 successes from 0 make 8 tokens")
}

func TestBudgetKeepsRetryingUnderSteadyPartialFailure(t *testing.T) {
	// One attempt in five fails with 503, spread evenly, as when one
	// partition of many is unavailable: retries must go on.
	b := newBudget(policy.BudgetOptions{})
	n, failedCalls := 0, 0
	for range 1000 {
		r := newCall(policy.RetryOptions{}, newClock().Now, fixedRand(0))
		for {
			n++
			if n%5 != 0 {
				b.success()
				break
			}
			b.failure()
			if d := r.decide(true, unavailable, nil); !d.Retry || (d.budgeted && !b.allow()) {
				failedCalls++
				break
			}
		}
	}
	t.Logf("20%% of attempts failing: %d of 1000 calls failed", failedCalls)
	assert.Zero(t, failedCalls, "every failed attempt was retried and the retry succeeded")
}
