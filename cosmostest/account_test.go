package cosmostest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestAccount starts an account that the test closes when it ends.
func newTestAccount(t *testing.T, opts Options) *Account {
	t.Helper()
	a := NewAccount(opts)
	t.Cleanup(a.Close)
	return a
}

// client sends signed requests to an account, as a test's code would.
type client struct {
	t    *testing.T
	a    *Account
	http *http.Client
}

// newClient returns a client that reuses connections unless fresh is set.
func newClient(t *testing.T, a *Account, fresh bool) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = fresh
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, a: a, http: &http.Client{Transport: tr}}
}

// result is what the client got.
type result struct {
	status int
	sub    string
	header http.Header
	body   []byte
	err    error
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body %s", r.body)
	return m
}

// do sends a signed request; hdr holds header name/value pairs.
func (c *client) do(method, u, body string, hdr ...string) result {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(c.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	require.NoError(c.t, c.a.Sign(req))
	return c.send(req)
}

func (c *client) send(req *http.Request) result {
	resp, err := c.http.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, sub: resp.Header.Get("x-ms-substatus"), header: resp.Header, body: b, err: err}
}

const docsPath = "dbs/db/colls/coll/docs"

func docBody(id string) string { return `{"id":"` + id + `","n":1}` }

func TestNewAccountDefaults(t *testing.T) {
	a := newTestAccount(t, Options{})
	assert.Equal(t, []string{"West US 2", "East US", "North Europe"}, a.Regions())
	assert.Equal(t, "West US 2", a.WriteRegion())
	assert.Equal(t, DefaultKey, a.Key())
	assert.Equal(t, a.Endpoint(), a.RegionEndpoint(Global))
	assert.Empty(t, a.RegionEndpoint("Mars"))

	seen := map[string]bool{}
	for _, name := range append([]string{Global}, a.Regions()...) {
		u, err := url.Parse(a.RegionEndpoint(name))
		require.NoError(t, err)
		assert.Equal(t, "http", u.Scheme)
		assert.Equal(t, "127.0.0.1", u.Hostname())
		assert.Equal(t, "/", u.Path)
		assert.False(t, seen[u.Host], "port of %s reused", name)
		seen[u.Host] = true
	}
}

func TestNewAccountPanicsOnInvalidOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"bad key":              {Key: "not base64!"},
		"duplicate region":     {Regions: []string{"A", "A"}},
		"empty region":         {Regions: []string{"A", ""}},
		"reserved region":      {Regions: []string{"A", Global}},
		"unknown write region": {Regions: []string{"A", "B"}, WriteRegion: "C"},
	} {
		msg := panicMessage(func() { NewAccount(opts).Close() })
		assert.True(t, strings.HasPrefix(msg, "cosmostest: "), "%s: %s", name, msg)
		assert.NotContains(t, msg, "not base64!")
	}
}

// panicMessage runs f and returns what it panicked with ("<nil>" if nothing).
func panicMessage(f func()) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	f()
	return "<nil>"
}

// accountDoc is the DatabaseAccount as a client decodes it.
type accountDoc struct {
	ID       string  `json:"id"`
	Self     *string `json:"_self"`
	RID      string  `json:"_rid"`
	Writable []struct {
		Name     string `json:"name"`
		Endpoint string `json:"databaseAccountEndpoint"`
	} `json:"writableLocations"`
	Readable []struct {
		Name     string `json:"name"`
		Endpoint string `json:"databaseAccountEndpoint"`
	} `json:"readableLocations"`
	MultiWrite   *bool `json:"enableMultipleWriteLocations"`
	PerPartition *bool `json:"enablePerPartitionFailoverBehavior"`
	Consistency  struct {
		Default string `json:"defaultConsistencyLevel"`
	} `json:"userConsistencyPolicy"`
}

func getAccount(t *testing.T, c *client, endpoint string) accountDoc {
	t.Helper()
	r := c.do("GET", endpoint, "")
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var d accountDoc
	require.NoError(t, json.Unmarshal(r.body, &d))
	return d
}

func TestAccountDocumentNamesRegionalEndpoints(t *testing.T) {
	a := newTestAccount(t, Options{Regions: []string{"A", "B", "C"}, WriteRegion: "B", AccountID: "contoso"})
	c := newClient(t, a, false)
	for _, name := range append([]string{Global}, a.Regions()...) {
		d := getAccount(t, c, a.RegionEndpoint(name))
		assert.Equal(t, "contoso", d.ID)
		require.NotNil(t, d.Self)
		assert.Empty(t, *d.Self)
		assert.NotEmpty(t, d.RID)
		require.NotNil(t, d.MultiWrite)
		assert.False(t, *d.MultiWrite)
		assert.Equal(t, "Session", d.Consistency.Default)
		require.Len(t, d.Writable, 1)
		assert.Equal(t, "B", d.Writable[0].Name)
		assert.Equal(t, a.RegionEndpoint("B"), d.Writable[0].Endpoint)
		require.Len(t, d.Readable, 3)
		assert.Equal(t, "B", d.Readable[0].Name, "the write region leads the readable list")
		for _, l := range d.Readable {
			assert.Equal(t, a.RegionEndpoint(l.Name), l.Endpoint)
		}
	}
}

func TestFailoverMovesTheWriteRegion(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	west, east := a.RegionEndpoint("West US 2"), a.RegionEndpoint("East US")
	require.Equal(t, http.StatusCreated, c.do("POST", west+docsPath, docBody("1")).status)

	require.NoError(t, a.Failover("East US"))
	assert.Equal(t, "East US", a.WriteRegion())

	r := c.do("POST", west+docsPath, docBody("2"))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "3", r.sub)
	assert.Zero(t, a.Commits("db", "coll", "2"))

	assert.Equal(t, http.StatusCreated, c.do("POST", east+docsPath, docBody("2")).status)
	assert.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, docBody("3")).status,
		"the global endpoint writes as the new write region")
	d := getAccount(t, c, a.Endpoint())
	require.Len(t, d.Writable, 1)
	assert.Equal(t, "East US", d.Writable[0].Name)
	assert.Equal(t, east, d.Writable[0].Endpoint)

	assert.Error(t, a.Failover("Mars"))
	assert.Equal(t, "East US", a.WriteRegion())
}

func TestNonWriteRegionsRefuseEveryWrite(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, docBody("1")).status)
	for _, region := range []string{"East US", "North Europe"} {
		base := a.RegionEndpoint(region) + docsPath
		for _, w := range []struct {
			method, url, body string
			hdr               []string
		}{
			{"POST", base, docBody("2"), nil},
			{"POST", base, docBody("1"), []string{"x-ms-documentdb-is-upsert", "true"}},
			{"PUT", base + "/1", docBody("1"), nil},
			{"DELETE", base + "/1", "", nil},
		} {
			r := c.do(w.method, w.url, w.body, w.hdr...)
			assert.Equal(t, http.StatusForbidden, r.status, "%s %s at %s", w.method, w.url, region)
			assert.Equal(t, "3", r.sub)
			assert.Equal(t, "Forbidden", r.json(t)["code"])
		}
		assert.Equal(t, http.StatusOK, c.do("GET", base+"/1", "").status, "reads are served everywhere")
		assert.Equal(t, http.StatusOK, c.do("POST", base, `{"query":"SELECT * FROM c"}`, "x-ms-documentdb-isquery", "True").status)
	}
	assert.Equal(t, 1, a.Commits("db", "coll", "1"))
	assert.Zero(t, a.Commits("db", "coll", "2"))
}

func TestStaleGlobalEndpointRefusesWritesOnly(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+docsPath, docBody("1")).status)
	require.NoError(t, a.Failover("East US"))
	a.SetGlobalStale(true)

	assert.Equal(t, "East US", getAccount(t, c, a.Endpoint()).Writable[0].Name, "the account document is current")
	assert.Equal(t, http.StatusOK, c.do("GET", a.Endpoint()+docsPath+"/1", "").status)
	r := c.do("PUT", a.Endpoint()+docsPath+"/1", docBody("1"))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "3", r.sub)
	assert.Equal(t, 1, a.Commits("db", "coll", "1"))

	a.SetGlobalStale(false)
	assert.Equal(t, http.StatusOK, c.do("PUT", a.Endpoint()+docsPath+"/1", docBody("1")).status)
	assert.Equal(t, 2, a.Commits("db", "coll", "1"))
}

func TestSetAccountDocumentServesEditedDocument(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	var def []byte
	a.SetAccountDocument(func(d []byte) []byte {
		def = d
		return []byte(`{"writableLocations":[{"name":"West US 2","databaseAccountEndpoint":"https://evil.example.com/"}]}`)
	})
	d := getAccount(t, c, a.RegionEndpoint("East US"))
	assert.Equal(t, "https://evil.example.com/", d.Writable[0].Endpoint)
	assert.Contains(t, string(def), a.RegionEndpoint("West US 2"), "the edit sees the real document")

	a.SetAccountDocument(func([]byte) []byte { return []byte("{not json") })
	assert.Equal(t, "{not json", string(c.do("GET", a.Endpoint(), "").body))

	a.SetAccountDocument(nil)
	assert.Equal(t, a.RegionEndpoint("West US 2"), getAccount(t, c, a.Endpoint()).Writable[0].Endpoint)
}

func TestSignedRequestIsAcceptedAtEveryEndpoint(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	req, err := http.NewRequest("GET", a.Endpoint()+docsPath, nil)
	require.NoError(t, err)
	require.NoError(t, a.Sign(req))
	for _, name := range a.Regions() {
		// The host is not signed: the same headers work at another region.
		u, err := url.Parse(a.RegionEndpoint(name))
		require.NoError(t, err)
		again := req.Clone(req.Context())
		again.URL.Host, again.Host = u.Host, ""
		assert.Equal(t, http.StatusOK, c.send(again).status, name)
	}
}

func TestCloseStopsEveryEndpoint(t *testing.T) {
	a := NewAccount(Options{})
	c := newClient(t, a, true)
	require.Equal(t, http.StatusOK, c.do("GET", a.Endpoint(), "").status)
	a.Close()
	a.Close() // idempotent
	for _, name := range append([]string{Global}, a.Regions()...) {
		assert.Error(t, c.do("GET", a.RegionEndpoint(name), "").err, name)
	}
	assert.Equal(t, 1, a.Requests(Global), "the log outlives Close")
}

func TestNowDrivesTimestamps(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	a := newTestAccount(t, Options{Now: func() time.Time { return at }})
	c := newClient(t, a, false)
	r := c.do("POST", a.Endpoint()+docsPath, docBody("1"))
	require.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, strconv.FormatInt(at.Unix(), 10), jsonNumber(t, r.body, "_ts"))
	assert.Equal(t, at, a.Log()[0].Time)
}

func jsonNumber(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return string(m[field])
}

func TestPerPartitionFailoverFlagIsInTheAccountDocument(t *testing.T) {
	for _, on := range []bool{false, true} {
		a := newTestAccount(t, Options{PerPartitionFailover: on})
		c := newClient(t, a, false)
		for _, ep := range []string{a.Endpoint(), a.RegionEndpoint("East US")} {
			d := getAccount(t, c, ep)
			require.NotNil(t, d.PerPartition, "enablePerPartitionFailoverBehavior is present")
			assert.Equal(t, on, *d.PerPartition)
		}
		refused := c.do("POST", a.RegionEndpoint("East US")+docsPath, docBody("1"))
		assert.Equal(t, http.StatusForbidden, refused.status, "the flag changes only the document (on: %v)", on)
	}
}
