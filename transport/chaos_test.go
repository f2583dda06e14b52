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
