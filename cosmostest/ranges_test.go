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

// spread creates n items in shop/orders, each with partition key value
// equal to its id ("p0", "p1", ...), and returns their keys by the range
// the answers named.
func spread(t *testing.T, c *client, n int) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	for i := range n {
		k := "p" + strconv.Itoa(i)
		r := c.do("POST", c.a.Endpoint()+ordersDocs, `{"id":"`+k+`","pk":"`+k+`"}`, pkHeader(`"`+k+`"`)...)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		rng := r.header.Get(rangeHeader)
		require.NotEmpty(t, rng)
		keys[rng] = append(keys[rng], k)
	}
	return keys
}

// rangesFeed is the pkranges feed as a client decodes it.
type rangesFeed struct {
	Ranges []struct {
		ID           string   `json:"id"`
		MinInclusive string   `json:"minInclusive"`
		MaxExclusive string   `json:"maxExclusive"`
		Parents      []string `json:"parents"`
		Fraction     float64  `json:"throughputFraction"`
	} `json:"PartitionKeyRanges"`
	Count int `json:"_count"`
	etag  string
}

func readRanges(t *testing.T, c *client, hdr ...string) (rangesFeed, result) {
	t.Helper()
	r := c.do("GET", c.a.Endpoint()+ordersPath+"/pkranges", "", hdr...)
	require.NoError(t, r.err)
	var f rangesFeed
	if r.status == http.StatusOK {
		require.NoError(t, json.Unmarshal(r.body, &f))
		require.Len(t, f.Ranges, f.Count)
	}
	f.etag = r.header.Get("Etag")
	return f, r
}

func (f rangesFeed) ids() []string {
	var ids []string
	for _, r := range f.Ranges {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestRangeHeaderOnEveryAnswer(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 20)
	k, other := keys["1"][0], keys["0"][0]
	key, item := pkHeader(`"`+k+`"`), a.Endpoint()+ordersDocs+"/"+k
	docs := a.Endpoint() + ordersDocs
	batch := append(slices.Clone(batchHeaders), key...)

	for _, tt := range []struct {
		name         string
		method, url  string
		body         string
		hdr          []string
		status       int
		wantRangeHdr string
	}{
		{"read", "GET", item, "", key, 200, "1"},
		{"read of an absent item", "GET", docs + "/absent", "", key, 404, "1"},
		{"create of a duplicate", "POST", docs, `{"id":"` + k + `","pk":"` + k + `"}`, key, 409, "1"},
		{"key mismatch", "POST", docs, `{"id":"x","pk":"` + other + `"}`, key, 400, "1"},
		{"replace, stale etag", "PUT", item, `{"id":"` + k + `","pk":"` + k + `"}`, append(slices.Clone(key), "If-Match", `"x"`), 412, "1"},
		{"replace", "PUT", item, `{"id":"` + k + `","pk":"` + k + `"}`, key, 200, "1"},
		{"patch", "PATCH", item, `{"operations":[{"op":"set","path":"/n","value":1}]}`, key, 200, "1"},
		{"batch", "POST", docs, `[{"operationType":"Read","id":"` + k + `"}]`, batch, 200, "1"},
		{"query in a partition", "POST", docs, `{"query":"SELECT * FROM c"}`, append(slices.Clone(key), "x-ms-documentdb-isquery", "true"), 200, "1"},
		{"query in a range", "POST", docs, `{"query":"SELECT * FROM c"}`, []string{"x-ms-documentdb-isquery", "true", rangeHeader, "0"}, 200, "0"},
		{"upsert without the header", "POST", docs, `{"id":"u","pk":"` + k + `"}`, []string{"x-ms-documentdb-is-upsert", "true"}, 201, "1"},
		{"refused write", "PUT", a.RegionEndpoint("East US") + ordersDocs + "/" + k, `{"id":"` + k + `","pk":"` + k + `"}`, key, 403, "1"},
		{"delete", "DELETE", item, "", key, 204, "1"},

		{"cross-partition query", "POST", docs, `{"query":"SELECT * FROM c"}`,
			[]string{"x-ms-documentdb-isquery", "true", "x-ms-documentdb-query-enablecrosspartition", "true"}, 200, ""},
		{"read feed", "GET", docs, "", nil, 200, ""},
		{"read without the header", "GET", item, "", nil, 400, ""},
		{"malformed header", "GET", item, "", []string{"x-ms-documentdb-partitionkey", k}, 400, ""},
		{"unknown range", "POST", docs, `{"query":"SELECT * FROM c"}`, []string{"x-ms-documentdb-isquery", "true", rangeHeader, "7"}, 410, ""},
		{"ranges feed", "GET", a.Endpoint() + ordersPath + "/pkranges", "", nil, 200, ""},
		{"container", "GET", a.Endpoint() + ordersPath, "", key, 200, ""},
		{"account", "GET", a.Endpoint(), "", key, 200, ""},
		{"collection without a partition key", "GET", a.Endpoint() + docsPath + "/" + k, "", key, 404, ""},
	} {
		r := c.do(tt.method, tt.url, tt.body, tt.hdr...)
		require.NoError(t, r.err, tt.name)
		assert.Equal(t, tt.status, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.wantRangeHdr, r.header.Get(rangeHeader), tt.name)
	}
}

func TestSplitReplacesARangeByTwo(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 40)
	before, _ := readRanges(t, c)
	require.Equal(t, []string{"0", "1"}, before.ids())

	require.NoError(t, a.Split("shop", "orders", "1"))
	after, r := readRanges(t, c, "A-IM", "Incremental Feed", "If-None-Match", before.etag)
	require.Equal(t, http.StatusOK, r.status, "the ranges changed: the incremental feed answers")
	assert.NotEqual(t, before.etag, after.etag)
	require.Equal(t, []string{"0", "2", "3"}, after.ids())
	lo, hi := after.Ranges[1], after.Ranges[2]
	assert.Equal(t, before.Ranges[1].MinInclusive, lo.MinInclusive)
	assert.Equal(t, lo.MaxExclusive, hi.MinInclusive)
	assert.Equal(t, "FF", hi.MaxExclusive)
	assert.Equal(t, "30", lo.MaxExclusive, "halfway between 20 and the end of the hashes, 40")
	assert.Equal(t, []string{"1"}, lo.Parents)
	assert.Equal(t, []string{"1"}, hi.Parents)
	assert.Empty(t, after.Ranges[0].Parents)
	assert.InDelta(t, 0.25, lo.Fraction, 1e-9)
	_, r = readRanges(t, c, "A-IM", "Incremental Feed", "If-None-Match", after.etag)
	assert.Equal(t, http.StatusNotModified, r.status)

	k1 := keys["1"][0]
	for name, gone := range map[string]result{
		"query":      query(c, a.Endpoint()+ordersDocs, rangeHeader, "1"),
		"point read": c.do("GET", a.Endpoint()+ordersDocs+"/"+k1, "", append([]string{rangeHeader, "1"}, pkHeader(`"`+k1+`"`)...)...),
	} {
		assert.Equal(t, http.StatusGone, gone.status, name)
		assert.Equal(t, "1002", gone.sub, name)
		assert.Empty(t, gone.header.Get(rangeHeader), name)
	}

	// Every item stays reachable, in the child that holds it, and each
	// child serves exactly its items.
	byChild := map[string][]string{}
	for _, k := range keys["1"] {
		r := readKey(c, a.Endpoint(), k)
		require.Equal(t, http.StatusOK, r.status, k)
		byChild[r.header.Get(rangeHeader)] = append(byChild[r.header.Get(rangeHeader)], k)
	}
	require.Len(t, byChild, 2, "both children hold items")
	for _, child := range []string{"2", "3"} {
		assert.ElementsMatch(t, byChild[child], queryIDs(t, c, a.Endpoint()+ordersDocs, "SELECT * FROM c", rangeHeader, child), child)
	}
	for _, k := range keys["0"] {
		assert.Equal(t, "0", readKey(c, a.Endpoint(), k).header.Get(rangeHeader), "range 0 is untouched")
	}
	k := byChild["3"][0]
	w := c.do("PUT", a.Endpoint()+ordersDocs+"/"+k, `{"id":"`+k+`","pk":"`+k+`","n":2}`, pkHeader(`"`+k+`"`)...)
	assert.Equal(t, http.StatusOK, w.status)
	assert.Equal(t, "3", w.header.Get(rangeHeader), "writes route by key too")
	assert.Len(t, queryIDs(t, c, a.Endpoint()+ordersDocs, "SELECT * FROM c"), 40)

	require.NoError(t, a.Split("shop", "orders", "2"))
	again, _ := readRanges(t, c)
	assert.Equal(t, []string{"0", "4", "5", "3"}, again.ids(), "ids are never reused; the feed is in key order")
	assert.Equal(t, []string{"1", "2"}, again.Ranges[1].Parents, "every ancestor, oldest first")
}

func TestSplitErrors(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	require.NoError(t, a.Split("shop", "orders", "0"))
	for _, tt := range []struct{ db, coll, rng, want string }{
		{"shop", "orders", "0", `cosmostest: splitting range "0" of shop/orders: no such range (a range that was split is gone)`},
		{"shop", "orders", "9", `cosmostest: splitting range "9" of shop/orders: no such range (a range that was split is gone)`},
		{"shop", "returns", "0", `cosmostest: splitting range "0" of shop/returns: no such container`},
		{"db", "coll", "0", `cosmostest: splitting range "0" of db/coll: no such container`},
	} {
		assert.EqualError(t, a.Split(tt.db, tt.coll, tt.rng), tt.want)
	}
	// Halve the first range, [00, 10), until no bound lies inside it: its
	// lower half is always the first of the two new ids.
	first, n := 2, 0
	for ; n < 200 && a.Split("shop", "orders", strconv.Itoa(first)) == nil; n++ {
		first += 2
	}
	assert.Equal(t, 124, n, "a span of 2^124 halves 124 times")
	assert.ErrorContains(t, a.Split("shop", "orders", strconv.Itoa(first)), "too narrow to split")
	f, _ := readRanges(t, c)
	assert.Equal(t, strconv.Itoa(first), f.Ranges[0].ID)
	assert.Equal(t, "", f.Ranges[0].MinInclusive)
	assert.Equal(t, "00000000000000000000000000000001", f.Ranges[0].MaxExclusive)
}

func TestRangeFaultAfterASplit(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 20)
	a.Inject(Global, Fault{Status: http.StatusInternalServerError, Range: "1"})
	require.Equal(t, http.StatusInternalServerError, readKey(c, a.Endpoint(), keys["1"][0]).status)
	require.NoError(t, a.Split("shop", "orders", "1"))
	assert.Equal(t, http.StatusOK, readKey(c, a.Endpoint(), keys["1"][0]).status, "range 1 is gone: its fault matches nothing")

	a.Inject(Global, Fault{Status: http.StatusInternalServerError, Range: "3"})
	var faulted int
	for _, k := range keys["1"] {
		r := readKey(c, a.Endpoint(), k)
		if r.header.Get(rangeHeader) == "3" {
			faulted++
			assert.Equal(t, http.StatusInternalServerError, r.status)
		} else {
			assert.Equal(t, http.StatusOK, r.status)
		}
	}
	assert.Positive(t, faulted)
}

func TestCompareEPK(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "00", 0},
		{"2", "20", 0},
		{"20", "2000000000000000000000000000000", 0},
		{"20", "2F", -1},
		{"1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "20", -1},
		{"3F", "FF", -1},
		{"30", "2FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 1},
	} {
		assert.Equal(t, tt.want, compareEPK(tt.a, tt.b), "%q %q", tt.a, tt.b)
		assert.Equal(t, -tt.want, compareEPK(tt.b, tt.a), "%q %q", tt.b, tt.a)
	}
}

func TestMidpoint(t *testing.T) {
	for _, tt := range []struct {
		min, max, want string
		ok             bool
	}{
		{"", "20", "10", true},
		{"20", "FF", "30", true},
		{"30", "FF", "38", true},
		{"", "01", "0080", true},
		{"1F", "20", "1F80", true},
		{"0000000000000000000000000000000A", "0000000000000000000000000000000D", "0000000000000000000000000000000B", true},
		{"", "00000000000000000000000000000001", "", false},
		{"3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "FF", "", false},
	} {
		got, ok := midpoint(tt.min, tt.max)
		assert.Equal(t, tt.ok, ok, "%q %q", tt.min, tt.max)
		assert.Equal(t, tt.want, got, "%q %q", tt.min, tt.max)
	}
}

func TestInitialRangesSliceTheSpaceEvenly(t *testing.T) {
	a := newTestAccount(t, Options{InitialRanges: 4})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")

	f, r := readRanges(t, c)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"0", "1", "2", "3"}, f.ids())
	var bounds []string
	for _, rg := range f.Ranges {
		bounds = append(bounds, rg.MinInclusive)
		assert.Equal(t, 0.25, rg.Fraction, "range %s", rg.ID)
		assert.Empty(t, rg.Parents)
	}
	assert.Equal(t, []string{"", "10", "20", "30"}, bounds)
	assert.Equal(t, "FF", f.Ranges[3].MaxExclusive)

	keys := spread(t, c, 40)
	for _, id := range f.ids() {
		assert.NotEmpty(t, keys[id], "range %s holds some of 40 keys", id)
	}
	for id, ks := range keys {
		for _, k := range ks {
			q := c.do("POST", a.Endpoint()+ordersDocs, `{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"`+k+`"}]}`,
				"x-ms-documentdb-isquery", "true", rangeHeader, id)
			require.Equal(t, http.StatusOK, q.status, "%s", q.body)
			assert.Equal(t, "1", q.header.Get("x-ms-item-count"), "key %s is in range %s", k, id)
		}
	}
}

func TestEvenRanges(t *testing.T) {
	for _, tt := range []struct {
		n    int
		mins []string
	}{
		{1, []string{""}},
		{2, []string{"", "20"}},
		{3, []string{"", "15555555555555555555555555555555", "2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{8, []string{"", "08", "10", "18", "20", "28", "30", "38"}},
	} {
		s := evenRanges(tt.n)
		var mins []string
		for i, r := range s.ranges {
			mins = append(mins, r.min)
			assert.Equal(t, strconv.Itoa(i), r.id)
			assert.InDelta(t, 1/float64(tt.n), r.fraction, 1e-15)
			if i > 0 {
				assert.Equal(t, s.ranges[i-1].max, r.min, "n=%d: the ranges touch", tt.n)
			}
		}
		assert.Equal(t, tt.mins, mins, "n=%d", tt.n)
		assert.Equal(t, epkEnd, s.ranges[tt.n-1].max)
		assert.Equal(t, tt.n, s.next, "the next split takes the next id")
	}
	assert.Equal(t, newRangeSet(), evenRanges(2), "the default is today's two ranges")
}

func TestNegativeInitialRangesPanics(t *testing.T) {
	assert.Panics(t, func() { NewAccount(Options{InitialRanges: -1}) })
}
