package integration

import (
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// A query runs through the chain as a read: it goes to the read region, a
// throttled page is retried by the chain, and the caller gets the items the
// query's filter keeps (cosmostest evaluates it).
func TestQueryItemsRunsThroughTheChainAsARead(t *testing.T) {
	r := newRig(t, rigOptions{chain: chainPrefers("East US")})
	ctx := t.Context()
	for i, id := range []string{"a", "b", "c"} {
		_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, id, i+1), nil)
		require.NoError(t, err)
	}
	r.acct.ResetLog()
	r.acct.Inject("East US", cosmostest.Fault{
		Status: http.StatusTooManyRequests, Header: http.Header{"X-Ms-Retry-After-Ms": {"1"}},
		Ops: cosmostest.ReadOps, Count: 1,
	})

	pager := r.orders.NewQueryItemsPager("SELECT * FROM c WHERE c.total > @min", pk, &azcosmos.QueryOptions{
		QueryParameters: []azcosmos.QueryParameter{{Name: "@min", Value: 1}},
	})
	var ids []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, item := range page.Items {
			ids = append(ids, decodeOrder(t, item).ID)
		}
	}
	assert.ElementsMatch(t, []string{"b", "c"}, ids) // totals 2 and 3; "a" has 1
	assert.Equal(t, []string{
		"POST docs East US 429",
		"POST docs East US 200",
	}, trail(r.acct))
	for _, e := range r.acct.Log() {
		assert.False(t, e.Write, "a query is not a write: %s", describe(e))
	}
}
