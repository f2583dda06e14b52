package transport

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// Under seeded chaos in every region and manual failovers mid-run, no
// document is ever committed twice, and every write acknowledged with 201
// is committed exactly once.
func TestChaosNeverWritesTwice(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	for i, r := range append(acct.Regions(), cosmostest.Global) {
		acct.Chaos(r, cosmostest.Chaos{Seed: int64(i + 1), Rate429: 0.1, Rate449: 0.05, Rate503: 0.1, Rate500: 0.03, RateDrop: 0.03})
	}
	c := newChain(t, acct, Options{PreferredRegions: []string{"North Europe", "East US"}})

	stop := make(chan struct{})
	var failovers sync.WaitGroup
	failovers.Go(func() {
		regions := acct.Regions()
		for i := 0; i < 6; i++ { // bounded
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			_ = acct.Failover(regions[(i+1)%len(regions)])
		}
	})

	const workers, perWorker = 8, 25
	var created, failed, reads atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				code, err := create(t, ctx, c, acct, id)
				cancel()
				switch {
				case err == nil && code == http.StatusCreated:
					created.Add(1)
					assert.Equal(t, 1, acct.Commits("d", "c", id), "%s acknowledged, so committed exactly once", id)
				default:
					failed.Add(1)
					assert.LessOrEqual(t, acct.Commits("d", "c", id), 1, "%s (code %d, err %v) committed at most once", id, code, err)
				}
				if code, _, err := do(t, context.Background(), c, acct, http.MethodGet, "/dbs/d/colls/c/docs/"+id, ""); err == nil && code == http.StatusOK {
					reads.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	failovers.Wait()

	total := int64(workers * perWorker)
	t.Logf("chaos: %d writes acknowledged, %d not (returned the last answer or an error), %d reads served; %d requests at the account",
		created.Load(), failed.Load(), reads.Load(), acct.Requests(""))
	require.Equal(t, total, created.Load()+failed.Load())
	assert.Greater(t, created.Load(), total*8/10, "most writes ride out the chaos")
	for w := range workers {
		for i := range perWorker {
			id := fmt.Sprintf("w%d-%d", w, i)
			assert.LessOrEqual(t, acct.Commits("d", "c", id), 1, "%s", id)
		}
	}
}

// chaosWrites runs 200 creates from 8 writers under seeded faults in every
// region at about a 16 % rate (429, 449, 503, drops before and after the
// commit) and failovers mid-run, and counts what the callers saw against
// what the account committed.
type chaosWrites struct {
	acknowledged, failedWithError, failedWithStatus int
	twice, acknowledgedMissing, lostSilently        int
}

func runChaosWrites(t *testing.T, track bool) chaosWrites {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	for i, r := range append(acct.Regions(), cosmostest.Global) {
		acct.Chaos(r, cosmostest.Chaos{Seed: int64(i + 7), Rate429: 0.04, Rate449: 0.03, Rate503: 0.04,
			RateDrop: 0.025, RateDropAfterCommit: 0.025, Ops: cosmostest.WriteOps})
	}
	c := newChain(t, acct, Options{Retry: policy.RetryOptions{TrackWrites: track}})

	stop := make(chan struct{})
	var failovers sync.WaitGroup
	failovers.Go(func() {
		regions := acct.Regions()
		for i := range 3 { // bounded
			select {
			case <-stop:
				return
			case <-time.After(60 * time.Millisecond):
			}
			_ = acct.Failover(regions[(i+1)%len(regions)])
		}
	})

	const workers, perWorker = 8, 25
	type result struct {
		code int
		err  error
	}
	results := make([][perWorker]result, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				code, _, err := do(t, ctx, c, acct, http.MethodPost, "/dbs/d/colls/c/docs", fmt.Sprintf(`{"id":"w%d-%d"}`, w, i))
				cancel()
				results[w][i] = result{code, err}
			}
		})
	}
	wg.Wait()
	close(stop)
	failovers.Wait()

	var s chaosWrites
	for w := range workers {
		for i, r := range results[w] {
			commits := acct.Commits("d", "c", fmt.Sprintf("w%d-%d", w, i))
			switch {
			case r.err == nil && r.code == http.StatusCreated:
				s.acknowledged++
				if commits == 0 {
					s.acknowledgedMissing++
				}
			case r.err != nil:
				s.failedWithError++
			default:
				s.failedWithStatus++
				if commits > 0 {
					s.lostSilently++ // told it failed, yet written: the caller cannot know
				}
			}
			if commits > 1 {
				s.twice++
			}
		}
	}
	return s
}

// With tracking ids, writes whose outcome was unknown are resent and
// settled: at a 16 % fault rate nearly every write is acknowledged, none
// runs twice, none is acknowledged without being stored.
func TestChaosTrackedWritesAreAcknowledgedWithoutRunningTwice(t *testing.T) {
	off := runChaosWrites(t, false)
	on := runChaosWrites(t, true)
	for _, r := range []struct {
		name string
		s    chaosWrites
	}{{"tracking off", off}, {"tracking on", on}} {
		t.Logf("%s: %d/200 acknowledged (%.1f %%), %d failed with an error, %d with a status; %d committed twice, %d acknowledged but missing, %d failed but committed",
			r.name, r.s.acknowledged, float64(r.s.acknowledged)/2, r.s.failedWithError, r.s.failedWithStatus, r.s.twice, r.s.acknowledgedMissing, r.s.lostSilently)
		assert.Zero(t, r.s.twice, r.name)
		assert.Zero(t, r.s.acknowledgedMissing, r.name)
		assert.Zero(t, r.s.lostSilently, r.name)
	}
	assert.GreaterOrEqual(t, on.acknowledged, 199, "≥ 99.5 % acknowledged with tracking")
}
