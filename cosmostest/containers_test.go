package cosmostest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The container the partition tests use: shop/orders, partitioned on /pk.
const (
	ordersPath = "dbs/shop/colls/orders"
	ordersDocs = ordersPath + "/docs"
)

// createOrders creates database shop and container orders, partitioned
// on path, at the wire.
func createOrders(t *testing.T, c *client, path string) {
	t.Helper()
	r := c.do("POST", c.a.Endpoint()+"dbs", `{"id":"shop"}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	r = c.do("POST", c.a.Endpoint()+"dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["`+path+`"],"kind":"Hash"}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
}

// pkHeader returns the header pair that names partition key value v, a
// JSON value.
func pkHeader(v string) []string { return []string{"x-ms-documentdb-partitionkey", "[" + v + "]"} }

func TestDatabaseLifecycle(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	dbs, shop := a.Endpoint()+"dbs", a.Endpoint()+"dbs/shop"

	r := c.do("POST", dbs, `{"id":"shop","x":1}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	created := r.json(t)
	assert.Equal(t, "shop", created["id"])
	assert.EqualValues(t, 1, created["x"], "other properties are kept")
	for _, f := range []string{"_rid", "_self", "_etag", "_ts"} {
		assert.NotEmpty(t, created[f], f)
	}
	assert.Equal(t, created["_etag"], r.header.Get("Etag"))

	assert.Equal(t, http.StatusConflict, c.do("POST", dbs, `{"id":"shop"}`).status)
	read := c.do("GET", a.RegionEndpoint("North Europe")+"dbs/shop", "")
	require.Equal(t, http.StatusOK, read.status)
	assert.JSONEq(t, string(r.body), string(read.body))
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+"dbs/other", "").status)
	for _, bad := range []string{"", "[]", `{"id":""}`, `{"id":"a/b"}`} {
		assert.Equal(t, http.StatusBadRequest, c.do("POST", dbs, bad).status, bad)
	}

	refused := c.do("POST", a.RegionEndpoint("East US")+"dbs", `{"id":"other"}`)
	assert.Equal(t, http.StatusForbidden, refused.status, "creating a database is a write")
	assert.Equal(t, "3", refused.sub)
	assert.Equal(t, http.StatusNoContent, c.do("DELETE", shop, "").status)
	assert.Equal(t, http.StatusNotFound, c.do("GET", shop, "").status)
	assert.Equal(t, http.StatusNotFound, c.do("DELETE", shop, "").status)
	assert.Equal(t, http.StatusCreated, c.do("POST", dbs, `{"id":"shop"}`).status, "a deleted database can be created again")
}

func TestContainerLifecycle(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	colls := a.Endpoint() + "dbs/shop/colls"
	body := `{"id":"orders","partitionKey":{"paths":["/pk"],"kind":"Hash"},"defaultTtl":-1}`

	assert.Equal(t, http.StatusNotFound, c.do("POST", colls, body).status, "the database must exist")
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`).status)
	r := c.do("POST", colls, body)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	created := r.json(t)
	assert.Equal(t, map[string]any{"paths": []any{"/pk"}, "kind": "Hash", "version": float64(2)}, created["partitionKey"])
	assert.EqualValues(t, -1, created["defaultTtl"])
	assert.NotEmpty(t, created["_rid"])
	assert.Equal(t, http.StatusConflict, c.do("POST", colls, body).status)

	read := c.do("GET", a.RegionEndpoint("East US")+ordersPath, "")
	require.Equal(t, http.StatusOK, read.status)
	assert.JSONEq(t, string(r.body), string(read.body))
	assert.Equal(t, r.header.Get("Etag"), read.header.Get("Etag"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+"dbs/shop/colls/other", "").status)

	for name, def := range map[string]string{
		"no partition key": `{"id":"x"}`,
		"two paths":        `{"id":"x","partitionKey":{"paths":["/a","/b"],"kind":"MultiHash"}}`,
		"multi hash":       `{"id":"x","partitionKey":{"paths":["/a"],"kind":"MultiHash"}}`,
		"version 1":        `{"id":"x","partitionKey":{"paths":["/a"],"kind":"Hash","version":1}}`,
		"relative path":    `{"id":"x","partitionKey":{"paths":["a"]}}`,
		"root path":        `{"id":"x","partitionKey":{"paths":["/"]}}`,
		"empty step":       `{"id":"x","partitionKey":{"paths":["/a//b"]}}`,
	} {
		assert.Equal(t, http.StatusBadRequest, c.do("POST", colls, def).status, name)
	}

	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+ordersDocs, `{"id":"1","pk":"a"}`, pkHeader(`"a"`)...).status)
	assert.Equal(t, http.StatusNoContent, c.do("DELETE", a.Endpoint()+ordersPath, "").status)
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+ordersPath, "").status)
	gone := c.do("GET", a.Endpoint()+ordersDocs+"/1", "", pkHeader(`"a"`)...)
	assert.Equal(t, http.StatusNotFound, gone.status)
	assert.Equal(t, "1003", gone.sub, "the container is gone")
	assert.Equal(t, http.StatusNotFound, c.do("POST", a.Endpoint()+ordersDocs, `{"id":"2","pk":"a"}`, pkHeader(`"a"`)...).status)
	assert.Equal(t, 1, a.Commits("shop", "orders", "1"), "deleting the container does not reset Commits")

	again := c.do("POST", colls, body)
	require.Equal(t, http.StatusCreated, again.status)
	assert.NotEqual(t, created["_rid"], again.json(t)["_rid"], "a new container")
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+ordersDocs+"/1", "", pkHeader(`"a"`)...).status)
	assert.Empty(t, listIDs(t, c, a.Endpoint()+ordersDocs))
}

func TestNeverCreatedCollectionsHaveNoPartitionKey(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	misc := a.Endpoint() + "dbs/shop/colls/misc"

	require.Equal(t, http.StatusCreated, c.do("POST", misc+"/docs", `{"id":"1","pk":"a"}`, pkHeader(`"a"`)...).status)
	read := c.do("GET", misc+"/docs/1", "", pkHeader(`"b"`)...)
	assert.Equal(t, http.StatusOK, read.status, "the header is ignored: the id alone names the item")
	assert.Empty(t, read.header.Get("x-ms-documentdb-partitionkeyrangeid"))
	assert.Equal(t, http.StatusConflict, c.do("POST", misc+"/docs", `{"id":"1","pk":"b"}`, pkHeader(`"b"`)...).status)
	assert.Equal(t, http.StatusOK, c.do("GET", misc+"/docs/1", "").status)
	assert.Equal(t, http.StatusNotFound, c.do("GET", misc, "").status, "never created")
	assert.Equal(t, http.StatusNotFound, c.do("GET", misc+"/pkranges", "").status)

	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`).status)
	r := c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"misc","partitionKey":{"paths":["/pk"]}}`)
	assert.Equal(t, http.StatusConflict, r.status, "it already holds documents")
	assert.Contains(t, string(r.body), "before it was created")

	// Deleting the database deletes what was written under it.
	require.Equal(t, http.StatusNoContent, c.do("DELETE", a.Endpoint()+"dbs/shop", "").status)
	gone := c.do("GET", misc+"/docs/1", "")
	assert.Equal(t, http.StatusNotFound, gone.status)
	assert.Equal(t, "1003", gone.sub)
	_, ok := a.Document("shop", "misc", "1")
	assert.False(t, ok)
	assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint()+"dbs/other/colls/misc/docs", "").status, "other databases are untouched")

	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`).status)
	assert.Equal(t, http.StatusCreated, c.do("POST", misc+"/docs", `{"id":"1"}`).status, "implicit again once the database exists")
}
