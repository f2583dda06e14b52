package cosmostest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocumentLifecycle(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	feed, item := a.Endpoint()+docsPath, a.Endpoint()+docsPath+"/1"
	upsert := []string{"x-ms-documentdb-is-upsert", "true"}

	steps := []struct {
		name         string
		method, url  string
		body         string
		hdr          []string
		want, commit int // status, and Commits of "1" afterwards
	}{
		{"read absent", "GET", item, "", nil, 404, 0},
		{"replace absent", "PUT", item, docBody("1"), nil, 404, 0},
		{"delete absent", "DELETE", item, "", nil, 404, 0},
		{"create", "POST", feed, docBody("1"), nil, 201, 1},
		{"create duplicate", "POST", feed, docBody("1"), nil, 409, 1},
		{"read", "GET", item, "", nil, 200, 1},
		{"replace", "PUT", item, `{"id":"1","n":2}`, nil, 200, 2},
		{"replace with other id", "PUT", item, docBody("2"), nil, 400, 2},
		{"replace if-match stale", "PUT", item, docBody("1"), []string{"If-Match", `"stale"`}, 412, 2},
		{"upsert existing", "POST", feed, `{"id":"1","n":3}`, upsert, 200, 3},
		{"delete", "DELETE", item, "", nil, 204, 4},
		{"read deleted", "GET", item, "", nil, 404, 4},
		{"upsert new", "POST", feed, docBody("1"), upsert, 201, 5},
	}
	for _, s := range steps {
		r := c.do(s.method, s.url, s.body, s.hdr...)
		require.NoError(t, r.err, s.name)
		assert.Equal(t, s.want, r.status, "%s: %s", s.name, r.body)
		assert.Equal(t, s.commit, a.Commits("db", "coll", "1"), s.name)
		assert.NotEmpty(t, r.header.Get("x-ms-activity-id"), s.name)
		assert.NotEmpty(t, r.header.Get("x-ms-session-token"), s.name)
		assert.NotEmpty(t, r.header.Get("x-ms-request-charge"), s.name)
		if s.want >= 400 {
			assert.NotEmpty(t, r.json(t)["code"], s.name)
		}
	}
	assert.Zero(t, a.Commits("db", "coll", "2"))
}

func TestWrittenDocumentCarriesSystemProperties(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	r := c.do("POST", a.Endpoint()+docsPath, `{"id":"1","big":12345678901234567890,"nested":{"x":[1,2]}}`)
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, "5.71", r.header.Get("x-ms-request-charge"))
	doc := r.json(t)
	for _, f := range []string{"_rid", "_ts", "_etag", "_self"} {
		assert.NotEmpty(t, doc[f], f)
	}
	assert.Equal(t, r.header.Get("Etag"), doc["_etag"])
	assert.Equal(t, "12345678901234567890", jsonNumber(t, r.body, "big"), "numbers are kept exactly")

	stored, ok := a.Document("db", "coll", "1")
	require.True(t, ok)
	assert.JSONEq(t, string(r.body), string(stored))
	_, ok = a.Document("db", "coll", "2")
	assert.False(t, ok)

	read := c.do("GET", a.RegionEndpoint("North Europe")+docsPath+"/1", "")
	assert.Equal(t, "1", read.header.Get("x-ms-request-charge"))
	assert.JSONEq(t, string(r.body), string(read.body), "every region reads the shared store")

	etag := doc["_etag"].(string)
	upd := c.do("PUT", a.Endpoint()+docsPath+"/1", docBody("1"), "If-Match", etag)
	require.Equal(t, http.StatusOK, upd.status)
	assert.NotEqual(t, etag, upd.header.Get("Etag"), "a write changes the etag")
	assert.NotEqual(t, r.header.Get("x-ms-session-token"), upd.header.Get("x-ms-session-token"))
	assert.NotEqual(t, r.header.Get("x-ms-activity-id"), upd.header.Get("x-ms-activity-id"))
}

func TestBadDocumentBodies(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for _, body := range []string{
		"", "{", "[]", "null", `"x"`, `{"n":1}`, `{"id":""}`, `{"id":7}`, `{"id":"a/b"}`,
		`{"id":"1"} {"id":"2"}`, `{"id":"` + strings.Repeat("x", 256) + `"}`,
	} {
		r := c.do("POST", a.Endpoint()+docsPath, body)
		assert.Equal(t, http.StatusBadRequest, r.status, "%q", body)
	}
	assert.Empty(t, listDocs(t, c, a.Endpoint()))
}

func TestBodyLimit(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	pad := func(n int) string { return `{"id":"1","p":"` + strings.Repeat("x", n-len(`{"id":"1","p":""}`)) + `"}` }
	assert.Equal(t, http.StatusRequestEntityTooLarge, c.do("POST", a.Endpoint()+docsPath, pad(MaxBodyBytes+1)).status)
	assert.Zero(t, a.Commits("db", "coll", "1"))
	assert.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, pad(MaxBodyBytes)).status)
}

// listDocs returns the ids a query and a read feed of db/coll return,
// after checking that both agree.
func listDocs(t *testing.T, c *client, endpoint string) []string {
	t.Helper()
	var ids []string
	for _, r := range []result{
		c.do("GET", endpoint+docsPath, ""),
		c.do("POST", endpoint+docsPath, `{"query":"SELECT * FROM c","parameters":[]}`,
			"x-ms-documentdb-isquery", "True", "Content-Type", "application/query+json"),
	} {
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		var feed struct {
			Documents []struct {
				ID string `json:"id"`
			}
			Count *int `json:"_count"`
		}
		require.NoError(t, json.Unmarshal(r.body, &feed))
		require.NotNil(t, feed.Count)
		require.Len(t, feed.Documents, *feed.Count)
		got := []string{}
		for _, d := range feed.Documents {
			got = append(got, d.ID)
		}
		if ids != nil {
			require.Equal(t, ids, got, "feed and query agree")
		}
		ids = got
	}
	return ids
}

func TestQueryAndFeedReturnTheCollection(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for _, id := range []string{"b", "a", "c"} {
		require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, docBody(id)).status)
	}
	other := strings.Replace(docsPath, "colls/coll", "colls/other", 1)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+other, docBody("z")).status)
	require.Equal(t, http.StatusNoContent, c.do("DELETE", a.Endpoint()+docsPath+"/a", "").status)

	assert.Equal(t, []string{"b", "c"}, listDocs(t, c, a.RegionEndpoint("East US")), "oldest write first, this collection only")
	assert.Zero(t, a.Commits("db", "coll", "z"))
	assert.Equal(t, 1, a.Commits("db", "other", "z"))
}
