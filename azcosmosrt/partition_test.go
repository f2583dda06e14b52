package azcosmosrt

import (
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// Reads answered 500 by one partition of a partitioned container, in a
// one-region account, no longer open the circuit of the region: an
// unrelated write goes through at once (it used to be refused for the
// circuit's 30 s open period).
func TestOnePartitionsServerErrorsDoNotBlockAnUnrelatedWrite(t *testing.T) {
	r := newRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, nil)
	_, err := r.client.CreateDatabase(t.Context(), azcosmos.DatabaseProperties{ID: dbName}, nil)
	require.NoError(t, err)
	db, err := r.client.NewDatabase(dbName)
	require.NoError(t, err)
	_, err = db.CreateContainer(t.Context(), azcosmos.ContainerProperties{
		ID: collName, PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}, Version: 2},
	}, nil)
	require.NoError(t, err)
	_, err = r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)

	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.ReadOps, Container: dbName + "/" + collName})
	for range 10 {
		_, err := r.orders.ReadItem(t.Context(), pk, "1", nil)
		require.Error(t, err, "the partition answers 500")
	}
	_, err = r.orders.CreateItem(t.Context(), pk, orderJSON(t, "2", 20), nil)
	assert.NoError(t, err, "the region's circuit stayed closed")
	assert.Empty(t, r.client.chain.Status().OpenCircuits)
}
