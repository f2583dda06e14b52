package decide

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

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
			b := newBudget(policy.BudgetOptions{}, newClock().Now)
			const calls = 1000
			attempts := 0
			for range calls {
				attempts += call(b, tt.write, tt.o)
			}
			ratio := float64(attempts) / calls
			t.Logf("%d attempts for %d calls (%.3f)", attempts, calls, ratio)
			assert.LessOrEqual(t, ratio, 1.2)

			without := call(newBudget(policy.BudgetOptions{Tokens: -1}, newClock().Now), tt.write, tt.o)
			assert.Equal(t, 4, without, "without a budget each call makes 1 + MaxUnavailableRetries attempts")
		})
	}
}

func TestBudgetRetriesABurst(t *testing.T) {
	b := newBudget(policy.BudgetOptions{}, newClock().Now)
	assert.Equal(t, 3, call(b, false, unavailable, NeverSent, OK), "two failures, then success")
	assert.Equal(t, 3, call(b, true, unavailable, unavailable, OK), "and again")
}

func TestBudgetRefillsWithSuccesses(t *testing.T) {
	b := newBudget(policy.BudgetOptions{}, newClock().Now)
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
	b := newBudget(policy.BudgetOptions{}, newClock().Now)
	for range 1000 {
		b.success()
	}
	for range 5 {
		b.failure()
	}
	assert.False(t, b.allow(), "successes beyond the capacity are not banked")
}

func TestBudgetOptions(t *testing.T) {
	b := newBudget(policy.BudgetOptions{Tokens: 4, Refill: 1}, newClock().Now)
	b.failure()
	assert.True(t, b.allow(), "3 > 2")
	b.failure()
	assert.False(t, b.allow(), "2 is not above half of 4")
	b.success()
	assert.True(t, b.allow(), "one success puts back one token")

	off := newBudget(policy.BudgetOptions{Tokens: -1}, newClock().Now)
	for range 100 {
		off.failure()
	}
	assert.True(t, off.allow(), "negative Tokens: no budget")

	noRefill := newBudget(policy.BudgetOptions{Refill: -1}, newClock().Now)
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

	assert.Equal(t, policy.BudgetOptions{Tokens: 10, Refill: 0.5, PerSecond: 10}, budgetDefaults(policy.BudgetOptions{}))
	assert.Equal(t, policy.BudgetOptions{Tokens: -1, Refill: 2, PerSecond: -1}, budgetDefaults(policy.BudgetOptions{Tokens: -1, Refill: 2, PerSecond: -1}))
}

func TestBudgetConcurrentUse(t *testing.T) {
	b := newBudget(policy.BudgetOptions{}, newClock().Now)
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
	b := newBudget(policy.BudgetOptions{}, newClock().Now)
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

func TestBudgetRefillsWithTime(t *testing.T) {
	clock := newClock()
	b := newBudget(policy.BudgetOptions{}, clock.Now) // 10 tokens, 10 a second
	for range 20 {
		b.failure()
	}
	require.False(t, b.allow())
	clock.Advance(500 * time.Millisecond) // 5 tokens: not above half of 10
	assert.False(t, b.allow())
	clock.Advance(100 * time.Millisecond) // 6
	assert.True(t, b.allow())

	clock.Advance(time.Hour) // capped at 10, not 36000
	for range 5 {
		b.failure()
	}
	assert.False(t, b.allow(), "time beyond the capacity is not banked")

	clock.Advance(-time.Hour) // a clock that went back adds nothing
	assert.False(t, b.allow())
	clock.Advance(100 * time.Millisecond) // and counts again from there
	assert.True(t, b.allow())

	off := newBudget(policy.BudgetOptions{PerSecond: -1}, clock.Now)
	for range 10 {
		off.failure()
	}
	clock.Advance(time.Hour)
	assert.False(t, off.allow(), "negative PerSecond: time puts nothing back")
}

// TestBudgetSuccessLeavesTheClockAlone: a success, the hot path, takes
// the lock as it did before time refilled the bucket, and nothing more.
func TestBudgetSuccessLeavesTheClockAlone(t *testing.T) {
	clock, reads := newClock(), 0
	b := newBudget(policy.BudgetOptions{}, func() time.Time { reads++; return clock.Now() })
	b.failure()
	reads = 0
	for range 100 {
		b.success()
	}
	assert.Zero(t, reads)
	assert.Zero(t, testing.AllocsPerRun(100, b.success))
}

// TestBudgetQuietClientKeepsRetryingInABrownout: a sequential caller, 100
// ms between calls, whose every read meets 503, 503, 200 gets its 200s,
// whatever the jitter of its waits; successes alone (PerSecond off, the
// budget before time refilled it) starve it within a few calls.
func TestBudgetQuietClientKeepsRetryingInABrownout(t *testing.T) {
	const ms = time.Millisecond
	for _, tt := range []struct {
		name      string
		perSecond float64
		random    func() float64
		wantOK    int
	}{
		{"default, shortest waits", 0, fixedRand(0.999999), 1000},
		{"default, longest waits", 0, fixedRand(0), 1000},
		{"successes alone", -1, fixedRand(0), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, attempts := sequential(policy.BudgetOptions{PerSecond: tt.perSecond}, tt.random, 1000, 5*ms, 100*ms, 503, 503, 200)
			t.Logf("%d of 1000 calls got 200 in %d attempts", ok, attempts)
			assert.Equal(t, tt.wantOK, ok)
		})
	}
}

// TestBudgetBusyClientInASustainedOutage: reads arriving at 100 or 1000
// a second, every attempt answered 503 for a simulated minute, cost at
// most 1.1 attempts per call; time puts back PerSecond tokens a second,
// which the first attempts spend.
func TestBudgetBusyClientInASustainedOutage(t *testing.T) {
	for _, rate := range []float64{100, 1000} {
		t.Run(fmt.Sprintf("%v calls a second", rate), func(t *testing.T) {
			calls, attempts := outage(policy.BudgetOptions{}, rand.New(rand.NewPCG(1, 2)).Float64, rate, time.Minute, 5*time.Millisecond)
			ratio := float64(attempts) / float64(calls)
			t.Logf("%d attempts for %d calls (%.4f per call)", attempts, calls, ratio)
			assert.LessOrEqual(t, ratio, 1.1)
			assert.Greater(t, calls, int(rate*59), "the calls kept coming for the whole minute")
		})
	}
}

// TestBudgetOutageRetriesPerSecondAreBounded: whatever a transport's
// rate, a sustained outage costs it at most the bucket's Tokens and
// PerSecond a second of retries: what one instance adds to N.
func TestBudgetOutageRetriesPerSecondAreBounded(t *testing.T) {
	for _, rate := range []float64{0.5, 2.5, 5, 10, 20, 100} {
		t.Run(fmt.Sprintf("%v calls a second", rate), func(t *testing.T) {
			calls, attempts := outage(policy.BudgetOptions{}, rand.New(rand.NewPCG(1, 2)).Float64, rate, time.Minute, 5*time.Millisecond)
			retries := attempts - calls
			t.Logf("%d calls, %d retries (%.2f a second, %.2f attempts per call)", calls, retries, float64(retries)/60, float64(attempts)/float64(calls))
			assert.LessOrEqual(t, float64(retries), defaultBudgetTokens+defaultBudgetPerSecond*60.0)
			assert.LessOrEqual(t, attempts, 4*calls, "at most MaxUnavailableRetries per call")
		})
	}
}

// readSituation is a read that nothing but the rules and the budget stops
// from retrying.
var readSituation = Situation{Replayable: true, OtherRegion: true, Account: true}

// sequential runs calls reads one after another through one Policy on a
// fake clock: each attempt takes rtt, each retry waits what its decision
// says, and gap separates the end of a call from the start of the next.
// statuses are the answers to each call's attempts (the last repeats). It
// returns how many calls ended with 200 and how many attempts were made.
func sequential(o policy.BudgetOptions, random func() float64, calls int, rtt, gap time.Duration, statuses ...int) (ok, attempts int) {
	clock := newClock()
	p := New(policy.RetryOptions{Budget: o}, clock.Now, random)
	for range calls {
		c := p.Call()
		for i := 0; ; i++ {
			attempts++
			clock.Advance(rtt)
			resp := response(statuses[min(i, len(statuses)-1)], 0)
			d := c.Decide(p.Judge(resp, nil), resp, readSituation)
			if !d.Retry {
				if resp.StatusCode == http.StatusOK {
					ok++
				}
				break
			}
			clock.Advance(d.Wait)
		}
		clock.Advance(gap)
	}
	return ok, attempts
}

// outage runs reads that start rate a second for window through one
// Policy on a fake clock, every attempt answered 503 after rtt, each call
// retrying as its decisions say, overlapping as they must. It returns the
// calls started and the attempts made.
func outage(o policy.BudgetOptions, random func() float64, rate float64, window, rtt time.Duration) (calls, attempts int) {
	clock := newClock()
	start := clock.Now()
	p := New(policy.RetryOptions{Budget: o}, clock.Now, random)
	every := time.Duration(float64(time.Second) / rate)
	var q answers
	for next := time.Duration(0); next < window || len(q) > 0; {
		// The next event is an answer, or a call's first attempt.
		if len(q) > 0 && (next >= window || !q[0].at.After(start.Add(next+rtt))) {
			a := heap.Pop(&q).(answer)
			clock.now = a.at
			attempts++
			resp := response(http.StatusServiceUnavailable, 0)
			if d := a.call.Decide(p.Judge(resp, nil), resp, readSituation); d.Retry {
				heap.Push(&q, answer{at: a.at.Add(d.Wait + rtt), call: a.call})
			}
			continue
		}
		calls++
		c := p.Call()
		heap.Push(&q, answer{at: start.Add(next + rtt), call: &c})
		next += every
	}
	return calls, attempts
}

// An answer is an attempt's answer due at a time; answers is a heap of
// them, the earliest first.
type answer struct {
	at   time.Time
	call *Call
}

type answers []answer

func (q answers) Len() int           { return len(q) }
func (q answers) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q answers) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *answers) Push(x any)        { *q = append(*q, x.(answer)) }
func (q *answers) Pop() any {
	old := *q
	a := old[len(old)-1]
	*q = old[:len(old)-1]
	return a
}
