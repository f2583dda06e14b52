package cosmostest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// padded returns an item of partition pk whose stored JSON, system
// properties included, takes between kb-1 and kb KB (kb ≥ 2).
func padded(id, pk string, kb int) string {
	return `{"id":"` + id + `","pk":"` + pk + `","pad":"` + strings.Repeat("x", (kb-1)*1024+200) + `"}`
}

func TestChargeGrowsWithSize(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	docs, key := a.Endpoint()+ordersDocs, pkHeader(`"a"`)
	charge := func(r result) string {
		t.Helper()
		require.NoError(t, r.err)
		return r.header.Get("x-ms-request-charge")
	}

	for _, tt := range []struct {
		name              string
		method, url, body string
		want, wantCharge  string
		wantStatus        int
	}{
		{"create small", "POST", docs, `{"id":"s","pk":"a"}`, "", "5.71", 201},
		{"read small", "GET", docs + "/s", "", "", "1", 200},
		{"create 3 KB", "POST", docs, padded("big", "a", 3), "", "17.13", 201},
		{"read 3 KB", "GET", docs + "/big", "", "", "3", 200},
		{"replace with 2 KB", "PUT", docs + "/big", padded("big", "a", 2), "", "11.42", 200},
		{"patch the 2 KB item", "PATCH", docs + "/big", `{"operations":[{"op":"set","path":"/n","value":1}]}`, "", "11.42", 200},
		{"delete the 2 KB item", "DELETE", docs + "/big", "", "", "11.42", 204},
		{"read missing", "GET", docs + "/big", "", "", "1", 404},
		{"create conflict", "POST", docs, `{"id":"s","pk":"a"}`, "", "1", 409},
		{"replace missing", "PUT", docs + "/nope", `{"id":"nope","pk":"a"}`, "", "1", 404},
	} {
		r := c.do(tt.method, tt.url, tt.body, key...)
		assert.Equal(t, tt.wantStatus, r.status, "%s: %s", tt.name, r.body)
		assert.Equal(t, tt.wantCharge, charge(r), tt.name)
	}

	batch := append(slices.Clone(batchHeaders), key...)
	ok := c.do("POST", docs, `[{"operationType":"Create","resourceBody":{"id":"b1","pk":"a"}},{"operationType":"Read","id":"s"}]`, batch...)
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.body)
	assert.Equal(t, "6.71", charge(ok), "a batch costs its operations")
	var results []struct {
		RequestCharge float64 `json:"requestCharge"`
	}
	require.NoError(t, json.Unmarshal(ok.body, &results))
	assert.Equal(t, []float64{5.71, 1}, []float64{results[0].RequestCharge, results[1].RequestCharge})
	failed := c.do("POST", docs, `[{"operationType":"Create","resourceBody":{"id":"b2","pk":"a"}},{"operationType":"Create","resourceBody":{"id":"b1","pk":"a"}},{"operationType":"Read","id":"s"}]`, batch...)
	require.Equal(t, http.StatusMultiStatus, failed.status, "%s", failed.body)
	assert.Equal(t, "6.71", charge(failed), "a failed batch costs what it ran: a create and the failed create")

	meta := c.do("GET", a.Endpoint()+ordersPath, "")
	assert.Equal(t, "1", charge(meta), "reading a container")
	refused := c.do("POST", a.RegionEndpoint("East US")+ordersDocs, `{"id":"r","pk":"a"}`, key...)
	require.Equal(t, http.StatusForbidden, refused.status)
	assert.Equal(t, "0", charge(refused), "a write refused by its region ran nothing")
}

func TestPageChargeByRange(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	createOrders(t, c, "/pk")
	keys := spread(t, c, 20)
	docs := a.Endpoint() + ordersDocs
	query := func(hdr ...string) result {
		return c.do("POST", docs, `{"query":"SELECT * FROM c"}`, append([]string{"x-ms-documentdb-isquery", "true"}, hdr...)...)
	}

	one := query(pkHeader(`"` + keys["0"][0] + `"`)...)
	require.Equal(t, http.StatusOK, one.status)
	assert.Equal(t, "1", one.header.Get("x-ms-request-charge"), "one small document")
	none := query(pkHeader(`"absent"`)...)
	assert.Equal(t, "1", none.header.Get("x-ms-request-charge"), "a page that returns nothing still costs 1 RU")
	for _, k := range keys["1"][:3] {
		r := c.do("PUT", docs+"/"+k, padded(k, k, 2), pkHeader(`"`+k+`"`)...)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	}
	// kb is 1 RU per started KB of the stored items of a range, together.
	kb := func(rangeID string) int {
		n := 0
		for _, k := range keys[rangeID] {
			d, ok := a.DocumentInPartition("shop", "orders", k, k)
			require.True(t, ok)
			n += len(d)
		}
		return (n + 1023) / 1024
	}
	require.Greater(t, kb("1"), 4, "three items over 1 KB")
	inRange := query(rangeHeader, "1")
	assert.Equal(t, strconv.Itoa(kb("1")), inRange.header.Get("x-ms-request-charge"))
	cross := query("x-ms-documentdb-query-enablecrosspartition", "true")
	require.Equal(t, http.StatusOK, cross.status)
	assert.Equal(t, strconv.Itoa(kb("0")+kb("1")), cross.header.Get("x-ms-request-charge"), "each range read charges its own documents")
	paged := query("x-ms-documentdb-query-enablecrosspartition", "true", "x-ms-max-item-count", "1")
	assert.Equal(t, "2", paged.header.Get("x-ms-request-charge"), "a page of one small item read two ranges")
}

func TestPageChargeSplitsByRange(t *testing.T) {
	rs := evenRanges(2)
	small := &storedDoc{body: make([]byte, 100), epk: "05"}
	big := &storedDoc{body: make([]byte, 1500), epk: "25"}
	total, by := pageCharge(&rs, []*storedDoc{small, big, small})
	assert.Equal(t, 3.0, total)
	assert.Equal(t, map[string]float64{"0": 1, "1": 2}, by)
	total, by = pageCharge(nil, []*storedDoc{small, big})
	assert.Equal(t, 2.0, total)
	assert.Nil(t, by)
	total, _ = pageCharge(nil, nil)
	assert.Equal(t, 1.0, total)
}
