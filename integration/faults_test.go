package integration

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// A write whose connection drops after it was sent may have run: neither
// the chain nor azcosmos sends it again, and the caller gets the error.
func TestDroppedWriteIsNotResent(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.acct.Inject("West US 2", cosmostest.Fault{Drop: true, Ops: cosmostest.WriteOps, Count: 1})

	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.Error(t, err)
	assert.Equal(t, []string{"POST docs West US 2 dropped"}, trail(r.acct))
	assert.Zero(t, r.acct.Commits(dbName, collName, "1"))
}

// After five 500s in a row the write region's circuit opens, and the next
// write fails at once, without touching the network, with an error the
// caller can branch on through the SDK's wrapping.
func TestOpenCircuitReachesTheCallerThroughTheSDK(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.WriteOps})

	for range 5 {
		_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
		var re *azcore.ResponseError
		require.True(t, errors.As(err, &re), "got %v, want the 500", err)
	}
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.ErrorIs(t, err, transport.ErrCircuitOpen)
	var open *transport.CircuitOpenError
	require.ErrorAs(t, err, &open)
	assert.Equal(t, repeat("POST docs West US 2 500", 5), trail(r.acct), "the sixth write never left")
}

// A 429 whose hint ends after the call's deadline comes back at once, as
// the 429, instead of a wait that would end in the deadline.
func TestThrottleHintPastTheDeadlineReturnsTheThrottle(t *testing.T) {
	r := newRig(t, rigOptions{})
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	r.acct.ResetLog()
	r.acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, Header: http.Header{"X-Ms-Retry-After-Ms": {"20000"}},
		Ops: cosmostest.ReadOps, Count: 1,
	})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = r.orders.ReadItem(ctx, pk, "1", nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "got %v, want the 429", err)
	assert.Equal(t, http.StatusTooManyRequests, re.StatusCode)
	assert.NoError(t, ctx.Err(), "the call returned before its deadline")
	assert.Equal(t, []string{"GET docs/1 West US 2 429"}, trail(r.acct))
}

// A read that hangs past the call's deadline ends with the context's error,
// after one attempt: neither layer retries into a spent deadline.
func TestHungReadEndsAtTheDeadline(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.acct.Inject("West US 2", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	r.acct.Close() // waits for the hung handler, so that its entry is logged
	assert.Equal(t, []string{"GET docs/1 West US 2 dropped"}, trail(r.acct))
}
