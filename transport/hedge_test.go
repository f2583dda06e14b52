package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.uber.org/goleak"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// Reads prefer East US, then North Europe; West US 2 takes the writes.
var hedgeRegions = []string{"East US", "North Europe"}

// hedgeRig is an account with one document and a chain whose reads hedge
// after threshold.
func hedgeRig(t *testing.T, o Options) (*cosmostest.Account, *http.Client) {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	o.PreferredRegions = hedgeRegions
	c := newChain(t, acct, o)
	mustCreate(t, c, acct, "1")
	acct.ResetLog()
	return acct, c
}

func readsAt(acct *cosmostest.Account, region string) []cosmostest.Entry {
	return entries(acct, func(e cosmostest.Entry) bool { return e.Region == region && !e.Write && e.Path != "/" })
}

// loggedReads waits until region has logged n reads (a cancelled attempt
// is logged when the account notices the client went away, which may be
// just after the call returned) and returns them.
func loggedReads(t *testing.T, acct *cosmostest.Account, region string, n int) []cosmostest.Entry {
	t.Helper()
	assert.Eventually(t, func() bool { return len(readsAt(acct, region)) >= n }, 5*time.Second, time.Millisecond,
		"%s logged %d reads, want %d", region, len(readsAt(acct, region)), n)
	return readsAt(acct, region)
}

// settled waits until the account has logged every request it read: a
// hedge's losing arm is logged when its region notices the cancellation,
// which may be after the read returned.
func settled(t *testing.T, acct *cosmostest.Account) {
	t.Helper()
	require.Eventually(t, func() bool { return acct.InFlight() == 0 }, 5*time.Second, time.Millisecond,
		"requests still being answered")
}

func TestHedgedReadReturnsTheFirstFinalAnswerAndCancelsTheSlowRegion(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond}})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})

	code, body, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"id":"1"`, "the winner's body reaches the caller intact")

	east, europe := loggedReads(t, acct, "East US", 1), readsAt(acct, "North Europe")
	require.Len(t, east, 1)
	require.Len(t, europe, 1)
	assert.True(t, east[0].Dropped, "the slow region's attempt was cancelled: the client went away")
	assert.Equal(t, http.StatusOK, europe[0].Status)
	assert.Empty(t, readsAt(acct, "West US 2"), "two arms: the third region was never needed")
}

func TestHedgedReadFiresTheNextRegionAtOnceOnANonFinalAnswer(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Hour}})
	acct.Inject("East US", cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Count: 1})

	// Were the next arm to wait for the threshold, the deadline would end the read.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Len(t, readsAt(acct, "East US"), 1, "an arm never retries into another region itself")
	assert.Len(t, readsAt(acct, "North Europe"), 1)
}

func TestHedgedReadWithNoFinalAnswerReturnsTheLastOne(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Hour}})
	for _, r := range acct.Regions() {
		acct.Inject(r, cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps})
	}
	code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	for _, r := range acct.Regions() {
		assert.Len(t, readsAt(acct, r), 1, "one attempt per region, %s", r)
	}
}

func TestWritesAreNeverHedgedInASingleWriteAccount(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Millisecond}})
	acct.Inject("West US 2", cosmostest.Fault{Delay: 50 * time.Millisecond, Ops: cosmostest.WriteOps, Count: 1})
	code, err := create(t, t.Context(), c, acct, "2")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	writes := entries(acct, func(e cosmostest.Entry) bool { return e.Write })
	require.Len(t, writes, 1)
	assert.Equal(t, "West US 2", writes[0].Region)
	assert.Equal(t, 1, acct.Commits("d", "c", "2"))
}

func TestExcludedRegionsAreNeverContacted(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Millisecond}})
	acct.Inject("North Europe", cosmostest.Fault{Delay: 50 * time.Millisecond, Ops: cosmostest.ReadOps})
	ctx := WithRequestOptions(t.Context(), RequestOptions{ExcludedRegions: []string{"east us"}})
	for range 3 {
		code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
	}
	settled(t, acct)
	assert.Empty(t, readsAt(acct, "East US"), "excluded, even as a hedge")
}

// A read that excludes every region is checked on an account no earlier
// read reached: a losing arm's request can still be unread on its
// connection when its read returns, where no wait can see it.
func TestAReadWithEveryRegionExcludedSendsNothing(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Millisecond}})
	all := WithRequestOptions(t.Context(), RequestOptions{ExcludedRegions: acct.Regions()})
	_, _, err := do(t, all, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "excluded")
	assert.Empty(t, entries(acct, func(e cosmostest.Entry) bool { return e.Path != "/" }), "nothing was sent")
}

func TestHedgeCanBeTurnedOffForOneCall(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Millisecond}})
	acct.Inject("East US", cosmostest.Fault{Delay: 30 * time.Millisecond, Ops: cosmostest.ReadOps, Count: 1})
	ctx := WithRequestOptions(t.Context(), RequestOptions{Hedge: &policy.HedgeOptions{}})
	code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Len(t, readsAt(acct, "East US"), 1)
	assert.Empty(t, readsAt(acct, "North Europe"))
}

func TestHedgeBudgetCapsTheExtraReads(t *testing.T) {
	const reads = 40
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: time.Millisecond, Burst: 5, DemoteAfter: -1}})
	acct.Inject("East US", cosmostest.Fault{Delay: 20 * time.Millisecond, Ops: cosmostest.ReadOps})
	for range reads {
		code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
	}
	// Every read starts in its preferred region (one may be cancelled before
	// it reached it, when a hedge answers first on a loaded machine).
	assert.GreaterOrEqual(t, len(loggedReads(t, acct, "East US", reads-2)), reads-2)
	hedges := len(readsAt(acct, "North Europe")) + len(readsAt(acct, "West US 2"))
	// A burst of 5, then 0.1 per read; without the budget every read would hedge.
	assert.LessOrEqual(t, hedges, 5+reads/10)
	assert.GreaterOrEqual(t, hedges, 3, "the burst was spent")
}

func TestARegionThatKeepsLosingHedgesIsDemotedForReads(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond, DemoteAfter: 3}})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps})
	for range 10 {
		code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
	}
	assert.Len(t, loggedReads(t, acct, "East US", 3), 3, "three lost hedges, then reads start elsewhere")
	assert.GreaterOrEqual(t, len(readsAt(acct, "North Europe"))+len(readsAt(acct, "West US 2")), 10, "each read answered elsewhere")
}

func TestHedgedReadIsRecordedOnTheCallSpanAndCounted(t *testing.T) {
	o := Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond}}
	ob := observe(&o)
	acct, c := hedgeRig(t, o)
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})
	ob.spans.Reset()

	code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	var call sdktrace.ReadOnlySpan
	for _, s := range ob.spans.Ended() {
		if s.Name() == "read_item c" {
			call = s
		}
	}
	require.NotNil(t, call, "the call span")
	regions, _ := attrOf(call, "cosmosrt.hedge.regions")
	assert.Equal(t, []string{"North Europe"}, regions.AsStringSlice())
	winner, _ := attrOf(call, "cosmosrt.hedge.winner")
	assert.Equal(t, "North Europe", winner.AsString())
	contacted, _ := attrOf(call, semconv.AzureCosmosDBOperationContactedRegionsKey)
	assert.ElementsMatch(t, []string{"East US", "North Europe"}, contacted.AsStringSlice())
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.hedges", attribute.String("cosmosrt.hedge.result", "started")))
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.hedges", attribute.String("cosmosrt.hedge.result", "won")))
}

func TestHedgedReadLeavesNothingRunning(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 10 * time.Millisecond}})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})
	c.CloseIdleConnections()
	ignore := goleak.IgnoreCurrent()

	code, _, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	// Only the connections the call left idle for reuse remain: once they
	// are closed, nothing the call started is running (no arm, no drain, no
	// timer, and the slow region's handler saw the client go away).
	c.CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
}
