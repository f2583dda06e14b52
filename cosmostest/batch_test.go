package cosmostest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// batchHeaders are the headers azcosmos sends with a transactional batch.
var batchHeaders = []string{
	"x-ms-cosmos-is-batch-request", "True", "x-ms-cosmos-batch-atomic", "True", "x-ms-cosmos-batch-ordered", "True",
}

// batchAnswer decodes a batch answer as azcosmos does.
type batchAnswer []struct {
	StatusCode    int             `json:"statusCode"`
	RequestCharge float64         `json:"requestCharge"`
	ETag          string          `json:"eTag"`
	ResourceBody  json.RawMessage `json:"resourceBody"`
}

func (c *client) batch(t *testing.T, url, pk, ops string) (result, batchAnswer) {
	t.Helper()
	r := c.do("POST", url, ops, append(slices.Clone(batchHeaders), pkHeader(pk)...)...)
	require.NoError(t, r.err)
	var ans batchAnswer
	if r.status == http.StatusOK || r.status == http.StatusMultiStatus {
		require.NoError(t, json.Unmarshal(r.body, &ans), "%s", r.body)
	}
	return r, ans
}

func TestBatchCommitsEveryOperation(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	docs := a.Endpoint() + ordersDocs
	require.Equal(t, http.StatusCreated, c.do("POST", docs, `{"id":"old","pk":"a","n":1}`, pkHeader(`"a"`)...).status)
	require.Equal(t, http.StatusCreated, c.do("POST", docs, `{"id":"gone","pk":"a"}`, pkHeader(`"a"`)...).status)

	r, ans := c.batch(t, docs, `"a"`, `[
		{"operationType":"Create","resourceBody":{"id":"new","pk":"a","_trackingId":"t-9"}},
		{"operationType":"Read","id":"old"},
		{"operationType":"Replace","id":"old","resourceBody":{"id":"old","pk":"a","n":2}},
		{"operationType":"Upsert","resourceBody":{"id":"up","pk":"a"}},
		{"operationType":"Patch","id":"new","resourceBody":{"operations":[{"op":"set","path":"/n","value":7}]}},
		{"operationType":"Delete","id":"gone"},
		{"operationType":"Read","id":"new"}
	]`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var statuses []int
	for _, o := range ans {
		statuses = append(statuses, o.StatusCode)
		assert.Positive(t, o.RequestCharge)
	}
	assert.Equal(t, []int{201, 200, 200, 201, 200, 204, 200}, statuses)
	assert.Contains(t, string(ans[1].ResourceBody), `"n":1`, "a read sees the item as it was")
	assert.Contains(t, string(ans[6].ResourceBody), `"n":7`, "and later operations see earlier ones")
	assert.Contains(t, string(ans[6].ResourceBody), `"_trackingId":"t-9"`)
	assert.Equal(t, ans[4].ETag, ans[6].ETag)
	assert.Empty(t, ans[5].ResourceBody)
	assert.NotEmpty(t, r.header.Get("x-ms-documentdb-partitionkeyrangeid"))
	assert.Equal(t, "30.55", r.header.Get("x-ms-request-charge"), "the operations' charges added up")

	assert.Equal(t, 2, a.Commits("shop", "orders", "new"), "create and patch")
	assert.Equal(t, 2, a.Commits("shop", "orders", "old"), "create and replace")
	_, ok := a.DocumentInPartition("shop", "orders", "a", "gone")
	assert.False(t, ok)
	stored, ok := a.DocumentInPartition("shop", "orders", "a", "new")
	require.True(t, ok)
	assert.JSONEq(t, string(ans[6].ResourceBody), string(stored))
	assert.True(t, a.Log()[len(a.Log())-1].Committed)
}

func TestBatchIsAllOrNothing(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	docs := a.Endpoint() + ordersDocs
	require.Equal(t, http.StatusCreated, c.do("POST", docs, `{"id":"1","pk":"a","n":1}`, pkHeader(`"a"`)...).status)

	for _, tt := range []struct {
		name, ops string
		want      []int
	}{
		{"duplicate create", `[{"operationType":"Create","resourceBody":{"id":"2","pk":"a"}},
			{"operationType":"Replace","id":"1","resourceBody":{"id":"1","pk":"a","n":2}},
			{"operationType":"Create","resourceBody":{"id":"1","pk":"a"}},
			{"operationType":"Delete","id":"1"}]`, []int{424, 424, 409, 424}},
		{"absent item", `[{"operationType":"Delete","id":"1"},{"operationType":"Read","id":"1"}]`, []int{424, 404}},
		{"another partition", `[{"operationType":"Upsert","resourceBody":{"id":"2","pk":"a"}},
			{"operationType":"Create","resourceBody":{"id":"3","pk":"b"}}]`, []int{424, 400}},
		{"stale if-match", `[{"operationType":"Upsert","resourceBody":{"id":"2","pk":"a"}},
			{"operationType":"Replace","id":"1","ifMatch":"\"stale\"","resourceBody":{"id":"1","pk":"a"}}]`, []int{424, 412}},
		{"bad patch", `[{"operationType":"Patch","id":"1","resourceBody":{"operations":[{"op":"remove","path":"/nope"}]}}]`, []int{400}},
	} {
		r, ans := c.batch(t, docs, `"a"`, tt.ops)
		require.Equal(t, http.StatusMultiStatus, r.status, "%s: %s", tt.name, r.body)
		var statuses []int
		for _, o := range ans {
			statuses = append(statuses, o.StatusCode)
		}
		assert.Equal(t, tt.want, statuses, tt.name)
		assert.False(t, a.Log()[len(a.Log())-1].Committed, tt.name)
	}
	assert.Equal(t, 1, a.Commits("shop", "orders", "1"), "only the create before the batches")
	assert.Zero(t, a.Commits("shop", "orders", "2"))
	doc, ok := a.DocumentInPartition("shop", "orders", "a", "1")
	require.True(t, ok)
	assert.Contains(t, string(doc), `"n":1`)
}

func TestMalformedBatches(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	docs := a.Endpoint() + ordersDocs
	many := "[" + strings.Repeat(`{"operationType":"Read","id":"1"},`, 100) + `{"operationType":"Read","id":"1"}]`
	for name, ops := range map[string]string{
		"not an array":       `{"operationType":"Read","id":"1"}`,
		"empty":              `[]`,
		"101 operations":     many,
		"unknown operation":  `[{"operationType":"Merge","id":"1"}]`,
		"no id":              `[{"operationType":"Delete"}]`,
		"no body":            `[{"operationType":"Create"}]`,
		"body not an object": `[{"operationType":"Create","resourceBody":[1]}]`,
	} {
		r, _ := c.batch(t, docs, `"a"`, ops)
		if name == "body not an object" {
			assert.Equal(t, http.StatusMultiStatus, r.status, "%s: a bad item fails its operation", name)
			continue
		}
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", name, r.body)
	}
	r := c.do("POST", docs, `[{"operationType":"Read","id":"1"}]`, "x-ms-cosmos-is-batch-request", "true")
	assert.Equal(t, http.StatusBadRequest, r.status, "a container's batch needs a partition key")
	r = c.do("POST", docs, `[{"operationType":"Read","id":"1"}]`, append(pkHeader(`"a"`), "x-ms-cosmos-is-batch-request", "true")...)
	assert.Equal(t, http.StatusBadRequest, r.status, "only atomic batches")

	refused, _ := c.batch(t, a.RegionEndpoint("East US")+ordersDocs, `"a"`, `[{"operationType":"Read","id":"1"}]`)
	assert.Equal(t, http.StatusForbidden, refused.status, "a batch is a write")
}

func TestBatchInACollectionNeverCreated(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	r := c.do("POST", a.Endpoint()+docsPath, `[{"operationType":"Create","resourceBody":{"id":"1"}},
		{"operationType":"Create","resourceBody":{"id":"2"}}]`, batchHeaders...)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Empty(t, r.header.Get("x-ms-documentdb-partitionkeyrangeid"))
	assert.Equal(t, []string{"1", "2"}, listIDs(t, c, a.Endpoint()+docsPath))
}
