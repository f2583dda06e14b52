package cosmostest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ppafOrders is a per-partition-failover account with the orders
// container partitioned on /pk, and a key of each of its two ranges.
func ppafOrders(t *testing.T) (*Account, *client, map[string]string) {
	t.Helper()
	a := newTestAccount(t, Options{PerPartitionFailover: true})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := map[string]string{}
	for i := 0; keys["0"] == "" || keys["1"] == ""; i++ {
		require.Less(t, i, 100)
		pk := fmt.Sprint("k", i)
		r := c.do("POST", a.Endpoint()+ordersDocs, `{"id":"`+pk+`","pk":"`+pk+`"}`, pkHeader(`"`+pk+`"`)...)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		keys[r.header.Get("x-ms-documentdb-partitionkeyrangeid")] = pk
	}
	return a, c, keys
}

// upsertAt upserts the item whose id and key are pk at the endpoint called
// name.
func upsertAt(c *client, name, pk string) result {
	return c.do("POST", c.a.RegionEndpoint(name)+ordersDocs, `{"id":"`+pk+`","pk":"`+pk+`","n":2}`,
		append(pkHeader(`"`+pk+`"`), "x-ms-documentdb-is-upsert", "true")...)
}

func TestFailoverRangeMovesOnlyThatRangesWrites(t *testing.T) {
	a, c, keys := ppafOrders(t)
	require.NoError(t, a.FailoverRange("shop", "orders", "1", "East US"))

	for _, name := range []string{Global, "West US 2", "North Europe"} {
		r := upsertAt(c, name, keys["1"])
		assert.Equal(t, http.StatusForbidden, r.status, "the failed-over range's write at %s", name)
		assert.Equal(t, "3", r.sub, "WriteForbidden")
		assert.Equal(t, "1", r.header.Get("x-ms-documentdb-partitionkeyrangeid"), "the answer names the range")
	}
	assert.Equal(t, http.StatusOK, upsertAt(c, "East US", keys["1"]).status, "written in its region")
	assert.Equal(t, 2, a.Commits("shop", "orders", keys["1"]), "the create, then the one accepted upsert")

	assert.Equal(t, http.StatusOK, upsertAt(c, "West US 2", keys["0"]).status, "the other range writes where the account does")
	assert.Equal(t, http.StatusOK, upsertAt(c, Global, keys["0"]).status)
	assert.Equal(t, http.StatusForbidden, upsertAt(c, "East US", keys["0"]).status)
	for _, name := range a.Regions() {
		r := c.do("GET", a.RegionEndpoint(name)+ordersDocs+"/"+keys["1"], "", pkHeader(`"`+keys["1"]+`"`)...)
		assert.Equal(t, http.StatusOK, r.status, "reads anywhere")
	}
	d := getAccount(t, c, a.Endpoint())
	require.Len(t, d.Writable, 1)
	assert.Equal(t, "West US 2", d.Writable[0].Name, "the document still names the account's write region")

	require.NoError(t, a.FailoverRange("shop", "orders", "1", "West US 2"))
	assert.Equal(t, http.StatusOK, upsertAt(c, "West US 2", keys["1"]).status, "moved back")
	assert.Equal(t, http.StatusForbidden, upsertAt(c, "East US", keys["1"]).status)
}

func TestFailoverRangeSurvivesASplitAndNotAnAccountFailover(t *testing.T) {
	a, c, keys := ppafOrders(t)
	require.NoError(t, a.FailoverRange("shop", "orders", "1", "East US"))
	require.NoError(t, a.Split("shop", "orders", "1"))
	assert.Equal(t, http.StatusForbidden, upsertAt(c, "West US 2", keys["1"]).status, "a child writes where its parent did")
	r := upsertAt(c, "East US", keys["1"])
	assert.Equal(t, http.StatusOK, r.status)
	child := r.header.Get("x-ms-documentdb-partitionkeyrangeid")
	assert.Contains(t, []string{"2", "3"}, child)

	require.NoError(t, a.FailoverRange("shop", "orders", child, "North Europe"))
	assert.Equal(t, http.StatusOK, upsertAt(c, "North Europe", keys["1"]).status, "the child's own region")

	require.NoError(t, a.Failover("East US"))
	assert.Equal(t, http.StatusForbidden, upsertAt(c, "North Europe", keys["1"]).status, "an account failover moves every partition")
	assert.Equal(t, http.StatusOK, upsertAt(c, "East US", keys["1"]).status)
	assert.Equal(t, http.StatusOK, upsertAt(c, "East US", keys["0"]).status)
}

func TestFailoverRangeRefusals(t *testing.T) {
	a, _, _ := ppafOrders(t)
	assert.Error(t, a.FailoverRange("shop", "orders", "1", "Mars"), "no such region")
	assert.Error(t, a.FailoverRange("shop", "nope", "1", "East US"), "no such container")
	assert.Error(t, a.FailoverRange("shop", "orders", "7", "East US"), "no such range")

	plain := newTestAccount(t, Options{})
	createOrders(t, newClient(t, plain, false), "/pk")
	assert.ErrorIs(t, plain.FailoverRange("shop", "orders", "1", "East US"), errNoPerPartitionFailover)

	multi := newTestAccount(t, Options{PerPartitionFailover: true, MultipleWriteLocations: true})
	createOrders(t, newClient(t, multi, false), "/pk")
	assert.ErrorIs(t, multi.FailoverRange("shop", "orders", "1", "East US"), errMultiWriteRange)
}
