package cosmostest

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMultiWriteAccountDocumentListsEveryRegionHubFirst(t *testing.T) {
	a := newTestAccount(t, Options{Regions: []string{"A", "B", "C"}, WriteRegion: "B", MultipleWriteLocations: true})
	c := newClient(t, a, false)
	names := func(d accountDoc) (w, r []string) {
		for _, l := range d.Writable {
			w = append(w, l.Name)
			assert.Equal(t, a.RegionEndpoint(l.Name), l.Endpoint)
		}
		for _, l := range d.Readable {
			r = append(r, l.Name)
		}
		return w, r
	}
	for _, name := range append([]string{Global}, a.Regions()...) {
		d := getAccount(t, c, a.RegionEndpoint(name))
		require.NotNil(t, d.MultiWrite)
		assert.True(t, *d.MultiWrite)
		w, r := names(d)
		assert.Equal(t, []string{"B", "A", "C"}, w, "the hub first, then region order")
		assert.Equal(t, []string{"B", "A", "C"}, r)
	}

	require.NoError(t, a.Failover("C"))
	w, r := names(getAccount(t, c, a.Endpoint()))
	assert.Equal(t, []string{"C", "A", "B"}, w)
	assert.Equal(t, []string{"C", "A", "B"}, r)
}

func TestMultiWriteRegionsAcceptTentativeWrites(t *testing.T) {
	a := newTestAccount(t, Options{MultipleWriteLocations: true})
	c := newClient(t, a, false)
	tentative := []string{"x-ms-cosmos-allow-tentative-writes", "true"}
	for i, name := range append([]string{Global}, a.Regions()...) {
		base := a.RegionEndpoint(name) + docsPath
		id := strconv.Itoa(i)
		for _, w := range []struct {
			method, url, body string
			status            int
			hdr               []string
		}{
			{"POST", base, docBody(id), http.StatusCreated, nil},
			{"POST", base, docBody(id), http.StatusOK, []string{"x-ms-documentdb-is-upsert", "true"}},
			{"PUT", base + "/" + id, docBody(id), http.StatusOK, nil},
			{"DELETE", base + "/" + id, "", http.StatusNoContent, nil},
		} {
			r := c.do(w.method, w.url, w.body, append(slices.Clone(tentative), w.hdr...)...)
			assert.Equal(t, w.status, r.status, "%s %s at %s: %s", w.method, w.url, name, r.body)
		}
		assert.Equal(t, 4, a.Commits("db", "coll", id), name)
	}

	a.ResetLog()
	c.do("POST", a.RegionEndpoint("East US")+docsPath, docBody("x"), "X-MS-COSMOS-ALLOW-TENTATIVE-WRITES", "True")
	c.do("GET", a.RegionEndpoint("East US")+docsPath+"/x", "")
	log := a.Log()
	require.Len(t, log, 2)
	assert.Equal(t, http.StatusCreated, log[0].Status, "header name and value are case-insensitive")
	assert.True(t, log[0].Tentative)
	assert.False(t, log[1].Tentative)
}

func TestMultiWriteSatellitesRefuseWritesWithoutTheHeader(t *testing.T) {
	a := newTestAccount(t, Options{MultipleWriteLocations: true})
	c := newClient(t, a, false)
	west, east, north := a.RegionEndpoint("West US 2"), a.RegionEndpoint("East US"), a.RegionEndpoint("North Europe")
	for _, hdr := range [][]string{nil, {"x-ms-cosmos-allow-tentative-writes", "false"}, {"x-ms-cosmos-allow-tentative-writes", "yes"}} {
		for _, u := range []string{east, north} {
			r := c.do("POST", u+docsPath, docBody("1"), hdr...)
			assert.Equal(t, http.StatusForbidden, r.status, "%s %v", u, hdr)
			assert.Equal(t, "3", r.sub)
		}
	}
	assert.Zero(t, a.Commits("db", "coll", "1"))
	assert.Equal(t, http.StatusCreated, c.do("POST", west+docsPath, docBody("1")).status, "the hub needs no header")
	assert.Equal(t, http.StatusOK, c.do("PUT", a.Endpoint()+docsPath+"/1", docBody("1")).status, "nor does the global endpoint")
	assert.Equal(t, http.StatusOK, c.do("GET", north+docsPath+"/1", "").status, "reads need no header")

	// Failover moves the hub: the former hub now wants the header.
	require.NoError(t, a.Failover("North Europe"))
	r := c.do("PUT", west+docsPath+"/1", docBody("1"))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "3", r.sub)
	assert.Equal(t, http.StatusOK, c.do("PUT", north+docsPath+"/1", docBody("1")).status)
	assert.Equal(t, http.StatusOK, c.do("PUT", west+docsPath+"/1", docBody("1"), "x-ms-cosmos-allow-tentative-writes", "true").status)
	assert.Equal(t, 4, a.Commits("db", "coll", "1"))

	// A stale global endpoint writes as a satellite does.
	a.SetGlobalStale(true)
	r = c.do("PUT", a.Endpoint()+docsPath+"/1", docBody("1"))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "3", r.sub)
	assert.Equal(t, http.StatusOK, c.do("PUT", a.Endpoint()+docsPath+"/1", docBody("1"), "x-ms-cosmos-allow-tentative-writes", "true").status)
	assert.Equal(t, 5, a.Commits("db", "coll", "1"))
}

func TestSingleWriteAccountIgnoresTheTentativeHeader(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	r := c.do("POST", a.RegionEndpoint("East US")+docsPath, docBody("1"), "x-ms-cosmos-allow-tentative-writes", "true")
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "3", r.sub)
	assert.Zero(t, a.Commits("db", "coll", "1"))
}

func TestMultiWriteFaultsComeBeforeTheWriteRegionCheck(t *testing.T) {
	a := newTestAccount(t, Options{MultipleWriteLocations: true})
	c := newClient(t, a, false)
	tentative := []string{"x-ms-cosmos-allow-tentative-writes", "true"}
	west, east := a.RegionEndpoint("West US 2"), a.RegionEndpoint("East US")
	a.Inject("West US 2", Fault{Status: 503, Ops: WriteOps, Count: 1})
	a.Inject("East US", Fault{Drop: true, Ops: WriteOps, Count: 1})

	assert.Equal(t, http.StatusServiceUnavailable, c.do("POST", west+docsPath, docBody("1"), tentative...).status)
	assert.Error(t, c.do("POST", east+docsPath, docBody("1"), tentative...).err)
	assert.Zero(t, a.Commits("db", "coll", "1"), "a faulted write commits nothing")
	assert.Equal(t, http.StatusCreated, c.do("POST", east+docsPath, docBody("1"), tentative...).status)
	assert.Equal(t, http.StatusConflict, c.do("POST", west+docsPath, docBody("1"), tentative...).status, "one store")

	want := []Entry{
		{Region: "West US 2", Status: 503},
		{Region: "East US", Dropped: true},
		{Region: "East US", Status: 201},
		{Region: "West US 2", Status: 409},
	}
	got := a.Log()
	require.Len(t, got, len(want))
	for i, e := range got {
		assert.Equal(t, want[i].Region, e.Region, i)
		assert.Equal(t, want[i].Status, e.Status, i)
		assert.Equal(t, want[i].Dropped, e.Dropped, i)
		assert.True(t, e.Write && e.Tentative, i)
	}
}
