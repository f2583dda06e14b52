package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// sessionNotAvailable answers reads with 404/1002, as a replica that has
// not caught up with the caller's session does.
var sessionNotAvailable = cosmostest.Fault{Status: http.StatusNotFound, SubStatus: 1002, Ops: cosmostest.ReadOps}

// A read that excludes the write region and meets 404/1002 is not resent
// to the write region: it goes to the next region it may use.
func TestSessionRetryHonoursExcludedRegions(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{PreferredRegions: []string{"East US", "North Europe"}})
	mustCreate(t, c, acct, "1")
	acct.ResetLog()
	acct.Inject("East US", sessionNotAvailable)
	ctx := WithRequestOptions(t.Context(), RequestOptions{ExcludedRegions: []string{acct.WriteRegion()}})
	code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	var regions []string
	for _, e := range entries(acct, func(e cosmostest.Entry) bool { return e.Path != "/" }) {
		regions = append(regions, e.Region)
	}
	assert.Equal(t, []string{"East US", "North Europe"}, regions, "never the excluded write region")
}

// Hedged over fewer regions than the account has, a read that meets
// 404/1002 in each still makes its session retry on the write region, as
// the same read unhedged does.
func TestHedgedReadMakesItsSessionRetry(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := hedgeChain(t, acct, Options{Hedge: policy.HedgeOptions{Threshold: time.Millisecond, MaxRegions: 2}})
	acct.Inject("East US", sessionNotAvailable)
	acct.Inject("North Europe", sessionNotAvailable)
	code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "the write region has the session")
	settled(t, acct)
	assert.NotEmpty(t, readsAt(acct, acct.WriteRegion()))
}

// A call whose every region is excluded sends nothing, records no attempt,
// and says so with an error callers can test for.
func TestEveryRegionExcludedIsReportedAsSuch(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{})
	mustCreate(t, c, acct, "1")
	acct.ResetLog()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		ctx, diag := WithDiagnostics(WithRequestOptions(t.Context(), RequestOptions{ExcludedRegions: acct.Regions()}))
		body := ""
		if method == http.MethodPost {
			body = `{"id":"2"}`
		}
		_, _, err := do(t, ctx, c, acct, method, "/dbs/d/colls/c/docs", body)
		require.ErrorIs(t, err, ErrAllExcluded, method)
		assert.NotContains(t, err.Error(), "attempt", "%s: none was made", method)
		assert.Empty(t, diag.Attempts(), method)
	}
	assert.Empty(t, entries(acct, func(e cosmostest.Entry) bool { return e.Path != "/" }))
}

// Close ends a write that waits for the forced look-up after a 403.3
// without letting its resend out.
func TestCloseLetsNoResendOut(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	rt := newTransport(t, acct, Options{})
	c := &http.Client{Transport: rt}
	mustCreate(t, c, acct, "1")
	acct.ResetLog()
	hold := make(chan struct{})
	acct.Inject(acct.WriteRegion(), cosmostest.Fault{Status: http.StatusForbidden, SubStatus: 3, Count: 1, Ops: cosmostest.WriteOps})
	for _, r := range append(acct.Regions(), cosmostest.Global) {
		acct.Inject(r, cosmostest.Fault{Hold: hold, Count: 1, Ops: cosmostest.AccountOps})
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"2"}`)
		done <- err
	}()
	require.Eventually(t, func() bool { return acct.InFlight() > 0 && len(writesTo(acct)) > 0 }, 5*time.Second, time.Millisecond,
		"the 403.3 came back and the look-up is held")
	// A write that starts now waits for that look-up before its first
	// attempt; Close ends it too, with nothing sent.
	second := make(chan error, 1)
	go func() {
		_, _, err := do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"3"}`)
		second <- err
	}()
	closed := make(chan struct{})
	go func() {
		rt.Close()
		close(closed)
	}()
	<-rt.closing // closed first: the look-up may be waited for by Close
	close(hold)
	<-closed
	err := <-done
	require.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, <-second, ErrClosed)
	var posts int
	for _, e := range writesTo(acct) {
		if e.Method == http.MethodPost {
			posts++
		}
	}
	assert.Equal(t, 1, posts, "the refused attempt only")
	assert.Equal(t, 0, acct.Commits("d", "c", "2"))
	assert.Equal(t, 0, acct.Commits("d", "c", "3"))
}

// Writes that cannot be resent (their body is read once) and start while
// the look-up a 403.3 forced is in flight wait for it, and go to the new
// write region: one refused write per failover, not one per write that
// started before the look-up ended.
func TestUnreplayableWritesAfterAFailoverWaitForTheLookUp(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	old := acct.WriteRegion()
	rt := newTransport(t, acct, Options{Retry: policy.RetryOptions{MaxBufferedBody: -1}})
	send := func(id string) int {
		req, err := http.NewRequest(http.MethodPost, acct.Endpoint()+"dbs/d/colls/c/docs", io.NopCloser(strings.NewReader(`{"id":"`+id+`"}`)))
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusCreated, send("warm"))
	require.NoError(t, acct.Failover("East US"))
	acct.Inject(cosmostest.Global, cosmostest.Fault{Delay: 50 * time.Millisecond, Count: 1, Ops: cosmostest.AccountOps})
	acct.ResetLog()

	statuses := map[int]int{}
	for i := range 20 {
		statuses[send(fmt.Sprint("later", i))]++
	}
	assert.Equal(t, map[int]int{http.StatusForbidden: 1, http.StatusCreated: 19}, statuses)
	assert.Equal(t, 1, refusedWrites(acct, old))
}

// A call's own hedging options say how its hedges draw on the budget: a
// negative Ratio exempts them, any other draws on the transport's.
func TestPerCallHedgeBudget(t *testing.T) {
	const reads = 20
	for _, tc := range []struct {
		name  string
		ratio float64
		min   int
		max   int
	}{
		{"exempt", -1, 3 * reads / 4, reads}, // above the shared budget's cap; a slow machine may answer some before the hedge
		{"shared", 0, 3, 5 + reads/10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Burst: 5}}) // hedging off by default, its budget sized
			acct.Inject("East US", cosmostest.Fault{Delay: 20 * time.Millisecond, Ops: cosmostest.ReadOps})
			o := RequestOptions{Hedge: &policy.HedgeOptions{Threshold: time.Millisecond, MaxRegions: 2, Ratio: tc.ratio, DemoteAfter: -1}}
			hedges := 0
			for range reads {
				ctx, diag := WithDiagnostics(WithRequestOptions(t.Context(), o))
				code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, code)
				hedges += len(triedRegions(diag)) - 1
			}
			assert.GreaterOrEqual(t, hedges, tc.min)
			assert.LessOrEqual(t, hedges, tc.max)
		})
	}
}

// A query whose body comes with an azcore-style GetBody (one reader,
// rewound) is hedged like a point read: its body is read once and each arm
// gets the buffer.
func TestQueryWithASharedBodyIsHedged(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 10 * time.Millisecond, DemoteAfter: -1}})
	acct.Inject("East US", cosmostest.Fault{Delay: 150 * time.Millisecond, Ops: cosmostest.ReadOps, Count: 1})
	query := `{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"1"}]}`
	req := writeReq(t, t.Context(), acct, http.MethodPost, "/dbs/d/colls/c/docs", query, http.Header{
		"X-Ms-Documentdb-Isquery": {"true"}, "Content-Type": {"application/query+json"},
	})
	b := azcoreBody{bytes.NewReader([]byte(query))}
	req.Body, req.GetBody = b, func() (io.ReadCloser, error) {
		_, err := b.Seek(0, io.SeekStart)
		return b, err
	}
	code, body, err := sendReq(c, req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"id":"1"`)
	settled(t, acct)
	assert.Len(t, readsAt(acct, "North Europe"), 1, "hedged to the next region, with the whole body")
}

// A call without a deadline gets the chain's time limit, and running out
// of it is an error of the chain's, never context.DeadlineExceeded (which
// a client above would resend while its own context is live).
func TestTimeLimitOfACallWithoutADeadline(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{Retry: policy.RetryOptions{ReadTimeLimit: 50 * time.Millisecond, WriteTimeLimit: 50 * time.Millisecond}})
	mustCreate(t, c, acct, "1")
	acct.ResetLog()
	hold := make(chan struct{})
	defer close(hold)
	for _, r := range acct.Regions() {
		acct.Inject(r, cosmostest.Fault{Hold: hold})
	}

	_, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.ErrorIs(t, err, ErrTimeLimit, "a read")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	var limit *TimeLimitError
	require.ErrorAs(t, err, &limit)
	assert.Equal(t, 50*time.Millisecond, limit.Limit)

	_, _, err = do(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", `{"id":"2"}`)
	require.ErrorIs(t, err, ErrTimeLimit, "a write")
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "sent: it may have run")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel := context.WithTimeout(t.Context(), 80*time.Millisecond)
	defer cancel()
	_, _, err = do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the caller's own deadline replaces the limit")
	assert.NotErrorIs(t, err, ErrTimeLimit)
}

// The limit covers the reading of the answer's body, as http.Client's
// Timeout does, and ends when the body is closed.
func TestTimeLimitKeepsTheBodyReadable(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	c := newChain(t, acct, Options{Retry: policy.RetryOptions{ReadTimeLimit: time.Minute}})
	mustCreate(t, c, acct, "1")
	code, body, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"id":"1"`)
}
