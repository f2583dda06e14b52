package transport

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// ruRig is a one-region account whose container "c" of database "p" has
// provisioned throughput spread over four partition key ranges, and a
// chain over it. keys holds, for each range, partition key values whose
// items live there.
type ruRig struct {
	acct *cosmostest.Account
	c    *http.Client
	keys map[string][]string
	all  []string // every key, ranges interleaved
}

func newRURig(t *testing.T, ru int, o Options) *ruRig {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{Regions: []string{"West US 2"}, InitialRanges: 4})
	t.Cleanup(acct.Close)
	r := &ruRig{acct: acct, c: newChain(t, acct, o), keys: map[string][]string{}}
	r.must(t, http.MethodPost, "/dbs", `{"id":"p"}`, "", http.StatusCreated)
	r.must(t, http.MethodPost, "/dbs/p/colls", `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`, "", http.StatusCreated,
		"X-Ms-Offer-Throughput", strconv.Itoa(ru))
	for i := 0; ; i++ {
		require.Less(t, i, 400, "keys in every range")
		full := true
		for _, id := range []string{"0", "1", "2", "3"} {
			full = full && len(r.keys[id]) >= 8
		}
		if full {
			break
		}
		pk := fmt.Sprint("k", i)
		resp := r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`"}`, pk)
		if resp.StatusCode == http.StatusTooManyRequests {
			time.Sleep(50 * time.Millisecond) // filling the container spends its budget too
			i--
			continue
		}
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		rng := resp.Header.Get("X-Ms-Documentdb-Partitionkeyrangeid")
		r.keys[rng] = append(r.keys[rng], pk)
	}
	for i := 0; i < 8; i++ {
		for _, id := range []string{"0", "1", "2", "3"} {
			r.all = append(r.all, r.keys[id][i])
		}
	}
	time.Sleep(1100 * time.Millisecond) // the budget spent filling it comes back
	acct.ResetLog()
	return r
}

func (r *ruRig) send(t *testing.T, ctx context.Context, method, path, body, pk string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(r.acct.Endpoint(), "/")+path, strings.NewReader(body))
	require.NoError(t, err)
	if pk != "" {
		req.Header.Set("X-Ms-Documentdb-Partitionkey", `["`+pk+`"]`)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := r.c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func (r *ruRig) must(t *testing.T, method, path, body, pk string, want int, header ...string) {
	t.Helper()
	require.Equal(t, want, r.send(t, context.Background(), method, path, body, pk, header...).StatusCode, "%s %s", method, path)
}

// lane is what one kind of caller of a scenario got.
type lane struct {
	mu        sync.Mutex
	calls     int
	failed    int     // calls that did not succeed
	ru        float64 // request units of the successful calls
	latencies []time.Duration
}

func (l *lane) add(resp *http.Response, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	l.latencies = append(l.latencies, took)
	if resp == nil || resp.StatusCode >= 300 {
		l.failed++
		return
	}
	f, _ := strconv.ParseFloat(resp.Header.Get("X-Ms-Request-Charge"), 64)
	l.ru += f
}

func (l *lane) p99() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.latencies)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*99/100)]
}

// mixedResult is what the mixed workload measured.
type mixedResult struct {
	readAttempts, read429, writeAttempts, write429 int
	readP99                                        time.Duration
	readFailed                                     int
	batchRUs                                       float64 // RU/s of the batch's successful writes
}

// runMixed runs the mixed workload for d: 8 batch writers creating items
// as fast as they can (in ctx's group, if any), beside 2 interactive
// readers reading one item every 20 ms each.
func runMixed(t *testing.T, r *ruRig, batchCtx context.Context, d time.Duration) mixedResult {
	var batch, reads lane
	begin := time.Now()
	end := begin.Add(d)
	var wg sync.WaitGroup
	body := `,"payload":"` + strings.Repeat("x", 600) + `"}`
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := 0; time.Now().Before(end) && i < 100000; i++ {
				pk := r.all[(w*7+i)%len(r.all)]
				ctx, cancel := context.WithDeadline(batchCtx, end.Add(2*time.Second))
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.acct.Endpoint()+"dbs/p/colls/c/docs",
					strings.NewReader(`{"id":"b-`+strconv.Itoa(w)+`-`+strconv.Itoa(i)+`","pk":"`+pk+`"`+body))
				req.Header.Set("X-Ms-Documentdb-Partitionkey", `["`+pk+`"]`)
				resp, err := r.c.Do(req)
				if err == nil {
					resp.Body.Close()
				} else {
					resp = nil
				}
				batch.add(resp, time.Since(start))
				cancel()
			}
		})
	}
	for w := 0; w < 2; w++ {
		wg.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; time.Now().Before(end) && i < 100000; i++ {
				<-tick.C
				pk := r.all[(w*13+i)%len(r.all)]
				start := time.Now()
				req, _ := http.NewRequest(http.MethodGet, r.acct.Endpoint()+"dbs/p/colls/c/docs/"+pk, nil)
				req.Header.Set("X-Ms-Documentdb-Partitionkey", `["`+pk+`"]`)
				resp, err := r.c.Do(req)
				if err == nil {
					resp.Body.Close()
				} else {
					resp = nil
				}
				reads.add(resp, time.Since(start))
			}
		})
	}
	wg.Wait()
	var m mixedResult
	m.readAttempts, m.read429 = attempts(r.acct, http.MethodGet)
	m.writeAttempts, m.write429 = attempts(r.acct, http.MethodPost)
	m.readP99, m.readFailed = reads.p99(), reads.failed
	m.batchRUs = batch.ru / time.Since(begin).Seconds() // calls waiting at the end are served after it
	return m
}

func (m mixedResult) String() string {
	return fmt.Sprintf("interactive: %d/%d attempts 429 (%.1f %%), p99 %s, %d failed; batch: %.0f RU/s, %d/%d attempts 429 (%.1f %%)",
		m.read429, m.readAttempts, pct(m.read429, m.readAttempts), m.readP99.Round(time.Millisecond), m.readFailed,
		m.batchRUs, m.write429, m.writeAttempts, pct(m.write429, m.writeAttempts))
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// The mixed workload of a batch job beside interactive readers, on a
// container of 400 RU/s over four ranges: today's chain (no group, no
// holds) beside the batch in a Low group capped at half the container.
func TestScenarioBatchJobNeverStarvesInteractiveReads(t *testing.T) {
	if testing.Short() {
		t.Skip("a load scenario")
	}
	const d = 4 * time.Second
	before := newRURig(t, 400, Options{Throughput: policy.ThroughputOptions{NoHold: true}})
	today := runMixed(t, before, context.Background(), d)
	t.Logf("today:  %s", today)

	after := newRURig(t, 400, Options{Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{
		{Name: "batch", TargetShare: 0.5, Priority: policy.PriorityLow},
	}}})
	grouped := runMixed(t, after, WithRequestOptions(context.Background(), RequestOptions{ThroughputGroup: "batch"}), d)
	t.Logf("groups: %s", grouped)

	assert.LessOrEqual(t, pct(grouped.read429, grouped.readAttempts), 1.0, "interactive 429s")
	assert.Less(t, grouped.readP99, 100*time.Millisecond, "interactive p99")
	assert.Zero(t, grouped.readFailed)
	assert.GreaterOrEqual(t, grouped.batchRUs, 0.8*200, "the batch gets 80 %% of its cap")
	assert.LessOrEqual(t, grouped.batchRUs, 1.1*200, "and keeps to it")
	assert.LessOrEqual(t, pct(grouped.write429, grouped.writeAttempts), 5.0, "batch 429s")
}

// greedyResult is what the greedy client measured.
type greedyResult struct {
	attempts, throttled int
	goodput             float64 // RU/s of successful writes
	steady              float64 // the same, after the first two seconds
}

// runGreedy runs 8 workers for d, each writing then pausing so that
// together they offer about twice ru RU/s of writes of about 5.7 RU.
func runGreedy(t *testing.T, r *ruRig, ru float64, d time.Duration) greedyResult {
	var w lane
	pause := time.Duration(float64(8) / (2 * ru / 5.71) * float64(time.Second))
	begin := time.Now()
	end := begin.Add(d)
	var wg sync.WaitGroup
	for k := 0; k < 8; k++ {
		wg.Go(func() {
			for i := 0; time.Now().Before(end) && i < 100000; i++ {
				pk := r.all[(k*5+i)%len(r.all)]
				ctx, cancel := context.WithDeadline(context.Background(), end.Add(2*time.Second))
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.acct.Endpoint()+"dbs/p/colls/c/docs",
					strings.NewReader(`{"id":"g-`+strconv.Itoa(k)+`-`+strconv.Itoa(i)+`","pk":"`+pk+`"}`))
				req.Header.Set("X-Ms-Documentdb-Partitionkey", `["`+pk+`"]`)
				resp, err := r.c.Do(req)
				if err == nil {
					resp.Body.Close()
				} else {
					resp = nil
				}
				took := time.Since(start)
				w.add(resp, took)
				cancel()
				time.Sleep(max(pause-took, 0))
			}
		})
	}
	wg.Wait()
	var g greedyResult
	g.attempts, g.throttled = attempts(r.acct, http.MethodPost)
	g.goodput = w.ru / time.Since(begin).Seconds()
	// The service's budget starts full (a second's worth): what it serves
	// after the first two seconds is its steady rate.
	var steady float64
	for _, e := range r.acct.Log() {
		if e.Method == http.MethodPost && e.Status == http.StatusCreated && e.Time.After(begin.Add(2*time.Second)) && e.Time.Before(end) {
			steady += e.Charge
		}
	}
	g.steady = steady / (d - 2*time.Second).Seconds()
	return g
}

func (g greedyResult) String() string {
	return fmt.Sprintf("goodput %.0f RU/s (steady %.0f), %d/%d attempts 429 (%.1f %%)", g.goodput, g.steady, g.throttled, g.attempts, pct(g.throttled, g.attempts))
}

// One greedy client offering about twice the provisioned throughput, no
// group: today's chain (every call meets its 429s) beside holds.
func TestScenarioGreedyClientSettlesUnderTheProvisionedRate(t *testing.T) {
	if testing.Short() {
		t.Skip("a load scenario")
	}
	const ru, d = 400, 6 * time.Second
	today := runGreedy(t, newRURig(t, ru, Options{Throughput: policy.ThroughputOptions{NoHold: true}}), ru, d)
	t.Logf("today: %s", today)
	held := runGreedy(t, newRURig(t, ru, Options{}), ru, d)
	t.Logf("holds: %s", held)
	assert.GreaterOrEqual(t, held.goodput, 0.95*ru, "goodput")
	assert.GreaterOrEqual(t, held.steady, 0.95*ru, "goodput once the service's initial budget is spent")
	assert.Less(t, pct(held.throttled, held.attempts), 5.0, "attempts answered 429")
}
