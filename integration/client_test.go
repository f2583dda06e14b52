package integration

import (
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientOptionsPutTheChainUnderTheSDKWithoutItsRetries(t *testing.T) {
	rt := http.NewFileTransport(http.Dir(t.TempDir())) // any RoundTripper
	o := ClientOptions(rt)
	hc, ok := o.Transport.(*http.Client)
	require.True(t, ok, "Transport is %T, want *http.Client", o.Transport)
	assert.Equal(t, rt, hc.Transport)
	assert.Zero(t, hc.Timeout, "a client Timeout would bound the chain's retries")
	assert.Equal(t, int32(-1), o.Retry.MaxRetries, "azcore retries must be off")
	assert.Empty(t, o.PreferredRegions, "preferred regions belong to the chain")
	assert.NotSame(t, o, ClientOptions(rt), "each call returns fresh options")
}

// Every item operation azcosmos offers for one document runs through the
// chain, once each, in the write region for writes and the first read
// region for reads, with the SDK's own signatures accepted after the chain
// has moved the requests to regional endpoints.
func TestItemOperationsRunOnceEachThroughTheChain(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()

	created, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, created.RawResponse.StatusCode)
	assert.Positive(t, created.RequestCharge)

	read, err := r.orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, 10, decodeOrder(t, read.Value).Total)
	assert.NotEmpty(t, read.ETag)

	_, err = r.orders.ReplaceItem(ctx, pk, "1", orderJSON(t, "1", 20), nil)
	require.NoError(t, err)
	read, err = r.orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, 20, decodeOrder(t, read.Value).Total)

	inserted, err := r.orders.UpsertItem(ctx, pk, orderJSON(t, "2", 30), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, inserted.RawResponse.StatusCode)
	updated, err := r.orders.UpsertItem(ctx, pk, orderJSON(t, "2", 31), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, updated.RawResponse.StatusCode)

	deleted, err := r.orders.DeleteItem(ctx, pk, "1", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, deleted.RawResponse.StatusCode)

	_, err = r.orders.ReadItem(ctx, pk, "1", nil)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "reading a deleted item: %v", err)
	assert.Equal(t, http.StatusNotFound, re.StatusCode)

	assert.Equal(t, []string{
		"POST docs West US 2 201",
		"GET docs/1 West US 2 200",
		"PUT docs/1 West US 2 200",
		"GET docs/1 West US 2 200",
		"POST docs West US 2 201",
		"POST docs West US 2 200",
		"DELETE docs/1 West US 2 204",
		"GET docs/1 West US 2 404",
	}, trail(r.acct))
	assert.Equal(t, 3, r.acct.Commits(dbName, collName, "1"), "create, replace, delete")
	assert.Equal(t, 2, r.acct.Commits(dbName, collName, "2"), "two upserts")
	doc, ok := r.acct.Document(dbName, collName, "2")
	require.True(t, ok)
	assert.Equal(t, 31, decodeOrder(t, doc).Total)

	// The chain's own look-up and the SDK's (which the chain routes like
	// any read): one each.
	assert.Equal(t, 2, accountReads(r.acct))
}

// azcosmos hands the chain replayable bodies: every request with a body
// has GetBody (azcore sets it), so the chain replays without buffering.
func TestSDKWritesCarryGetBody(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()
	_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	_, err = r.orders.ReplaceItem(ctx, pk, "1", orderJSON(t, "1", 11), nil)
	require.NoError(t, err)
	_, err = r.orders.UpsertItem(ctx, pk, orderJSON(t, "1", 12), nil)
	require.NoError(t, err)

	withBody, getBody, methods := r.base.bodies()
	assert.Equal(t, []string{"POST", "PUT", "POST"}, methods)
	assert.Equal(t, withBody, getBody, "every body is replayable through GetBody")
}
