package transport

import (
	"context"
	"net/http"
	"slices"
	"strings"
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
	return acct, hedgeChain(t, acct, o)
}

// hedgeChain is hedgeRig's chain for an account the test made.
func hedgeChain(t *testing.T, acct *cosmostest.Account, o Options) *http.Client {
	t.Helper()
	o.PreferredRegions = hedgeRegions
	c := newChain(t, acct, o)
	mustCreate(t, c, acct, "1")
	acct.ResetLog()
	return c
}

func readsAt(acct *cosmostest.Account, region string) []cosmostest.Entry {
	return entries(acct, func(e cosmostest.Entry) bool { return e.Region == region && !e.Write && e.Path != "/" })
}

// settled waits until the account has logged every request it read: a
// hedge's losing arm is logged when its region notices the cancellation,
// which may be after the read returned.
func settled(t *testing.T, acct *cosmostest.Account) {
	t.Helper()
	require.Eventually(t, func() bool { return acct.InFlight() == 0 }, 5*time.Second, time.Millisecond,
		"requests still being answered")
}

// triedRegions returns the regions a call's attempts went to, as the
// caller's diagnostics list them. An arm cancelled before it reached its
// region is there and not in the account's log: on a busy machine the
// hedge may answer while the first arm is still dialling.
func triedRegions(d *Diagnostics) []string {
	var out []string
	for _, a := range d.Attempts() {
		out = append(out, a.Region)
	}
	return out
}

// heldBase is a Base that holds each request to host until ready reports
// true, or the request's context ends: it orders the arms of a hedged read
// where timing alone would not.
type heldBase struct {
	next  *http.Transport
	host  string
	ready func() bool
}

func (b heldBase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == b.host {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for !b.ready() {
			select {
			case <-req.Context().Done():
				if req.Body != nil {
					req.Body.Close()
				}
				return nil, req.Context().Err()
			case <-tick.C:
			}
		}
	}
	return b.next.RoundTrip(req)
}

func (b heldBase) CloseIdleConnections() { b.next.CloseIdleConnections() }

func TestHedgedReadReturnsTheFirstFinalAnswerAndCancelsTheSlowRegion(t *testing.T) {
	// The hedge goes to North Europe once East US has the read, and the
	// step is too long for a third arm, however slow the machine.
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	hold := heldBase{next: newDefaultBase(), host: hostOf(acct.RegionEndpoint("North Europe")), ready: func() bool { return acct.InFlight() > 0 }}
	c := hedgeChain(t, acct, Options{Base: hold, Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour}})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps, Count: 1})

	code, body, err := do(t, t.Context(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"id":"1"`, "the winner's body reaches the caller intact")

	settled(t, acct)
	east, europe := readsAt(acct, "East US"), readsAt(acct, "North Europe")
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
	hedges := 0
	for i := range reads {
		ctx, diag := WithDiagnostics(t.Context())
		code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		tried := triedRegions(diag)
		assert.Contains(t, tried, "East US", "read %d starts in its preferred region", i+1)
		hedges += len(tried) - 1
	}
	// A burst of 5, then 0.1 per read; without the budget every read would hedge.
	assert.LessOrEqual(t, hedges, 5+reads/10)
	assert.GreaterOrEqual(t, hedges, 3, "the burst was spent")
}

func TestARegionThatKeepsLosingHedgesIsDemotedForReads(t *testing.T) {
	// One hedge per read: a demoted region, last in the order, is never
	// reached by a third arm, however slow the machine.
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour, DemoteAfter: 3}})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps})
	for i := range 10 {
		ctx, diag := WithDiagnostics(t.Context())
		code, _, err := do(t, ctx, c, acct, http.MethodGet, "/dbs/d/colls/c/docs/1", "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		if i < 3 {
			assert.ElementsMatch(t, []string{"East US", "North Europe"}, triedRegions(diag), "read %d starts in East US and is hedged", i+1)
		} else {
			assert.NotContains(t, triedRegions(diag), "East US", "read %d: three lost hedges, then reads start elsewhere", i+1)
		}
	}
	settled(t, acct)
	assert.LessOrEqual(t, len(readsAt(acct, "East US")), 3, "East US was sent nothing after its third lost hedge")
	assert.GreaterOrEqual(t, len(readsAt(acct, "North Europe"))+len(readsAt(acct, "West US 2")), 10, "each read answered elsewhere")
}

func TestHedgedReadIsRecordedOnTheCallSpanAndCounted(t *testing.T) {
	o := Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour}} // no third arm
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

// One range slow in the preferred region: after DemoteAfter hedges in a
// row lost there, that range's reads start in the next region, without
// waiting for the threshold, while the region's other ranges keep their
// reads (a region-wide demotion used to send them away too).
func TestHedgesLostByOneRangeMoveOnlyThatRangesReads(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}}, Options{
		PreferredRegions: []string{"West US 2", "East US"},
		Hedge:            policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour, DemoteAfter: 3},
	})
	r.acct.Inject("West US 2", cosmostest.Fault{Delay: time.Minute, Container: "p/c", Range: "1", Ops: cosmostest.ReadOps})
	n := 0
	read := func(rng string) []string {
		t.Helper()
		n++
		ctx, diag := WithDiagnostics(t.Context())
		pk := r.keys[rng][n%len(r.keys[rng])]
		require.Equal(t, http.StatusOK, r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode)
		return triedRegions(diag)
	}
	west, east := []string{"West US 2"}, []string{"East US"}
	for i := range 3 {
		assert.Empty(t, newStatus(r).OpenPartitions)
		assert.Equal(t, []string{"West US 2", "East US"}, read("1"), "read %d of the slow range is hedged, and East US wins", i+1)
		assert.Equal(t, west, read("0"))
	}
	open := newStatus(r).OpenPartitions
	require.Len(t, open, 1, "three lost hedges trip the range in West US 2")
	assert.Equal(t, PartitionStatus{Container: "dbs/p/colls/c", Range: "1", Region: "West US 2", Until: open[0].Until}, open[0])

	// The container's ranges are read in the background from the first
	// loss on: once they are known, a read knows its range before its
	// first attempt.
	require.Eventually(t, func() bool { return slices.Equal(read("1"), east) }, 5*time.Second, time.Millisecond)
	for range 5 {
		assert.Equal(t, east, read("1"), "the slow range's reads start in East US: no hedge, no wait")
		assert.Equal(t, west, read("0"), "the other range's reads stay in West US 2")
	}
	settled(t, r.acct)
	for _, e := range r.acct.Log() {
		if e.Method == http.MethodGet && e.Range == "0" && strings.Contains(e.Path, "/docs/") {
			assert.Equal(t, "West US 2", e.Region)
		}
	}
}

// Reads that carry a partition key, of a container whose ranges the chain
// cannot read (here a legacy collection without a partition key, whose
// answers name no range), still demote the region that keeps losing
// hedges: there is no range to steer them by.
func TestLostHedgesWithoutARangeDemoteTheRegion(t *testing.T) {
	acct, c := hedgeRig(t, Options{Hedge: policy.HedgeOptions{Threshold: 20 * time.Millisecond, Step: time.Hour, DemoteAfter: 3}})
	acct.Inject("East US", cosmostest.Fault{Delay: time.Minute, Ops: cosmostest.ReadOps})
	for i := range 6 {
		ctx, diag := WithDiagnostics(t.Context())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(acct.Endpoint(), "/")+"/dbs/d/colls/c/docs/1", nil)
		require.NoError(t, err)
		req.Header.Set("X-Ms-Documentdb-Partitionkey", `["p1"]`)
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		if i < 3 {
			assert.ElementsMatch(t, []string{"East US", "North Europe"}, triedRegions(diag), "read %d starts in East US and is hedged", i+1)
		} else {
			assert.NotContains(t, triedRegions(diag), "East US", "read %d: three lost hedges, then reads start elsewhere", i+1)
		}
	}
}
