package cosmostest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rangeHeader is the response header that names a partition key range.
const rangeHeader = "x-ms-documentdb-partitionkeyrangeid"

// readKey reads item k (whose partition key is k too) of shop/orders at
// endpoint ep.
func readKey(c *client, ep, k string) result {
	c.t.Helper()
	return c.do("GET", ep+ordersDocs+"/"+k, "", pkHeader(`"`+k+`"`)...)
}

// query sends a query of every document to docsURL with headers hdr.
func query(c *client, docsURL string, hdr ...string) result {
	c.t.Helper()
	return c.do("POST", docsURL, `{"query":"SELECT * FROM c"}`,
		append([]string{"x-ms-documentdb-isquery", "true", "Content-Type", "application/query+json"}, hdr...)...)
}

func TestFaultScopedToARange(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 20)
	require.Len(t, keys, 2)
	west, east := a.RegionEndpoint("West US 2"), a.RegionEndpoint("East US")
	a.Inject("West US 2", Fault{Status: http.StatusInternalServerError, Range: "1"})
	a.ResetLog()

	for _, k := range keys["1"] {
		r := readKey(c, west, k)
		assert.Equal(t, http.StatusInternalServerError, r.status, k)
		assert.Equal(t, "1", r.header.Get(rangeHeader), "the faulted answer names the range")
		assert.Equal(t, http.StatusOK, readKey(c, east, k).status, "another region: %s", k)
	}
	for _, k := range keys["0"] {
		r := readKey(c, west, k)
		assert.Equal(t, http.StatusOK, r.status, k)
		assert.Equal(t, "0", r.header.Get(rangeHeader))
	}
	k1 := keys["1"][0]
	up := c.do("POST", west+ordersDocs, `{"id":"`+k1+`","pk":"`+k1+`","n":2}`,
		append(pkHeader(`"`+k1+`"`), "x-ms-documentdb-is-upsert", "true")...)
	assert.Equal(t, http.StatusInternalServerError, up.status, "writes too (Ops)")
	assert.Equal(t, 1, a.Commits("shop", "orders", k1), "the faulted write is not committed")

	assert.Equal(t, http.StatusInternalServerError, query(c, west+ordersDocs, rangeHeader, "1").status, "a query naming the range")
	assert.Equal(t, http.StatusOK, query(c, west+ordersDocs, rangeHeader, "0").status)
	cross := query(c, west+ordersDocs, "x-ms-documentdb-query-enablecrosspartition", "true")
	assert.Equal(t, http.StatusOK, cross.status, "a cross-partition query reaches no one range")
	assert.Empty(t, cross.header.Get(rangeHeader))
	assert.Equal(t, http.StatusOK, c.do("GET", west+ordersDocs, "").status, "nor does a read feed")
	assert.Equal(t, http.StatusOK, c.do("GET", west+ordersPath+"/pkranges", "").status, "nor the ranges' feed")

	k1b := keys["1"][1]
	created := c.do("POST", west+ordersDocs, `{"id":"new","pk":"`+k1b+`"}`)
	assert.Equal(t, http.StatusCreated, created.status, "a create without the header leaves the key to the document: no range to match")
	assert.Equal(t, "1", created.header.Get(rangeHeader), "but its answer names the range")

	plain := c.do("GET", west+docsPath+"/x", "", pkHeader(`"`+k1+`"`)...)
	assert.Equal(t, http.StatusNotFound, plain.status, "a collection without a partition key has no ranges")
	assert.Empty(t, plain.header.Get(rangeHeader))

	var faulted, ranged int
	for _, e := range a.Log() {
		if e.Status == http.StatusInternalServerError {
			faulted++
			assert.Equal(t, "1", e.Range)
			assert.Equal(t, "West US 2", e.Region)
		}
		if e.Range != "" {
			ranged++
		}
	}
	assert.Equal(t, len(keys["1"])+2, faulted)
	assert.Equal(t, 2*len(keys["1"])+len(keys["0"])+4, ranged, "every answer that names a range is logged with it")
}

func TestFaultScopedToAPartitionKey(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 20)
	k, other := keys["1"][0], keys["1"][1] // one range, two keys
	a.Inject(Global, Fault{Status: http.StatusServiceUnavailable, PartitionKey: `["` + k + `"]`})

	r := c.do("GET", a.Endpoint()+ordersDocs+"/"+k, "", "x-ms-documentdb-partitionkey", `[ "`+k+`" ]`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "values are compared, not spellings")
	assert.Equal(t, "1", r.header.Get(rangeHeader))
	assert.Equal(t, http.StatusOK, readKey(c, a.Endpoint(), other).status, "another key of the same range")
	assert.Equal(t, http.StatusServiceUnavailable, query(c, a.Endpoint()+ordersDocs, pkHeader(`"`+k+`"`)...).status)
	assert.Equal(t, http.StatusOK, query(c, a.Endpoint()+ordersDocs, rangeHeader, "1").status, "a query by range names no key")

	a.ClearFaults(Global)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+ordersDocs, `{"id":"n","pk":42}`, pkHeader(`42`)...).status)
	a.Inject(Global, Fault{Status: http.StatusServiceUnavailable, PartitionKey: `[42]`, Ops: ReadOps})
	assert.Equal(t, http.StatusServiceUnavailable, c.do("GET", a.Endpoint()+ordersDocs+"/n", "", pkHeader(`42.0`)...).status)
	assert.Equal(t, http.StatusOK, c.do("PUT", a.Endpoint()+ordersDocs+"/n", `{"id":"n","pk":42}`, pkHeader(`42`)...).status, "Ops")
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+ordersDocs+"/n", "", pkHeader(`"42"`)...).status, "a string is another key")
}

func TestFaultScopedToAContainer(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 20)
	require.Equal(t, http.StatusCreated,
		c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"returns","partitionKey":{"paths":["/pk"]}}`).status)
	k := keys["1"][0]
	a.Inject(Global, Fault{Status: http.StatusInternalServerError, Container: "shop/returns", Range: "1"})

	assert.Equal(t, http.StatusOK, readKey(c, a.Endpoint(), k).status, "range 1 of orders")
	returns := c.do("GET", a.Endpoint()+"dbs/shop/colls/returns/docs/"+k, "", pkHeader(`"`+k+`"`)...)
	assert.Equal(t, http.StatusInternalServerError, returns.status, "range 1 of returns")
	assert.Equal(t, "1", returns.header.Get(rangeHeader))

	a.ClearFaults(Global)
	a.Inject(Global, Fault{Status: http.StatusInternalServerError, Container: "shop/returns"})
	assert.Equal(t, http.StatusInternalServerError, c.do("GET", a.Endpoint()+"dbs/shop/colls/returns/pkranges", "").status)
	assert.Equal(t, http.StatusInternalServerError, c.do("GET", a.Endpoint()+"dbs/shop/colls/returns", "").status)
	assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint()+ordersPath+"/pkranges", "").status)
	assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint(), "").status)
}

func TestChaosScopedToARange(t *testing.T) {
	// outcomes returns whether each of n reads of range 1 was faulted,
	// with a read of range 0 between them when interleave is set.
	outcomes := func(interleave bool) []bool {
		a := newTestAccount(t, Options{})
		c := newClient(t, a, false)
		createOrders(t, c, "/pk")
		keys := spread(t, c, 20)
		a.Chaos(Global, Chaos{Seed: 3, Rate500: 0.5, Range: "1"})
		var out []bool
		for i := range 20 {
			if interleave {
				assert.Equal(t, http.StatusOK, readKey(c, a.Endpoint(), keys["0"][i%len(keys["0"])]).status, "range 0")
			}
			r := readKey(c, a.Endpoint(), keys["1"][i%len(keys["1"])])
			out = append(out, r.status == http.StatusInternalServerError)
			assert.Equal(t, "1", r.header.Get(rangeHeader))
		}
		assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint(), "").status)
		return out
	}
	alone := outcomes(false)
	assert.Contains(t, alone, true)
	assert.Contains(t, alone, false)
	assert.Equal(t, alone, outcomes(true), "requests out of scope draw no number")
}

func TestMalformedScopePanics(t *testing.T) {
	a := newTestAccount(t, Options{})
	for _, tt := range []struct {
		f    func()
		want string
	}{
		{func() { a.Inject(Global, Fault{Container: "orders"}) }, `cosmostest: Fault.Container "orders" is not of the form db/coll`},
		{func() { a.Inject(Global, Fault{Container: "shop/orders/docs"}) }, `cosmostest: Fault.Container "shop/orders/docs"`},
		{func() { a.Inject(Global, Fault{PartitionKey: "eu"}) }, `cosmostest: Fault.PartitionKey "eu" is not a JSON array`},
		{func() { a.Inject(Global, Fault{PartitionKey: "[]"}) }, `cosmostest: Fault.PartitionKey "[]"`},
		{func() { a.Chaos(Global, Chaos{PartitionKey: `["a","b"]`}) }, `cosmostest: Chaos.PartitionKey "[\"a\",\"b\"]"`},
	} {
		assert.Contains(t, panicMessage(tt.f), tt.want)
	}
	assert.Equal(t, "<nil>", panicMessage(func() { a.Inject(Global, Fault{Container: "shop/orders", Range: "7", PartitionKey: `[null]`}) }))
}
