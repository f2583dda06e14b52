package cosmostest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionKeyValuesOfEveryType(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/address/zip")
	docs := a.Endpoint() + ordersDocs

	for i, tt := range []struct {
		doc    string // the address property, or "" for none
		header string // the partition key header's value
		pk     any    // as DocumentInPartition takes it
	}{
		{`{"zip":"98052"}`, `"98052"`, "98052"},
		{`{"zip":7}`, `7.0`, 7},
		{`{"zip":true}`, `true`, true},
		{`{"zip":null}`, `null`, nil},
		{``, `{}`, nil},
	} {
		id := strconv.Itoa(i)
		body := `{"id":"` + id + `"}`
		if tt.doc != "" {
			body = `{"id":"` + id + `","address":` + tt.doc + `}`
		}
		require.Equal(t, http.StatusCreated, c.do("POST", docs, body, pkHeader(tt.header)...).status, body)
		assert.Equal(t, http.StatusOK, c.do("GET", docs+"/"+id, "", pkHeader(tt.header)...).status, body)
		if tt.doc != "" {
			_, ok := a.DocumentInPartition("shop", "orders", tt.pk, id)
			assert.True(t, ok, body)
		}
	}
	bad := c.do("POST", docs, `{"id":"x","address":{"zip":[1]}}`)
	assert.Equal(t, http.StatusBadRequest, bad.status, "an array is no partition key value")
}

func TestPartitionKeyRanges(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")

	r := c.do("GET", a.Endpoint()+ordersPath+"/pkranges", "", "A-IM", "Incremental Feed", "x-ms-max-item-count", "-1")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var feed struct {
		RID    string `json:"_rid"`
		Ranges []struct {
			ID, MinInclusive, MaxExclusive string
		} `json:"PartitionKeyRanges"`
		Count int `json:"_count"`
	}
	require.NoError(t, json.Unmarshal(r.body, &feed))
	assert.NotEmpty(t, feed.RID)
	require.Len(t, feed.Ranges, 2)
	assert.Equal(t, 2, feed.Count)
	assert.Equal(t, "", feed.Ranges[0].MinInclusive, "the ranges cover the whole space")
	assert.Equal(t, feed.Ranges[0].MaxExclusive, feed.Ranges[1].MinInclusive)
	assert.Equal(t, "FF", feed.Ranges[1].MaxExclusive)
	etag := r.header.Get("Etag")
	require.NotEmpty(t, etag)
	again := c.do("GET", a.Endpoint()+ordersPath+"/pkranges", "", "A-IM", "Incremental Feed", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, again.status, "nothing changed since")

	// Items spread over both ranges, and each answer names the item's.
	inRange := map[string][]string{}
	for i := range 20 {
		id := strconv.Itoa(i)
		w := c.do("POST", a.Endpoint()+ordersDocs, `{"id":"`+id+`","pk":"p`+id+`"}`, pkHeader(`"p`+id+`"`)...)
		require.Equal(t, http.StatusCreated, w.status)
		rng := w.header.Get("x-ms-documentdb-partitionkeyrangeid")
		inRange[rng] = append(inRange[rng], id)
		read := c.do("GET", a.Endpoint()+ordersDocs+"/"+id, "", pkHeader(`"p`+id+`"`)...)
		assert.Equal(t, rng, read.header.Get("x-ms-documentdb-partitionkeyrangeid"))
	}
	require.Len(t, inRange, 2)
	for rng, ids := range inRange {
		assert.Equal(t, ids, queryIDs(t, c, a.Endpoint()+ordersDocs, "SELECT * FROM c", "x-ms-documentdb-partitionkeyrangeid", rng),
			"a query in range %s serves its items only", rng)
	}
	gone := c.do("POST", a.Endpoint()+ordersDocs, `{"query":"SELECT * FROM c"}`,
		"x-ms-documentdb-isquery", "true", "x-ms-documentdb-partitionkeyrangeid", "7")
	assert.Equal(t, http.StatusGone, gone.status)
	assert.Equal(t, "1002", gone.sub)
}
