package decide

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

func TestHedgeFinal(t *testing.T) {
	final := []int{200, 201, 204, 304, 400, 401, 405, 409, 412, 413}
	for _, s := range final {
		assert.True(t, HedgeFinal(response(s, 0), nil), "%d", s)
	}
	assert.True(t, HedgeFinal(response(404, 0), nil), "404/0")
	for _, s := range []int{403, 408, 410, 429, 449, 500, 502, 503} {
		assert.False(t, HedgeFinal(response(s, 0), nil), "%d", s)
	}
	assert.False(t, HedgeFinal(response(404, 1002), nil), "404/1002")
	assert.False(t, HedgeFinal(response(403, 3), nil), "403/3")
	assert.False(t, HedgeFinal(nil, errors.New("reset")), "transport error")
}

func TestHedgeBudgetAllowsRatioPerReadAfterTheBurst(t *testing.T) {
	b := NewHedgeBudget(policy.HedgeOptions{Threshold: time.Millisecond})
	taken := 0
	for range 1000 {
		b.Read()
		if b.Take() {
			taken++
		}
	}
	// The burst (10) plus 0.1 per read: at most 110 of 1000 reads hedge.
	assert.InDelta(t, 110, taken, 1)

	unlimited := NewHedgeBudget(policy.HedgeOptions{Ratio: -1})
	assert.Nil(t, unlimited)
	assert.True(t, unlimited.Take(), "no budget: every hedge goes")
}

func TestHedgeDefaultsAndDelays(t *testing.T) {
	o := HedgeDefaults(policy.HedgeOptions{Threshold: 50 * time.Millisecond})
	assert.Equal(t, policy.HedgeOptions{Threshold: 50 * time.Millisecond, Step: 50 * time.Millisecond, Ratio: 0.1, Burst: 10, DemoteAfter: 5}, o)
	assert.Equal(t, []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond},
		[]time.Duration{HedgeDelay(o, 0), HedgeDelay(o, 1), HedgeDelay(o, 2)})
	assert.False(t, Hedges(policy.HedgeOptions{}))
	assert.False(t, Hedges(policy.HedgeOptions{Threshold: time.Second, MaxRegions: 1}))
	assert.True(t, Hedges(policy.HedgeOptions{Threshold: time.Second}))
}
