package azcosmosrt

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// dropRig is a rig whose item "1" exists and whose Base opens a new
// connection per attempt, so that net/http never resends a dropped GET by
// itself (it does on a reused connection): each attempt of the chain is one
// request at the account.
func dropRig(t *testing.T, edit ...func(*Options)) *rig {
	t.Helper()
	r := newRig(t, cosmostest.Options{}, func(o *Options) {
		for _, e := range edit {
			e(o)
		}
	})
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

// A read whose connection drops every time, in every region, costs the
// chain's own attempts and nothing more. The chain gives up with an
// *transport.AttemptError that hides the connection's error (io.EOF here)
// from errors.Is and errors.As, so azcosmos, which resends a read that met
// io.EOF 3 times in the same region and once in another, 1 s apart, takes
// it as final. On a fresh Client the chain retries the first call 3 times
// (MaxUnavailableRetries), region by region and back to the first: 4
// attempts. Those spend the retry budget (10 tokens, one per failed
// attempt, a retry only while more than 5 remain; its refill by time is off
// here, or the first call's 0.25 s would put 2.5 tokens back and the second
// call would be retried in full), so the second call is not retried: 1
// attempt. Before the chain hid the error, azcosmos sent each call through
// the chain 5 times: 8 attempts in 4.2 s, then 5 in 4.0 s.
//
// Each attempt is one request at the account, counted there: the rig opens
// a connection per attempt, and net/http resends a dropped GET by itself
// only on a reused connection.
func TestAPersistentlyDroppedReadCostsTheChainsAttemptsAlone(t *testing.T) {
	t.Parallel()
	r := dropRig(t, func(o *Options) { o.Chain.Retry.Budget.PerSecond = -1 })
	dropReads(r.acct, 0)

	for i, want := range [][]string{{
		"GET docs/1 West US 2 dropped",
		"GET docs/1 East US dropped",
		"GET docs/1 North Europe dropped",
		"GET docs/1 West US 2 dropped",
	}, {
		"GET docs/1 West US 2 dropped",
	}} {
		r.acct.ResetLog()
		start := time.Now()
		_, err := r.orders.ReadItem(t.Context(), pk, "1", nil)
		took := time.Since(start)
		require.Error(t, err)
		trail := trail(r.acct)
		t.Logf("call %d: %d attempts in %v: %v", i+1, len(trail), took.Round(10*time.Millisecond), err)

		assert.Equal(t, want, trail, "call %d", i+1)
		assert.Less(t, took, time.Second, "call %d: azcosmos sleeps 1 s before it resends", i+1)
		assert.NotErrorIs(t, err, io.EOF, "call %d: the connection's error is in reach of azcosmos", i+1)
		var attempts *transport.AttemptError
		if assert.ErrorAs(t, err, &attempts, "call %d", i+1) {
			assert.Equal(t, len(want), attempts.Attempts, "call %d", i+1)
			assert.True(t, attempts.Sent, "call %d", i+1)
		}
	}
}

// A deadline bounds the cost: when each drop takes its time, the call ends
// with the context's error when the deadline comes, in the middle of the
// chain's retries.
func TestADeadlineBoundsADroppedRead(t *testing.T) {
	t.Parallel()
	r := dropRig(t)
	for _, name := range r.acct.Regions() {
		r.acct.Inject(name, cosmostest.Fault{Drop: true, Delay: 400 * time.Millisecond, Ops: cosmostest.ReadOps})
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, len(trail(r.acct)), 4, "the deadline came before the chain's last attempt")
}
