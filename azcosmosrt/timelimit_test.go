package azcosmosrt

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// The chain's time limit of a call without a deadline ends a read whose
// regions hang with an error azcosmos does not resend: one attempt, at the
// limit, where a bare context.DeadlineExceeded under a live context would
// have had azcosmos send the read again and again.
func TestTheChainsTimeLimitIsNotResentByAzcosmos(t *testing.T) {
	t.Parallel()
	r := newRig(t, cosmostest.Options{}, func(o *Options) {
		o.Chain.Retry.ReadTimeLimit = 200 * time.Millisecond
	})
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	r.acct.ResetLog()
	hold := make(chan struct{})
	defer close(hold)
	for _, name := range r.acct.Regions() {
		r.acct.Inject(name, cosmostest.Fault{Hold: hold, Ops: cosmostest.ReadOps})
	}

	start := time.Now()
	_, err = r.orders.ReadItem(t.Context(), pk, "1", nil)
	took := time.Since(start)
	require.ErrorIs(t, err, transport.ErrTimeLimit)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, time.Second, "azcosmos neither resent nor slept")
	require.Eventually(t, func() bool { return r.acct.InFlight() == 0 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"GET docs/1 West US 2 dropped"}, trail(r.acct), "the one read the limit cut short")
}
