package integration

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// Seeded random throttling, 449s, 503s and dropped connections in every
// region, under concurrent writes and reads through azcosmos: no write is
// ever committed twice, every write the caller saw succeed is committed
// once, and every one that failed is not committed at all (cosmostest
// faults strike before the store).
func TestChaosNeverCommitsAWriteTwice(t *testing.T) {
	r := newRig(t, rigOptions{chain: func(o *transport.Options) {
		o.Retry.UnavailableInitial = time.Millisecond
		o.Retry.UnavailableMax = 5 * time.Millisecond
		o.Retry.RetryWithMax = 5 * time.Millisecond
	}})
	for i, region := range r.acct.Regions() {
		r.acct.Chaos(region, cosmostest.Chaos{
			Seed: int64(i + 1), Rate429: 0.2, Rate449: 0.1, Rate503: 0.1, RateDrop: 0.03,
			RetryAfter: time.Millisecond,
		})
	}

	const writers, perWriter = 4, 15
	type result struct {
		id string
		ok bool
	}
	results := make(chan result, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("%d-%d", w, i)
				_, err := r.orders.UpsertItem(t.Context(), pk, orderJSON(t, id, i), nil)
				results <- result{id, err == nil}
				if err == nil {
					_, _ = r.orders.ReadItem(t.Context(), pk, id, nil) // reads add load; any outcome is fine
				}
			}
		})
	}
	wg.Wait()
	close(results)

	succeeded := 0
	for res := range results {
		commits := r.acct.Commits(dbName, collName, res.id)
		if res.ok {
			succeeded++
			assert.Equal(t, 1, commits, "write %s succeeded", res.id)
		} else {
			assert.Zero(t, commits, "write %s failed", res.id)
		}
	}
	t.Logf("%d of %d writes succeeded over %d requests", succeeded, writers*perWriter, len(r.acct.Log()))
	assert.Positive(t, succeeded)
}
