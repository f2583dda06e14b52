package azcosmosrt

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// dropRig is a rig whose item "1" exists and whose Base opens a new
// connection per attempt, so that net/http never resends a dropped GET by
// itself (it does on a reused connection): each attempt of the chain is one
// request at the account.
func dropRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, cosmostest.Options{}, nil)
	r.base.noReuse()
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	r.acct.ResetLog()
	return r
}

// dropReads drops count reads (count ≤ 0: every read) at each region.
func dropReads(acct *cosmostest.Account, count int) {
	for _, name := range acct.Regions() {
		acct.Inject(name, cosmostest.Fault{Drop: true, Ops: cosmostest.ReadOps, Count: count})
	}
}

// One dropped read costs one more attempt, in the next region, by the
// chain; azcosmos sees the answer and does not retry or sleep.
func TestADroppedReadIsRetriedByTheChainAlone(t *testing.T) {
	t.Parallel()
	r := dropRig(t)
	r.acct.Inject("West US 2", cosmostest.Fault{Drop: true, Ops: cosmostest.ReadOps, Count: 1})

	got, err := r.orders.ReadItem(t.Context(), pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, order{ID: "1", PK: "eu", Total: 10}, decodeOrder(t, got.Value))
	assert.Equal(t, []string{
		"GET docs/1 West US 2 dropped",
		"GET docs/1 East US 200",
	}, trail(r.acct))
}

// A read whose connection drops every time, in every region: azcosmos
// v1.5.0 sends it through the chain 5 times (its 3 in-region retries and
// 1 cross-region retry for connection errors, 1 s apart, which no option
// turns off). On a fresh Client the chain retries the first of them 3
// times, region by region, and then, its retry budget spent, none: 8
// attempts, and the error after about 4 s. Once the budget is spent, 5.
func TestAPersistentlyDroppedReadCostsFiveSDKTries(t *testing.T) {
	t.Parallel()
	r := dropRig(t)
	dropReads(r.acct, 0)

	for i, want := range []int{8, 5} {
		r.acct.ResetLog()
		start := time.Now()
		_, err := r.orders.ReadItem(t.Context(), pk, "1", nil)
		took := time.Since(start)
		require.Error(t, err)
		trail := trail(r.acct)
		t.Logf("call %d: %d attempts in %v: %v", i+1, len(trail), took.Round(10*time.Millisecond), err)
		assert.Len(t, trail, want, "call %d: %v", i+1, trail)
		for _, line := range trail {
			assert.Contains(t, line, "dropped")
		}
		assert.GreaterOrEqual(t, took, 4*time.Second, "azcosmos sleeps 1 s before each of its 4 retries")
	}
}

// A deadline bounds the cost: the call ends with the context's error when
// the deadline comes, in the middle of azcosmos's retries.
func TestADeadlineBoundsADroppedRead(t *testing.T) {
	t.Parallel()
	r := dropRig(t)
	dropReads(r.acct, 0)

	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, len(trail(r.acct)), 8)
}
