package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// headerRecorder is a Base that records the priority header of every
// request for a document it carries.
type headerRecorder struct {
	mu       sync.Mutex
	priority []string
}

func (h *headerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/docs/") {
		h.mu.Lock()
		h.priority = append(h.priority, req.Header.Get("X-Ms-Cosmos-Priority-Level"))
		h.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (h *headerRecorder) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.priority...)
}

// withGroup returns ctx whose calls join the throughput group.
func withGroup(ctx context.Context, group string) context.Context {
	return WithRequestOptions(ctx, RequestOptions{ThroughputGroup: group})
}

// readsIn returns the successful point reads the account served in range.
func readsIn(acct *cosmostest.Account, rangeID string) []cosmostest.Entry {
	return entries(acct, func(e cosmostest.Entry) bool {
		return e.Method == http.MethodGet && e.Status == http.StatusOK && e.Range == rangeID
	})
}

// A group's calls to one range are paced at the range's share of the
// group's target, measured at the account; another range's calls are not
// held back by them.
func TestThroughputGroupPacesEachRangeAtTheWire(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}},
		Options{Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 40}}}})
	ctx := withGroup(context.Background(), "batch")
	waitForRanges(t, r)
	r.acct.ResetLog()

	// 4 workers × 8 reads of 1 RU in range 0 (20 RU/s): about 1.6 s.
	start := time.Now()
	var wg sync.WaitGroup
	var hot time.Duration
	var mu sync.Mutex
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; i < 8; i++ {
				k := r.keys["0"][i%len(r.keys["0"])]
				assert.Equal(t, http.StatusOK, r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/"+k, "", k).StatusCode)
			}
			mu.Lock()
			hot = max(hot, time.Since(start))
			mu.Unlock()
		})
	}
	// Meanwhile 8 reads in range 1: its own 20 RU/s, about 0.4 s.
	for i := 0; i < 8; i++ {
		k := r.keys["1"][i%len(r.keys["1"])]
		assert.Equal(t, http.StatusOK, r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/"+k, "", k).StatusCode)
	}
	cold := time.Since(start)
	wg.Wait()

	got := readsIn(r.acct, "0")
	require.Len(t, got, 32)
	// 32 RU at 20 RU/s after a burst of 0.1 s: the last read leaves no
	// sooner than 1.45 s after the first (less the clocks' jitter).
	spread := got[len(got)-1].Time.Sub(got[0].Time)
	assert.GreaterOrEqual(t, spread, 1400*time.Millisecond, "range 0 paced at 20 RU/s")
	assert.Less(t, cold, hot, "range 1 was not held back by range 0")
}

// A call whose turn comes after its deadline fails at once with the
// chain's own error, before anything is sent; azcore does not resend it.
func TestThroughputGroupRefusesACallItCannotServeInTime(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}},
		Options{Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "slow", TargetRU: 0.5}}}})
	k := r.keys["0"][0]
	ctx := withGroup(context.Background(), "slow")
	require.Equal(t, http.StatusOK, r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/"+k, "", k).StatusCode)
	r.acct.ResetLog()

	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(dctx, http.MethodGet, r.acct.Endpoint()+"dbs/p/colls/c/docs/"+k, nil)
	require.NoError(t, err)
	req.Header.Set("X-Ms-Documentdb-Partitionkey", `["`+k+`"]`)
	start := time.Now()
	_, err = r.c.Transport.RoundTrip(req)
	assert.Less(t, time.Since(start), 200*time.Millisecond, "refused at once, not after the deadline")
	require.ErrorIs(t, err, ErrThroughputLimit)
	var te *ThroughputError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "slow", te.Group)
	assert.Equal(t, "dbs/p/colls/c", te.Container)
	assert.Greater(t, te.Wait, 300*time.Millisecond)
	assert.Implements(t, (*interface{ NonRetriable() })(nil), te)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "not the caller's own deadline")
	gets, _ := attempts(r.acct, http.MethodGet)
	assert.Zero(t, gets, "nothing sent")
}

func TestUnknownThroughputGroupFailsTheCallAtOnce(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, Options{})
	k := r.keys["0"][0]
	req, err := http.NewRequestWithContext(withGroup(context.Background(), "nope"), http.MethodGet, r.acct.Endpoint()+"dbs/p/colls/c/docs/"+k, nil)
	require.NoError(t, err)
	_, err = r.c.Transport.RoundTrip(req)
	var te *ThroughputError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), `"nope"`)
	assert.False(t, errors.Is(err, ErrThroughputLimit), "a configuration error, not a limit")
	assert.Zero(t, r.acct.Requests("West US 2"))
}

// Low priority calls carry the service's priority header; a header the
// caller set wins and is not changed; other calls carry none.
func TestLowPriorityCallsCarryThePriorityHeader(t *testing.T) {
	rec := &headerRecorder{}
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, Options{
		Base:       rec,
		Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 1000, Priority: policy.PriorityLow}}},
	})
	k := r.keys["0"][0]
	path := "/dbs/p/colls/c/docs/" + k
	n := len(rec.seen())
	r.send(t, withGroup(context.Background(), "batch"), http.MethodGet, path, "", k)
	r.send(t, WithRequestOptions(context.Background(), RequestOptions{Priority: policy.PriorityLow}), http.MethodGet, path, "", k)
	r.send(t, WithRequestOptions(context.Background(), RequestOptions{ThroughputGroup: "batch", Priority: policy.PriorityHigh}), http.MethodGet, path, "", k)
	r.send(t, withGroup(context.Background(), "batch"), http.MethodGet, path, "", k, "x-ms-cosmos-priority-level", "High")
	r.send(t, context.Background(), http.MethodGet, path, "", k)
	assert.Equal(t, []string{"Low", "Low", "", "High", ""}, rec.seen()[n:])
}

// Options that cannot be carried out are refused by New, clearly.
func TestThroughputOptionsAreChecked(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	t.Cleanup(acct.Close)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "a", TargetRU: 10}}}}, "need Options.Endpoint"},
		{Options{Endpoint: acct.Endpoint(), Key: acct.Key(), Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "a"}}}}, "needs TargetRU or TargetShare"},
		{Options{Endpoint: acct.Endpoint(), Credential: userCredential{Token: "t"}, Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "a", TargetShare: 0.5}}}}, "master key"},
	} {
		_, err := New(tc.o)
		assert.ErrorContains(t, err, tc.want)
	}
}

// A write in doubt whose resend its group cannot serve in time is not
// failed on the refusal alone: a tracked write reads its item back and
// ends with its success (an untracked one is never resent: its outcome is
// unknown). Either way it ran once.
func TestWriteInDoubtThatItsGroupCannotResend(t *testing.T) {
	for _, tracked := range []bool{true, false} {
		t.Run(fmt.Sprint("tracked=", tracked), func(t *testing.T) {
			r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, Options{
				Retry:      policy.RetryOptions{TrackWrites: tracked},
				Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "slow", TargetRU: 1}}},
			})
			r.acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Count: 1, Ops: cosmostest.WriteOps})
			ctx, cancel := context.WithTimeout(withGroup(context.Background(), "slow"), 2*time.Second)
			defer cancel()
			k := r.keys["0"][0]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.acct.Endpoint()+"dbs/p/colls/c/docs", strings.NewReader(`{"id":"w1","pk":"`+k+`"}`))
			require.NoError(t, err)
			req.Header.Set("X-Ms-Documentdb-Partitionkey", `["`+k+`"]`)
			resp, err := r.c.Do(req)
			if tracked {
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusCreated, resp.StatusCode)
			} else {
				require.ErrorIs(t, err, ErrOutcomeUnknown) // an untracked write in doubt is never resent
			}
			assert.Equal(t, 1, r.acct.CommitsInPartition("p", "c", k, "w1"))
			posts, _ := attempts(r.acct, http.MethodPost)
			assert.Equal(t, 1, posts, "the resend was not sent")
		})
	}
}

// attempts counts what reached the account by method, for items: every
// attempt, and those answered 429.
func attempts(acct *cosmostest.Account, method string) (all, throttled int) {
	for _, e := range acct.Log() {
		if e.Method != method || !strings.Contains(e.Path, "/docs") {
			continue
		}
		all++
		if e.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	return all, throttled
}

// A call that waits for its group's turn says so: a throughput.wait event
// on its span, Paced on the attempt's diagnostics, and the
// cosmosrt.throughput.wait histogram by group and priority.
func TestThroughputWaitIsRecorded(t *testing.T) {
	o := Options{Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 5, Priority: policy.PriorityLow}}}}
	ob := observe(&o)
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, o)
	k := r.keys["0"][0]
	path := "/dbs/p/colls/c/docs/" + k
	ctx := withGroup(context.Background(), "batch")
	waitForRanges(t, r)
	r.send(t, ctx, http.MethodGet, path, "", k) // the burst
	r.send(t, ctx, http.MethodGet, path, "", k)
	dctx, d := WithDiagnostics(ctx)
	r.send(t, dctx, http.MethodGet, path, "", k)

	at := d.Attempts()
	require.Len(t, at, 1)
	assert.Greater(t, at[0].Paced, 50*time.Millisecond, "a read of 1 RU at 5 RU/s waits about 200 ms")

	var events int
	for _, s := range ob.spans.Ended() {
		for _, e := range s.Events() {
			if e.Name == "throughput.wait" {
				events++
			}
		}
	}
	assert.GreaterOrEqual(t, events, 2)

	var rm metricdata.ResourceMetrics
	require.NoError(t, ob.metrics.Collect(context.Background(), &rm))
	var count uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "cosmosrt.throughput.wait" {
				for _, p := range h.DataPoints {
					g, _ := p.Attributes.Value("cosmosrt.throughput.group")
					pr, _ := p.Attributes.Value("cosmosrt.priority")
					assert.Equal(t, "batch", g.AsString())
					assert.Equal(t, "low", pr.AsString())
					count += p.Count
				}
			}
		}
	}
	assert.GreaterOrEqual(t, count, uint64(2))
}

// waitForRanges waits until the rig's chain knows the container's ranges
// (the first call of a container starts loading them; none waits).
func waitForRanges(t *testing.T, r *partitionRig) {
	t.Helper()
	router := r.c.Transport.(*Transport).router
	require.Eventually(t, func() bool {
		return router.RangeCount("dbs/p/colls/c") == 2
	}, 5*time.Second, 5*time.Millisecond)
}

// shareRig is a one-region account with container p/c created with the
// given headers (throughput), and a chain whose group "share" takes half
// of the container's provisioned throughput.
func shareRig(t *testing.T, acctOpts cosmostest.Options, dbHeader, collHeader []string) *partitionRig {
	t.Helper()
	acct := cosmostest.NewAccount(acctOpts)
	t.Cleanup(acct.Close)
	r := &partitionRig{acct: acct, keys: map[string][]string{}, c: newChain(t, acct, Options{
		Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "share", TargetShare: 0.5}}},
	})}
	r.must(t, http.MethodPost, "/dbs", `{"id":"p"}`, "", http.StatusCreated, dbHeader...)
	r.must(t, http.MethodPost, "/dbs/p/colls", `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`, "", http.StatusCreated, collHeader...)
	return r
}

// TargetShare is a share of what the container's offer provisions: its
// own manual throughput, its database's shared throughput, an autoscale
// maximum. A serverless account has none: the call fails, saying so,
// before anything is sent.
func TestTargetShareReadsTheContainersOffer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		db, coll []string
		want     float64
	}{
		{"container", nil, []string{"X-Ms-Offer-Throughput", "800"}, 400},
		{"shared database", []string{"X-Ms-Offer-Throughput", "1000"}, nil, 500},
		{"autoscale", nil, []string{"X-Ms-Cosmos-Offer-Autopilot-Settings", `{"maxThroughput":4000}`}, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := shareRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, tc.db, tc.coll)
			resp := r.send(t, withGroup(context.Background(), "share"), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"1","pk":"a"}`, "a")
			assert.Equal(t, http.StatusCreated, resp.StatusCode)
			st := newStatus(r).Throughput
			require.Len(t, st, 1)
			assert.Equal(t, tc.want, st[0].Rate)
		})
	}
	t.Run("serverless", func(t *testing.T) {
		r := shareRig(t, cosmostest.Options{Regions: []string{"West US 2"}, Serverless: true}, nil, nil)
		req, err := http.NewRequestWithContext(withGroup(context.Background(), "share"), http.MethodPost,
			r.acct.Endpoint()+"dbs/p/colls/c/docs", strings.NewReader(`{"id":"1","pk":"a"}`))
		require.NoError(t, err)
		req.Header.Set("X-Ms-Documentdb-Partitionkey", `["a"]`)
		_, err = r.c.Do(req)
		var te *ThroughputError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrThroughputLimit)
		assert.Contains(t, err.Error(), "serverless")
		assert.Zero(t, r.acct.CommitsInPartition("p", "c", "a", "1"), "nothing sent")
	})
}

// A Low call's 429 holds back Low calls only: interactive High reads of
// a range that a Low batch keeps throttled never wait for it.
func TestLowPriorityThrottlesNeverHoldHighCalls(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{Regions: []string{"West US 2"}, InitialRanges: 1})
	t.Cleanup(acct.Close)
	r := &partitionRig{acct: acct, keys: map[string][]string{}, c: newChain(t, acct, Options{})}
	r.must(t, http.MethodPost, "/dbs", `{"id":"p"}`, "", http.StatusCreated)
	r.must(t, http.MethodPost, "/dbs/p/colls", `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`, "", http.StatusCreated,
		"X-Ms-Offer-Throughput", "100")
	r.must(t, http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"r","pk":"a"}`, "a", http.StatusCreated)

	end := time.Now().Add(1500 * time.Millisecond)
	low := WithRequestOptions(context.Background(), RequestOptions{Priority: policy.PriorityLow})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; time.Now().Before(end) && i < 1000; i++ {
				ctx, cancel := context.WithDeadline(low, end.Add(time.Second))
				r.send(t, ctx, http.MethodPost, "/dbs/p/colls/c/docs", fmt.Sprintf(`{"id":"b%d-%d","pk":"a"}`, w, i), "a")
				cancel()
			}
		})
	}
	var highPaced, highCalls int
	for time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
		ctx, d := WithDiagnostics(context.Background())
		assert.Equal(t, http.StatusOK, r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/r", "", "a").StatusCode)
		highCalls++
		for _, a := range d.Attempts() {
			if a.Paced > 0 {
				highPaced++
			}
		}
	}
	held := newStatus(r).ThrottledRanges
	wg.Wait()

	require.NotEmpty(t, held, "the Low batch was throttled")
	for _, h := range held {
		assert.Equal(t, policy.PriorityLow, h.Priority, "only the Low lane is held: %+v", h)
	}
	assert.Zero(t, highPaced, "of %d High reads", highCalls)
	_, lowThrottled := attempts(acct, http.MethodPost)
	assert.NotZero(t, lowThrottled, "the service throttled the Low batch")
}

// A call slowed by its group's pacing is logged as slow with the wait on
// the attempt that waited.
func TestPacedWaitIsInTheSlowCallLog(t *testing.T) {
	var buf logBuffer
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, Options{
		Logger:     slog.New(slog.NewJSONHandler(&buf, nil)),
		Log:        policy.LogOptions{PointLatency: 100 * time.Millisecond, Rate: -1},
		Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 2}}},
	})
	waitForRanges(t, r)
	k := r.keys["0"][0]
	ctx := withGroup(context.Background(), "batch")
	r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/"+k, "", k)
	r.send(t, ctx, http.MethodGet, "/dbs/p/colls/c/docs/"+k, "", k) // waits about 0.9 s: 1 RU at 1 RU/s in the range
	es := buf.entries(t)
	require.Len(t, es, 1, "one slow call")
	at := es[0].attempts(t)
	require.Len(t, at, 1)
	paced, ok := at[0]["paced"]
	require.True(t, ok, "the attempt names its wait: %v", at[0])
	d, err := time.ParseDuration(fmt.Sprint(paced))
	if err != nil { // slog's JSON handler writes a duration as nanoseconds
		n, _ := paced.(float64)
		d = time.Duration(n)
	}
	assert.Greater(t, d, 500*time.Millisecond)
}
