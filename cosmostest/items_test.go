package cosmostest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestItemsAreNamedByIDAndPartitionKey(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	docs, item := a.Endpoint()+ordersDocs, a.Endpoint()+ordersDocs+"/1"

	require.Equal(t, http.StatusCreated, c.do("POST", docs, `{"id":"1","pk":"a","n":1}`, pkHeader(`"a"`)...).status)
	require.Equal(t, http.StatusCreated, c.do("POST", docs, `{"id":"1","pk":"b","n":2}`, pkHeader(`"b"`)...).status,
		"the same id in another partition is another item")
	assert.Equal(t, http.StatusConflict, c.do("POST", docs, `{"id":"1","pk":"a"}`, pkHeader(`"a"`)...).status)

	for pk, n := range map[string]float64{"a": 1, "b": 2} {
		r := c.do("GET", item, "", pkHeader(strconv.Quote(pk))...)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, n, r.json(t)["n"])
	}
	for _, tt := range []struct {
		name, method, body string
		hdr                []string
		want               int
	}{
		{"read, other value", "GET", "", pkHeader(`"c"`), 404},
		{"replace, other value", "PUT", `{"id":"1","pk":"c"}`, pkHeader(`"c"`), 404},
		{"patch, other value", "PATCH", `{"operations":[{"op":"set","path":"/x","value":1}]}`, pkHeader(`"c"`), 404},
		{"delete, other value", "DELETE", "", pkHeader(`"c"`), 404},
		{"read, no header", "GET", "", nil, 400},
		{"delete, no header", "DELETE", "", nil, 400},
		{"replace moving the item", "PUT", `{"id":"1","pk":"b"}`, pkHeader(`"a"`), 400},
		{"malformed header", "GET", "", []string{"x-ms-documentdb-partitionkey", `"a"`}, 400},
		{"two components", "GET", "", pkHeader(`"a","b"`), 400},
		{"object value", "GET", "", pkHeader(`{"x":1}`), 400},
	} {
		r := c.do(tt.method, item, tt.body, tt.hdr...)
		assert.Equal(t, tt.want, r.status, "%s: %s", tt.name, r.body)
	}
	mismatch := c.do("POST", docs, `{"id":"2","pk":"a"}`, pkHeader(`"b"`)...)
	assert.Equal(t, http.StatusBadRequest, mismatch.status)
	assert.Equal(t, "1001", mismatch.sub)
	assert.Equal(t, http.StatusCreated, c.do("POST", docs, `{"id":"2","pk":"a"}`).status, "without the header, the document decides")
	assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint()+ordersDocs+"/2", "", pkHeader(`"a"`)...).status)

	deleted := c.do("DELETE", item, "", pkHeader(`"a"`)...)
	require.Equal(t, http.StatusNoContent, deleted.status)
	rs := newRangeSet()
	assert.Equal(t, rs.holding(effectivePartitionKey("a")).id, deleted.header.Get("x-ms-documentdb-partitionkeyrangeid"))
	assert.Equal(t, http.StatusNotFound, c.do("GET", item, "", pkHeader(`"a"`)...).status)
	assert.Equal(t, http.StatusOK, c.do("GET", item, "", pkHeader(`"b"`)...).status, "the other item stays")

	assert.Equal(t, 3, a.Commits("shop", "orders", "1"), "every partition")
	assert.Equal(t, 2, a.CommitsInPartition("shop", "orders", "a", "1"))
	assert.Equal(t, 1, a.CommitsInPartition("shop", "orders", "b", "1"))
	assert.Zero(t, a.CommitsInPartition("shop", "orders", "c", "1"))
	doc, ok := a.Document("shop", "orders", "1")
	require.True(t, ok)
	assert.Contains(t, string(doc), `"pk":"b"`)
	_, ok = a.DocumentInPartition("shop", "orders", "a", "1")
	assert.False(t, ok)
	doc, ok = a.DocumentInPartition("shop", "orders", "b", "1")
	require.True(t, ok)
	assert.Contains(t, string(doc), `"n":2`)
}

// Properties the account does not own, such as a client's _trackingId,
// come back exactly as written, through every kind of write and read.
func TestArbitraryPropertiesAreKept(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	const props = `"_trackingId":"3f2c-<&>-é","big":12345678901234567890,"tiny":1e-300,"deep":{"a":[{"b":null},true,"\u2028"]}`
	body := func(id string) string { return `{"id":"` + id + `",` + props + `}` }
	kept := func(name string, doc []byte) {
		t.Helper()
		for _, p := range []string{"_trackingId", "big", "tiny", "deep"} {
			var want, got map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(body("x")), &want))
			require.NoError(t, json.Unmarshal(doc, &got), "%s: %s", name, doc)
			assert.JSONEq(t, string(want[p]), string(got[p]), "%s: %s", name, p)
		}
		assert.Equal(t, "12345678901234567890", jsonNumber(t, doc, "big"), "%s: exactly", name)
	}

	r := c.do("POST", a.Endpoint()+docsPath, body("1"))
	require.Equal(t, http.StatusCreated, r.status)
	kept("create", r.body)
	r = c.do("PUT", a.Endpoint()+docsPath+"/1", body("1"))
	kept("replace", r.body)
	r = c.do("POST", a.Endpoint()+docsPath, body("2"), "x-ms-documentdb-is-upsert", "true")
	kept("upsert", r.body)
	r = c.do("PATCH", a.Endpoint()+docsPath+"/2", `{"operations":[{"op":"set","path":"/other","value":1}]}`)
	kept("patch", r.body)
	r = c.do("POST", a.Endpoint()+docsPath, `[{"operationType":"Create","resourceBody":`+body("3")+`}]`, batchHeaders...)
	require.Equal(t, http.StatusOK, r.status)
	var ans batchAnswer
	require.NoError(t, json.Unmarshal(r.body, &ans))
	kept("batch", ans[0].ResourceBody)
	kept("read", c.do("GET", a.Endpoint()+docsPath+"/3", "").body)
	stored, _ := a.Document("db", "coll", "2")
	kept("Document", stored)
	assert.Contains(t, string(stored), "<&>", "no HTML escaping")

	q := c.do("POST", a.Endpoint()+docsPath, `{"query":"SELECT * FROM c WHERE c._trackingId = '3f2c-<&>-é'"}`, "x-ms-documentdb-isquery", "true")
	var feed struct{ Documents []json.RawMessage }
	require.NoError(t, json.Unmarshal(q.body, &feed))
	require.Len(t, feed.Documents, 3)
	for _, d := range feed.Documents {
		kept("query", d)
	}

	// System properties are the account's: a client's values are replaced.
	r = c.do("POST", a.Endpoint()+docsPath, `{"id":"4","_etag":"mine","_ts":1,"_rid":"mine"}`)
	doc := r.json(t)
	assert.Equal(t, r.header.Get("Etag"), doc["_etag"])
	assert.NotEqual(t, "mine", doc["_rid"])
	assert.NotEqual(t, float64(1), doc["_ts"])
}
