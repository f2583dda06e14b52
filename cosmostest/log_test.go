package cosmostest

import (
	"net/http"
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
	c.do("POST", a.RegionEndpoint("East US")+docsPath, "{}", "x-ms-documentdb-isquery", "true")
	resp, err := c.http.Get(a.RegionEndpoint("North Europe") + docsPath)
	require.NoError(t, err)
	resp.Body.Close()

	want := []Entry{
		{Region: Global, Method: "GET", Path: "/", Status: 200},
		{Region: "West US 2", Method: "POST", Path: "/" + docsPath, Status: 503, Write: true},
		{Region: "West US 2", Method: "POST", Path: "/" + docsPath, Status: 201, Write: true},
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
