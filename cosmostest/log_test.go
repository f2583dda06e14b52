package cosmostest

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogRecordsEveryRequest(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newTestAccount(t, Options{Now: func() time.Time { return at }})
	c := newClient(t, a, false)
	a.Inject("West US 2", Fault{Status: 503, Count: 1, Ops: WriteOps})

	c.do("GET", a.Endpoint(), "")
	c.do("POST", a.RegionEndpoint("West US 2")+docsPath, docBody("1"))
	c.do("POST", a.RegionEndpoint("West US 2")+docsPath, docBody("1"))
	c.do("POST", a.RegionEndpoint("West US 2")+docsPath, docBody("1"))
	c.do("PUT", a.RegionEndpoint("East US")+docsPath+"/1", docBody("1"))
	c.do("POST", a.RegionEndpoint("East US")+docsPath, `{"query":"SELECT * FROM c"}`, "x-ms-documentdb-isquery", "true")
	resp, err := c.http.Get(a.RegionEndpoint("North Europe") + docsPath)
	require.NoError(t, err)
	resp.Body.Close()

	want := []Entry{
		{Region: Global, Method: "GET", Path: "/", Status: 200},
		{Region: "West US 2", Method: "POST", Path: "/" + docsPath, Status: 503, Write: true},
		{Region: "West US 2", Method: "POST", Path: "/" + docsPath, Status: 201, Write: true, Committed: true},
		{Region: "West US 2", Method: "POST", Path: "/" + docsPath, Status: 409, Write: true},
		{Region: "East US", Method: "PUT", Path: "/" + docsPath + "/1", Status: 403, SubStatus: 3, Write: true},
		{Region: "East US", Method: "POST", Path: "/" + docsPath, Status: 200},
		{Region: "North Europe", Method: "GET", Path: "/" + docsPath, Status: 401},
	}
	for i := range want {
		want[i].Time = at
	}
	assert.Equal(t, want, a.Log())
	assert.Equal(t, 1, a.Commits("db", "coll", "1"), "the 503, the 409 and the 403 committed nothing")

	assert.Equal(t, 7, a.Requests(""))
	assert.Equal(t, 1, a.Requests(Global))
	assert.Equal(t, 3, a.Requests("West US 2"))
	assert.Equal(t, 2, a.Requests("East US"))
	assert.Zero(t, a.Requests("Mars"))

	a.ResetLog()
	assert.Empty(t, a.Log())
	assert.Zero(t, a.Requests(""))
	assert.Equal(t, 1, a.Commits("db", "coll", "1"), "ResetLog keeps commit counts")
	c.do("GET", a.Endpoint(), "")
	assert.Len(t, a.Log(), 1)
}

func TestLogCopyIsTheCallers(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	require.Equal(t, http.StatusOK, c.do("GET", a.Endpoint(), "").status)
	log := a.Log()
	log[0].Status = 999
	assert.Equal(t, http.StatusOK, a.Log()[0].Status)
}

func TestLogKeepsTheLatestEntries(t *testing.T) {
	a := newTestAccount(t, Options{LogLimit: 3})
	c := newClient(t, a, false)
	for i := range 8 {
		c.do("GET", a.Endpoint()+docsPath+"/"+strconv.Itoa(i), "")
	}
	var paths []string
	for _, e := range a.Log() {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"/" + docsPath + "/5", "/" + docsPath + "/6", "/" + docsPath + "/7"}, paths, "the latest, oldest first")
	assert.Equal(t, 5, a.LogEvicted())
	assert.Equal(t, 3, a.Requests(""))
	assert.Equal(t, 3, a.Requests(Global))

	a.ResetLog()
	assert.Empty(t, a.Log())
	assert.Zero(t, a.LogEvicted())
	c.do("GET", a.Endpoint(), "")
	assert.Len(t, a.Log(), 1)
}

func TestLogLimitDefaultsAndOff(t *testing.T) {
	assert.Equal(t, DefaultLogLimit, newTestAccount(t, Options{}).log.limit)

	a := newTestAccount(t, Options{LogLimit: -1})
	for range 5 {
		a.arrive()
		a.record(Entry{Region: Global})
	}
	assert.Len(t, a.Log(), 5, "negative: every entry")
	assert.Zero(t, a.LogEvicted())
}

func TestRequestLogRing(t *testing.T) {
	l := requestLog{limit: 4}
	var want []Entry
	for i := range 11 {
		e := Entry{Status: i}
		l.add(e)
		want = append(want, e)
		if len(want) > 4 {
			want = want[1:]
		}
		assert.Equal(t, want, l.all(), "after %d entries", i+1)
	}
	assert.Equal(t, 7, l.evicted)
	assert.Len(t, l.entries, 4, "memory stays bounded")
}

func TestInFlightCountsARequestUntilItIsLogged(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan struct{})
	a.setTestHookDelay(func(time.Duration) { close(waiting) })
	a.Inject(Global, Fault{Delay: time.Hour, Count: 1})
	req, err := http.NewRequestWithContext(ctx, "GET", a.Endpoint()+docsPath+"/1", nil)
	require.NoError(t, err)
	require.NoError(t, a.Sign(req))
	done := make(chan result)
	go func() { done <- c.send(req) }()

	<-waiting
	assert.Equal(t, 1, a.InFlight())
	assert.Empty(t, a.Log(), "the answer is not decided yet")
	cancel()
	assert.ErrorIs(t, (<-done).err, context.Canceled)
	require.Eventually(t, func() bool { return a.InFlight() == 0 }, 5*time.Second, time.Millisecond,
		"the account notices the client went away")
	require.Len(t, a.Log(), 1, "the request left InFlight for the log")
	assert.True(t, a.Log()[0].Dropped)

	c.do("GET", a.Endpoint(), "")
	assert.Zero(t, a.InFlight(), "an answered request is logged before its answer leaves")
	assert.Len(t, a.Log(), 2)
}

func TestConnectionsCountsEveryConnectionTheEndpointsAccepted(t *testing.T) {
	a := newTestAccount(t, Options{})
	fresh, reuse := newClient(t, a, true), newClient(t, a, false)
	for range 3 {
		require.Equal(t, http.StatusOK, fresh.do("GET", a.Endpoint(), "").status)
	}
	for _, name := range a.Regions() {
		for range 2 {
			require.Equal(t, http.StatusOK, reuse.do("GET", a.RegionEndpoint(name), "").status)
		}
	}
	// The client has its answers; the endpoints accepted the connections
	// before they read the requests.
	assert.Equal(t, 3+len(a.Regions()), a.Connections(), "one per request without keep-alives, one per endpoint with")
}
