package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// newChain builds the default chain for acct, as a client (see newTransport).
func newChain(t *testing.T, acct *cosmostest.Account, o Options) *http.Client {
	t.Helper()
	return &http.Client{Transport: newTransport(t, acct, o)}
}

// do sends an unsigned request to the account's global endpoint: the chain signs it.
func do(t *testing.T, ctx context.Context, c *http.Client, acct *cosmostest.Account, method, path, body string) (int, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(acct.Endpoint(), "/")+path, rd)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// mustCreate creates a document and fails the test unless it was created once.
func mustCreate(t *testing.T, c *http.Client, acct *cosmostest.Account, id string) {
	t.Helper()
	code, err := create(t, context.Background(), c, acct, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, 1, acct.Commits("d", "c", id))
}

func create(t *testing.T, ctx context.Context, c *http.Client, acct *cosmostest.Account, id string) (int, error) {
	t.Helper()
	code, _, err := do(t, ctx, c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"`+id+`"}`)
	return code, err
}

// entries returns the log entries that match.
func entries(acct *cosmostest.Account, keep func(cosmostest.Entry) bool) []cosmostest.Entry {
	var out []cosmostest.Entry
	for _, e := range acct.Log() {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

func isAccountRead(e cosmostest.Entry) bool { return e.Method == http.MethodGet && e.Path == "/" }

func hint(ms string) http.Header { return http.Header{"X-Ms-Retry-After-Ms": {ms}} }

func TestScenarioWriteSurvives429And449And503WithOneCommit(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	w := acct.WriteRegion()
	acct.Inject(w, cosmostest.Fault{Status: 429, SubStatus: 3200, Header: hint("20"), Count: 2, Ops: cosmostest.WriteOps})
	acct.Inject(w, cosmostest.Fault{Status: 449, Count: 2, Ops: cosmostest.WriteOps})
	acct.Inject(w, cosmostest.Fault{Status: 503, Count: 2, Ops: cosmostest.WriteOps})

	code, err := create(t, context.Background(), c, acct, "a")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "a"), "committed exactly once")

	writes := entries(acct, func(e cosmostest.Entry) bool { return e.Write })
	var got []int
	for _, e := range writes {
		assert.Equal(t, w, e.Region, "every attempt went to the write region")
		got = append(got, e.Status)
	}
	assert.Equal(t, []int{429, 429, 449, 449, 503, 503, 201}, got)
	assert.GreaterOrEqual(t, writes[1].Time.Sub(writes[0].Time), 20*time.Millisecond, "the 429 hint was obeyed")
}

func TestScenarioReadAvoidsOpenCircuitOnAnotherRegion(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{
		PreferredRegions: []string{"East US", "North Europe"},
		Breaker:          policy.BreakerOptions{ConsecutiveFailures: 3, OpenTimeout: time.Minute},
	})
	mustCreate(t, c, acct, "r")
	acct.Inject("East US", cosmostest.Fault{Status: 500, Ops: cosmostest.ReadOps})

	for i := range 10 {
		code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/r", "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code, "read %d served by another region", i)
	}
	sick := entries(acct, func(e cosmostest.Entry) bool { return e.Region == "East US" && !e.Write && e.Path != "/" })
	assert.Len(t, sick, 3, "after 3 500s the circuit is open and East US sees no more reads")
	served := entries(acct, func(e cosmostest.Entry) bool { return e.Region == "North Europe" && e.Status == 200 && e.Path != "/" })
	assert.Len(t, served, 10)
}

func TestScenarioWriteDuringManualFailoverCommitsOnceInNewRegion(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	old := acct.WriteRegion()
	mustCreate(t, c, acct, "before")

	require.NoError(t, acct.Failover("East US"))
	acct.ResetLog()
	code, err := create(t, context.Background(), c, acct, "during")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "during"))

	writes := entries(acct, func(e cosmostest.Entry) bool { return e.Write })
	require.Len(t, writes, 2, "one wasted round trip, then the new region")
	assert.Equal(t, old, writes[0].Region)
	assert.Equal(t, 403, writes[0].Status)
	assert.Equal(t, 3, writes[0].SubStatus)
	assert.Equal(t, "East US", writes[1].Region)
	assert.Equal(t, 201, writes[1].Status)
	assert.Len(t, entries(acct, isAccountRead), 1, "one DatabaseAccount look-up")

	acct.ResetLog()
	for i := range 5 {
		code, err := create(t, context.Background(), c, acct, fmt.Sprint("after", i))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code)
	}
	assert.Equal(t, 5, acct.Requests("East US"), "later writes go straight to the new region")
	assert.Zero(t, acct.Requests(old))
}

func TestScenarioConcurrentWritesAcrossFailoverShareLookups(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	mustCreate(t, c, acct, "warm")

	require.NoError(t, acct.Failover("North Europe"))
	acct.ResetLog()
	var wg sync.WaitGroup
	codes := make([]int, 100)
	for i := range codes {
		wg.Go(func() {
			codes[i], _ = create(t, context.Background(), c, acct, fmt.Sprint("w", i))
		})
	}
	wg.Wait()
	for i, code := range codes {
		assert.Equal(t, http.StatusCreated, code, "write %d", i)
		assert.Equal(t, 1, acct.Commits("d", "c", fmt.Sprint("w", i)), "write %d committed once", i)
	}
	lookups := len(entries(acct, isAccountRead))
	t.Logf("100 concurrent writes across a failover: %d DatabaseAccount look-ups", lookups)
	assert.Equal(t, 1, lookups, "every call joins the one look-up")
}

func TestScenarioReadsFollowPreferredRegionsAndFailOverOn503(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{PreferredRegions: []string{"north europe", "East US"}})
	mustCreate(t, c, acct, "p")

	acct.ResetLog()
	code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/p", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, 1, acct.Requests("North Europe"), "the first preferred region serves reads")

	acct.Inject("North Europe", cosmostest.Fault{Status: 503, Count: 1, Ops: cosmostest.ReadOps})
	acct.ResetLog()
	code, _, err = do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/p", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	reads := entries(acct, func(e cosmostest.Entry) bool { return e.Path != "/" })
	require.Len(t, reads, 2)
	assert.Equal(t, "North Europe", reads[0].Region)
	assert.Equal(t, 503, reads[0].Status)
	assert.Equal(t, "East US", reads[1].Region, "the next preferred region")
}

func TestScenarioStaleGlobalEndpointDoesNotStopWrites(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	require.NoError(t, acct.Failover("East US"))
	acct.SetGlobalStale(true)

	code, err := create(t, context.Background(), c, acct, "s")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "s"))
	assert.Empty(t, entries(acct, func(e cosmostest.Entry) bool { return e.Region == cosmostest.Global && e.Write }),
		"writes addressed to the global endpoint go to the write region the account names")
}

func TestScenarioForeignHostInAccountDocumentNeverReceivesARequest(t *testing.T) {
	var trapped int
	var mu sync.Mutex
	trap := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		trapped++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	trap.Listener = l
	trap.Start()
	defer trap.Close()

	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	foreign := trap.URL + "/"
	acct.SetAccountDocument(func(def []byte) []byte {
		s := string(def)
		s = strings.Replace(s, `"writableLocations":[`, `"writableLocations":[{"name":"Trap","databaseAccountEndpoint":"`+foreign+`"},`, 1)
		s = strings.Replace(s, `"readableLocations":[`, `"readableLocations":[{"name":"Trap","databaseAccountEndpoint":"`+foreign+`"},`, 1)
		return []byte(s)
	})
	c := newChain(t, acct, Options{PreferredRegions: []string{"Trap"}})

	code, err := create(t, context.Background(), c, acct, "f")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	code, _, err = do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/f", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, trapped, "a host outside the account never sees a signed request")
}

func TestScenarioBrokenAccountDocumentStillServesByTheCallersURL(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	acct.SetAccountDocument(func([]byte) []byte { return []byte(`{"writableLocations": "nope", `) })
	c := newChain(t, acct, Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, err := create(t, ctx, c, acct, "b")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "b"))
}

// synctestEpoch is where the clock of a testing/synctest bubble starts.
var synctestEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// The failover's spacing and the deadline run on the bubble's clock. The
// account serves from outside the bubble (its listeners are real) with its
// clock where the bubble's starts: the look-ups and attempts take no time,
// and x-ms-date stays well within cosmostest.MaxClockSkew of it.
func TestScenarioEndless403_3ReturnsByTheDeadlineWithFewAttempts(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{Now: func() time.Time { return synctestEpoch }})
	defer acct.Close()
	for _, r := range append(acct.Regions(), cosmostest.Global) {
		acct.Inject(r, cosmostest.Fault{Status: 403, SubStatus: 3, Ops: cosmostest.WriteOps})
	}
	synctest.Test(t, func(t *testing.T) {
		require.True(t, time.Now().Equal(synctestEpoch), "the bubble's clock starts at %s", time.Now())
		// No connection waits in the pool: a goroutine blocked on the
		// network would hold the bubble's clock still.
		base := newDefaultBase()
		base.DisableKeepAlives = true
		c := newChain(t, acct, Options{Base: base})

		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		start := time.Now()
		code, err := create(t, ctx, c, acct, "e")
		elapsed := time.Since(start)
		if err == nil {
			assert.Equal(t, http.StatusForbidden, code, "the last 403.3 comes back as it came")
		} else {
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.LessOrEqual(t, elapsed, 2500*time.Millisecond, "returned by the deadline")
		writes := entries(acct, func(e cosmostest.Entry) bool { return e.Write })
		t.Logf("endless 403.3: %d write attempts, %d look-ups in %s", len(writes), len(entries(acct, isAccountRead)), elapsed)
		assert.LessOrEqual(t, len(writes), 5)
		assert.Zero(t, acct.Commits("d", "c", "e"))
	})
}

func TestScenarioSessionNotAvailableReadRetriesOnTheWriteRegion(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{PreferredRegions: []string{"North Europe"}})
	mustCreate(t, c, acct, "s")
	acct.Inject("North Europe", cosmostest.Fault{Status: 404, SubStatus: 1002, Count: 1, Ops: cosmostest.ReadOps})

	acct.ResetLog()
	code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/s", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	reads := entries(acct, func(e cosmostest.Entry) bool { return e.Path != "/" })
	require.Len(t, reads, 2)
	assert.Equal(t, "North Europe", reads[0].Region)
	assert.Equal(t, acct.WriteRegion(), reads[1].Region, "the session's writes are surely on the write region")
}

func TestScenarioAccountNotFoundInRegionMovesWritesAfterARefresh(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{})
	mustCreate(t, c, acct, "warm")

	// The region lost the account and the account moved its writes.
	old := acct.WriteRegion()
	require.NoError(t, acct.Failover("North Europe"))
	acct.Inject(old, cosmostest.Fault{Status: 403, SubStatus: 1008, Ops: cosmostest.WriteOps})
	acct.ResetLog()
	code, err := create(t, context.Background(), c, acct, "moved")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "moved"))
	writes := entries(acct, func(e cosmostest.Entry) bool { return e.Write })
	require.Len(t, writes, 2)
	assert.Equal(t, 1008, writes[0].SubStatus)
	assert.Equal(t, "North Europe", writes[1].Region)
}

func TestScenarioDiscardedResponsesKeepTheConnection(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		if k <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, strings.Repeat("unavailable ", 1000))
			return
		}
		io.WriteString(w, `{"id":"1"}`)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()

	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/dbs/d/colls/c/docs/1", nil)
	require.NoError(t, err)
	resp, err := NewRetry(base, policy.RetryOptions{}).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1, conns(), "drained 503s left their connection reusable")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 3, n)
}
