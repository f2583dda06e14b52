package decide

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

func TestRetryOptionsDefaults(t *testing.T) {
	want := policy.RetryOptions{
		MaxThrottleRetries:    9,
		MaxThrottleWait:       30 * time.Second,
		DefaultRetryAfter:     5 * time.Second,
		MaxRetryAfter:         30 * time.Second,
		RetryWithInitial:      10 * time.Millisecond,
		RetryWithMax:          time.Second,
		MaxRetryWithWait:      30 * time.Second,
		UnavailableInitial:    100 * time.Millisecond,
		UnavailableMax:        2 * time.Second,
		MaxUnavailableRetries: 3,
		MaxFailoverWait:       60 * time.Second,
		FailoverInterval:      time.Second,
		MaxSessionRetries:     2,
		MaxBufferedBody:       2<<20 + 64<<10,
		MaxDrain:              64 << 10,
		Budget:                policy.BudgetOptions{Tokens: 10, Refill: 0.5, PerSecond: 10},
	}
	assert.Equal(t, want, retryDefaults(policy.RetryOptions{}))
	assert.Equal(t, want, retryDefaults(want), "defaults are a fixed point")
}

func TestRetryOptionsKeepSetAndNegativeFields(t *testing.T) {
	o := policy.RetryOptions{
		MaxThrottleRetries:    -1,
		MaxThrottleWait:       time.Minute,
		DefaultRetryAfter:     -1,
		MaxRetryAfter:         -1,
		RetryWithInitial:      time.Millisecond,
		RetryWithMax:          -1,
		MaxRetryWithWait:      time.Second,
		UnavailableInitial:    -1,
		UnavailableMax:        time.Second,
		MaxUnavailableRetries: -1,
		MaxFailoverWait:       -1,
		FailoverInterval:      -1,
		MaxSessionRetries:     -1,
		MaxBufferedBody:       -1,
		MaxDrain:              -1,
		Budget:                policy.BudgetOptions{Tokens: -1, Refill: -1, PerSecond: -1},
	}
	assert.Equal(t, o, retryDefaults(o))
}
