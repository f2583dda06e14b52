package cosmostest

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedDatabaseThroughput(t *testing.T) {
	clk := newFakeClock()
	a := newTestAccount(t, Options{Now: clk.now})
	c := newClient(t, a, false)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`, "x-ms-offer-throughput", "60").status)
	for _, coll := range []string{"a", "b", "own"} {
		var hdr []string
		if coll == "own" {
			hdr = []string{"x-ms-offer-throughput", "1000"}
		}
		r := c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"`+coll+`","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`, hdr...)
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	}
	k := "k"
	key := pkHeader(`"k"`)
	for _, coll := range []string{"a", "b", "own"} {
		require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs/shop/colls/"+coll+"/docs", `{"id":"k","pk":"k"}`, key...).status)
	}
	clk.advance(time.Second) // full budgets again
	reads := func(coll string, n int) int {
		var rs []result
		for range n {
			rs = append(rs, c.do("GET", a.Endpoint()+"dbs/shop/colls/"+coll+"/docs/"+k, "", key...))
		}
		return admitted(t, rs...)
	}
	// 60 RU/s shared by a and b (own has its own): 30 RU/s each, 15 a range.
	assert.Equal(t, 15, reads("a", 20))
	assert.Equal(t, 15, reads("b", 20))
	assert.Equal(t, 100, reads("own", 100), "500 RU/s a range")

	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`).status)
	clk.advance(time.Second)
	assert.Equal(t, 10, reads("a", 20), "a third container shares the 60 RU/s: 20 RU/s each")

	require.NoError(t, a.SetThroughput("shop", "b", 200))
	clk.advance(time.Second)
	assert.Equal(t, 15, reads("a", 20), "b has its own now: a and c share")
	assert.Equal(t, 100, reads("b", 120))
}

func TestAutoscaleRunsAtItsMaximum(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{}, "x-ms-cosmos-offer-autopilot-settings", `{"maxThroughput":40}`)
	var rs []result
	for range 30 {
		rs = append(rs, c.read(a.Endpoint(), keys["1"]))
	}
	assert.Equal(t, 20, admitted(t, rs...), "40 RU/s over two ranges, at once")
}

func TestProvisioningHeaders(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`).status)
	coll := func(id string, hdr ...string) result {
		return c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"`+id+`","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`, hdr...)
	}
	for _, hdr := range [][]string{
		{"x-ms-offer-throughput", "0"},
		{"x-ms-offer-throughput", "-400"},
		{"x-ms-offer-throughput", "four hundred"},
		{"x-ms-cosmos-offer-autopilot-settings", "4000"},
		{"x-ms-cosmos-offer-autopilot-settings", `{"maxThroughput":0}`},
		{"x-ms-offer-throughput", "400", "x-ms-cosmos-offer-autopilot-settings", `{"maxThroughput":4000}`},
	} {
		assert.Equal(t, http.StatusBadRequest, coll("bad", hdr...).status, "%q", hdr)
		assert.Equal(t, http.StatusBadRequest, c.do("POST", a.Endpoint()+"dbs", `{"id":"bad"}`, hdr...).status, "%q", hdr)
	}
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+"dbs/shop/colls/bad", "").status, "nothing was created")
	assert.Equal(t, http.StatusCreated, coll("ok", "x-ms-cosmos-offer-autopilot-settings",
		`{"maxThroughput":4000,"autoUpgradePolicy":{"throughputPolicy":{"incrementPercent":10}}}`).status)
}

func TestServerlessAccount(t *testing.T) {
	a := newTestAccount(t, Options{Serverless: true})
	c := newClient(t, a, false)
	message := func(r result) string {
		t.Helper()
		require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
		assert.Empty(t, r.sub)
		return r.json(t)["message"].(string)
	}
	assert.Equal(t, "Shared throughput database creation is not supported for serverless accounts.",
		message(c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`, "x-ms-offer-throughput", "400")))
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`).status)
	for _, hdr := range [][]string{
		{"x-ms-offer-throughput", "400"},
		{"x-ms-cosmos-offer-autopilot-settings", `{"maxThroughput":4000}`},
	} {
		assert.Equal(t, "Setting offer throughput or autopilot on container is not supported for serverless accounts.",
			message(c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`, hdr...)))
	}
	createOrders2 := c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`)
	require.Equal(t, http.StatusCreated, createOrders2.status)

	const offersMsg = "Reading or replacing offers is not supported for serverless accounts."
	assert.Equal(t, offersMsg, message(c.do("GET", a.Endpoint()+"offers", "")))
	assert.Equal(t, offersMsg, message(c.do("GET", a.Endpoint()+"offers/AbC1/", "")))
	assert.Equal(t, offersMsg, message(c.do("POST", a.Endpoint()+"offers",
		`{"query":"SELECT * FROM c WHERE c.offerResourceId = 'x'"}`, "x-ms-documentdb-isquery", "true", "Content-Type", "application/query+json")))
	assert.Error(t, a.SetThroughput("shop", "orders", 400))

	var rs []result
	for range 50 {
		rs = append(rs, c.do("GET", a.Endpoint()+ordersDocs+"/1", "", pkHeader(`"a"`)...))
	}
	for _, r := range rs {
		assert.Equal(t, http.StatusNotFound, r.status, "never throttled")
	}
}

func TestSetThroughput(t *testing.T) {
	a, c, clk, keys := newThrottledOrders(t, Options{})
	k := keys["0"]
	reads := func(n int) int {
		var rs []result
		for range n {
			rs = append(rs, c.read(a.Endpoint(), k))
		}
		return admitted(t, rs...)
	}
	assert.Equal(t, 50, reads(50), "no throughput: no limit")

	require.NoError(t, a.SetThroughput("shop", "orders", 20))
	assert.Equal(t, 10, reads(20))
	require.NoError(t, a.SetThroughput("shop", "orders", 1000))
	assert.Equal(t, 0, reads(1), "a bucket in debt stays in debt until it refills")
	clk.advance(time.Second)
	assert.Equal(t, 500, reads(510), "500 RU/s a range from now on")
	require.NoError(t, a.SetThroughput("shop", "orders", 0))
	assert.Equal(t, 100, reads(100), "0: no limit again")

	for _, tt := range []struct {
		db, coll string
		ru       float64
	}{
		{"shop", "nope", 400}, {"nope", "orders", 400}, {"shop", "orders", -1},
		{"shop", "orders", math.NaN()}, {"shop", "orders", math.Inf(1)},
	} {
		assert.Error(t, a.SetThroughput(tt.db, tt.coll, tt.ru), "%+v", tt)
	}
}
