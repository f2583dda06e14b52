package cosmostest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/account"
)

// offerDoc is an offer as azcosmos decodes it (ThroughputProperties).
type offerDoc struct {
	ID              string `json:"id"`
	RID             string `json:"_rid"`
	Self            string `json:"_self"`
	ETag            string `json:"_etag"`
	TS              int64  `json:"_ts"`
	OfferVersion    string `json:"offerVersion"`
	OfferType       string `json:"offerType"`
	OfferResourceID string `json:"offerResourceId"`
	Resource        string `json:"resource"`
	Content         struct {
		Throughput *int32 `json:"offerThroughput"`
		Autoscale  *struct {
			MaxThroughput int32 `json:"maxThroughput"`
		} `json:"offerAutopilotSettings"`
	} `json:"content"`
}

// offersPage is the answer to the offers feed or a query of offers.
type offersPage struct {
	Offers []offerDoc `json:"Offers"`
	Count  int        `json:"_count"`
}

// resourceOfColl reads a database's or container's _rid and _self.
func resourceOfColl(t *testing.T, c *client, path string) (rid, self string) {
	t.Helper()
	r := c.do("GET", c.a.Endpoint()+path, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	m := r.json(t)
	return m["_rid"].(string), m["_self"].(string)
}

// readThroughput reads the offer of the resource whose _rid is rid as
// azcosmos's ReadThroughput does: a query of the offers by
// offerResourceId with the id as a literal, then a read of the offer
// found at its self link. It returns nil if the query finds none.
func readThroughput(t *testing.T, c *client, rid string) *offerDoc {
	t.Helper()
	q := c.do("POST", c.a.Endpoint()+"offers", `{"query":"SELECT * FROM c WHERE c.offerResourceId = '`+rid+`'"}`,
		"x-ms-documentdb-isquery", "True", "Content-Type", "application/query+json")
	require.Equal(t, http.StatusOK, q.status, "%s", q.body)
	var page offersPage
	require.NoError(t, json.Unmarshal(q.body, &page))
	require.Len(t, page.Offers, page.Count)
	if page.Count == 0 {
		return nil
	}
	require.Equal(t, 1, page.Count)
	r := c.do("GET", c.a.Endpoint()+page.Offers[0].Self, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var o offerDoc
	require.NoError(t, json.Unmarshal(r.body, &o))
	assert.Equal(t, page.Offers[0], o, "the query and the read agree")
	assert.Equal(t, o.ETag, r.header.Get("Etag"))
	return &o
}

func TestOffersReadAsAzcosmosReadsThem(t *testing.T) {
	clk := newFakeClock()
	a := newTestAccount(t, Options{Now: clk.now})
	c := newClient(t, a, false)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`, "x-ms-offer-throughput", "1000").status)
	for _, tt := range []struct {
		id  string
		hdr []string
	}{
		{"manual", []string{"x-ms-offer-throughput", "400"}},
		{"auto", []string{"x-ms-cosmos-offer-autopilot-settings", `{"maxThroughput":4000}`}},
		{"shared", nil},
	} {
		r := c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"`+tt.id+`","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`, tt.hdr...)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	}

	rid, self := resourceOfColl(t, c, "dbs/shop/colls/manual")
	manual := readThroughput(t, c, rid)
	require.NotNil(t, manual)
	assert.Equal(t, manual.RID, manual.ID)
	assert.Equal(t, "offers/"+manual.RID+"/", manual.Self)
	assert.Len(t, manual.RID, 4)
	assert.NotEqual(t, strings.ToLower(manual.RID), manual.RID, "the id has upper case: signing must lower-case it")
	assert.NotEmpty(t, manual.ETag)
	assert.Equal(t, clk.now().Unix(), manual.TS)
	assert.Equal(t, "V2", manual.OfferVersion)
	assert.Equal(t, "Invalid", manual.OfferType)
	assert.Equal(t, rid, manual.OfferResourceID)
	assert.Equal(t, self, manual.Resource)
	require.NotNil(t, manual.Content.Throughput)
	assert.EqualValues(t, 400, *manual.Content.Throughput)
	assert.Nil(t, manual.Content.Autoscale)

	rid, _ = resourceOfColl(t, c, "dbs/shop/colls/auto")
	auto := readThroughput(t, c, rid)
	require.NotNil(t, auto)
	require.NotNil(t, auto.Content.Autoscale)
	assert.EqualValues(t, 4000, auto.Content.Autoscale.MaxThroughput)
	assert.EqualValues(t, 400, *auto.Content.Throughput, "a tenth of the maximum, as the service says at rest")

	rid, _ = resourceOfColl(t, c, "dbs/shop/colls/shared")
	assert.Nil(t, readThroughput(t, c, rid), "a container that shares its database's throughput has no offer")
	rid, self = resourceOfColl(t, c, "dbs/shop")
	shared := readThroughput(t, c, rid)
	require.NotNil(t, shared)
	assert.EqualValues(t, 1000, *shared.Content.Throughput)
	assert.Equal(t, self, shared.Resource)

	feed := c.do("GET", a.RegionEndpoint("North Europe")+"offers", "")
	require.Equal(t, http.StatusOK, feed.status)
	var all offersPage
	require.NoError(t, json.Unmarshal(feed.body, &all))
	require.Equal(t, 3, all.Count)
	assert.Equal(t, []offerDoc{*shared, *manual, *auto}, all.Offers, "oldest first")
	assert.Equal(t, "3", feed.header.Get("x-ms-item-count"))

	byParam := c.do("POST", a.Endpoint()+"offers",
		`{"query":"SELECT * FROM root WHERE root.offerResourceId = @p","parameters":[{"name":"@p","value":"`+manual.OfferResourceID+`"}]}`,
		"x-ms-documentdb-isquery", "true")
	var page offersPage
	require.NoError(t, json.Unmarshal(byParam.body, &page))
	assert.Equal(t, []offerDoc{*manual}, page.Offers)

	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+"offers/Zz9_", "").status)
	assert.Equal(t, http.StatusMethodNotAllowed, c.do("DELETE", a.Endpoint()+"offers/"+manual.RID, "").status)
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+"offers/a/b", "").status)

	require.Equal(t, http.StatusNoContent, c.do("DELETE", a.Endpoint()+"dbs/shop/colls/manual", "").status)
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+manual.Self, "").status, "the offer goes with its container")
}

func TestOfferSignedWithItsLowerCasedID(t *testing.T) {
	a, c, _, _ := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "400")
	rid, _ := resourceOfColl(t, c, ordersPath)
	o := readThroughput(t, c, rid)
	require.NotNil(t, o)

	// Signed with the offer's path as its link, as a request for a
	// resource by name is, the read is refused.
	req, err := http.NewRequest("GET", a.Endpoint()+o.Self, nil)
	require.NoError(t, err)
	require.NoError(t, account.Sign(req.Context(), req, a.key, a.now()))
	r := c.send(req)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, string(r.body), "resource type 'offers', resource link '"+strings.ToLower(o.RID)+"'")
}

func TestSetThroughputShowsInTheOffer(t *testing.T) {
	clk := newFakeClock()
	a := newTestAccount(t, Options{Now: clk.now})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	rid, _ := resourceOfColl(t, c, ordersPath)
	assert.Nil(t, readThroughput(t, c, rid))

	require.NoError(t, a.SetThroughput("shop", "orders", 400))
	o := readThroughput(t, c, rid)
	require.NotNil(t, o)
	assert.EqualValues(t, 400, *o.Content.Throughput)

	clk.advance(time.Minute)
	require.NoError(t, a.SetThroughput("shop", "orders", 1200.4))
	again := readThroughput(t, c, rid)
	require.NotNil(t, again)
	assert.Equal(t, o.RID, again.RID, "the same offer, replaced")
	assert.NotEqual(t, o.ETag, again.ETag)
	assert.Equal(t, clk.now().Unix(), again.TS)
	assert.EqualValues(t, 1200, *again.Content.Throughput, "offers hold whole RU/s")

	require.NoError(t, a.SetThroughput("shop", "orders", 0))
	assert.Nil(t, readThroughput(t, c, rid))
}

func TestReplaceOffer(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	rid, _ := resourceOfColl(t, c, ordersPath)
	o := readThroughput(t, c, rid)
	require.NotNil(t, o)
	replace := func(endpoint, content, ifMatch string) result {
		body := `{"content":` + content + `,"offerResourceId":"` + o.OfferResourceID + `","id":"` + o.ID + `","_rid":"` + o.RID +
			`","offerType":"Invalid","offerVersion":"V2","_self":"` + o.Self + `","resource":"` + o.Resource + `"}`
		return c.do("PUT", endpoint+o.Self, body, "If-Match", ifMatch)
	}

	assert.Equal(t, http.StatusForbidden, replace(a.RegionEndpoint("East US"), `{"offerThroughput":2000}`, "").status, "a replace is a write")
	assert.Equal(t, http.StatusPreconditionFailed, replace(a.Endpoint(), `{"offerThroughput":2000}`, `"stale"`).status)
	assert.Equal(t, http.StatusBadRequest, replace(a.Endpoint(), `{}`, "").status)
	r := replace(a.Endpoint(), `{"offerThroughput":200}`, o.ETag)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var replaced offerDoc
	require.NoError(t, json.Unmarshal(r.body, &replaced))
	assert.EqualValues(t, 200, *replaced.Content.Throughput)
	assert.NotEqual(t, o.ETag, replaced.ETag)
	assert.Equal(t, replaced.ETag, r.header.Get("Etag"))

	var rs []result
	for range 110 {
		rs = append(rs, c.read(a.Endpoint(), keys["0"]))
	}
	assert.Equal(t, 100, admitted(t, rs...), "100 RU/s a range: the setup's second of refill fills it")

	r = replace(a.Endpoint(), `{"offerAutopilotSettings":{"maxThroughput":4000}}`, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.NoError(t, json.Unmarshal(r.body, &replaced))
	require.NotNil(t, replaced.Content.Autoscale)
	assert.EqualValues(t, 4000, replaced.Content.Autoscale.MaxThroughput)
}

func TestOfferRIDsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for n := uint32(1); n <= 100_000; n++ {
		rid := offerRID(n)
		require.Len(t, rid, 4)
		require.True(t, rid[0] >= 'A' && rid[0] <= 'Z', rid)
		require.False(t, seen[rid], "offer %d: %s again", n, rid)
		seen[rid] = true
	}
}
