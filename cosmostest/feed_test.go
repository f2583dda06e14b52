package cosmostest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// page is one page of a read feed or a query, as a client decodes it.
type page struct {
	ids          []string
	continuation string
}

func decodePage(t *testing.T, r result) page {
	t.Helper()
	require.NoError(t, r.err)
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
	assert.Equal(t, strconv.Itoa(*feed.Count), r.header.Get("x-ms-item-count"))
	p := page{ids: []string{}, continuation: r.header.Get("x-ms-continuation")}
	for _, d := range feed.Documents {
		p.ids = append(p.ids, d.ID)
	}
	return p
}

// pages sends the request that send makes for each continuation token
// ("" first) until the answer has none, and returns the pages.
func pages(t *testing.T, send func(continuation string) result) []page {
	t.Helper()
	var out []page
	for token := ""; ; {
		p := decodePage(t, send(token))
		out = append(out, p)
		if token = p.continuation; token == "" || len(out) > 100 {
			return out
		}
	}
}

func allIDs(ps []page) []string {
	ids := []string{}
	for _, p := range ps {
		ids = append(ids, p.ids...)
	}
	return ids
}

// listIDs returns the ids of a read feed at docsURL, every page.
func listIDs(t *testing.T, c *client, docsURL string, hdr ...string) []string {
	t.Helper()
	return allIDs(pages(t, func(token string) result {
		return c.do("GET", docsURL, "", append(slices.Clone(hdr), "x-ms-continuation", token)...)
	}))
}

// queryIDs returns the ids a query at docsURL serves, every page.
func queryIDs(t *testing.T, c *client, docsURL, query string, hdr ...string) []string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	return allIDs(pages(t, func(token string) result {
		return c.do("POST", docsURL, string(body), append(slices.Clone(hdr),
			"x-ms-documentdb-isquery", "true", "Content-Type", "application/query+json",
			"x-ms-documentdb-query-enablecrosspartition", "true", "x-ms-continuation", token)...)
	}))
}

func TestFeedAndQueryPageWithContinuations(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	for i := range 7 {
		require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, docBody(strconv.Itoa(i))).status)
	}
	want := []string{"0", "1", "2", "3", "4", "5", "6"}
	sizes := func(ps []page) (n []int) {
		for _, p := range ps {
			n = append(n, len(p.ids))
		}
		return n
	}

	feed := pages(t, func(token string) result {
		return c.do("GET", a.Endpoint()+docsPath, "", "x-ms-max-item-count", "3", "x-ms-continuation", token)
	})
	assert.Equal(t, []int{3, 3, 1}, sizes(feed))
	assert.Equal(t, want, allIDs(feed))
	query := pages(t, func(token string) result {
		return c.do("POST", a.RegionEndpoint("East US")+docsPath, `{"query":"SELECT * FROM c"}`,
			"x-ms-documentdb-isquery", "true", "x-ms-max-item-count", "2", "x-ms-continuation", token)
	})
	assert.Equal(t, []int{2, 2, 2, 1}, sizes(query))
	assert.Equal(t, want, allIDs(query))
	assert.Equal(t, []int{7}, sizes(pages(t, func(token string) result {
		return c.do("GET", a.Endpoint()+docsPath, "", "x-ms-max-item-count", "-1")
	})), "no limit")

	// A document rewritten between pages moves to the end; the others are
	// served exactly once.
	first := decodePage(t, c.do("GET", a.Endpoint()+docsPath, "", "x-ms-max-item-count", "3"))
	require.Equal(t, http.StatusOK, c.do("PUT", a.Endpoint()+docsPath+"/0", docBody("0")).status)
	require.Equal(t, http.StatusOK, c.do("PUT", a.Endpoint()+docsPath+"/5", docBody("5")).status)
	rest := pages(t, func(token string) result {
		return c.do("GET", a.Endpoint()+docsPath, "", "x-ms-max-item-count", "3",
			"x-ms-continuation", cmpOr(token, first.continuation))
	})
	assert.Equal(t, []string{"3", "4", "6", "0", "5"}, allIDs(rest))

	for _, bad := range []string{"garbage", continuationPrefix + "x", "-1"} {
		r := c.do("GET", a.Endpoint()+docsPath, "", "x-ms-continuation", bad)
		assert.Equal(t, http.StatusBadRequest, r.status, bad)
	}
	assert.Equal(t, http.StatusBadRequest, c.do("GET", a.Endpoint()+docsPath, "", "x-ms-max-item-count", "many").status)
	assert.Equal(t, http.StatusBadRequest, c.do("GET", a.Endpoint()+docsPath, "", "A-IM", "Incremental Feed").status,
		"no change feed")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestQueryScopeInAContainer(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	docs := a.Endpoint() + ordersDocs
	for i, pk := range []string{"a", "b", "a", "c", "a"} {
		body := `{"id":"` + strconv.Itoa(i) + `","pk":"` + pk + `"}`
		require.Equal(t, http.StatusCreated, c.do("POST", docs, body, pkHeader(strconv.Quote(pk))...).status)
	}

	assert.Equal(t, []string{"0", "2", "4"}, queryIDs(t, c, docs, "SELECT * FROM c", pkHeader(`"a"`)...), "one partition")
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, queryIDs(t, c, docs, "SELECT * FROM c"), "cross-partition")
	assert.Equal(t, []string{"1"}, listIDs(t, c, docs, pkHeader(`"b"`)...), "a read feed in one partition")
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, listIDs(t, c, docs))

	r := c.do("POST", docs, `{"query":"SELECT * FROM c"}`, "x-ms-documentdb-isquery", "true")
	assert.Equal(t, http.StatusBadRequest, r.status, "cross-partition needs the client's consent")
	assert.Contains(t, string(r.body), "x-ms-documentdb-query-enablecrosspartition")
	paged := pages(t, func(token string) result {
		return c.do("POST", docs, `{"query":"SELECT * FROM c WHERE c.pk = 'a'"}`, "x-ms-documentdb-isquery", "true",
			"x-ms-documentdb-query-enablecrosspartition", "true", "x-ms-max-item-count", "2", "x-ms-continuation", token)
	})
	require.Len(t, paged, 2)
	assert.Equal(t, []string{"0", "2", "4"}, allIDs(paged))
}
