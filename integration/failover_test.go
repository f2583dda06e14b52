package integration

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A manual failover in the middle of a run: the first write after it meets
// 403.3 at the former write region, the chain learns the new write region
// and resends there at once; the SDK sees one success, the document is
// committed once, and later writes go straight to the new region.
func TestWriteAfterManualFailoverIsCommittedOnceInTheNewRegion(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()

	_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	require.NoError(t, r.acct.Failover("East US"))
	r.acct.ResetLog()

	resp, err := r.orders.CreateItem(ctx, pk, orderJSON(t, "2", 20), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.RawResponse.StatusCode)
	assert.Equal(t, []string{
		"POST docs West US 2 403.3",
		"POST docs East US 201",
	}, trail(r.acct))
	assert.Equal(t, 1, r.acct.Commits(dbName, collName, "2"))
	assert.Equal(t, 1, accountReads(r.acct), "one forced look-up learns the new write region")

	r.acct.ResetLog()
	_, err = r.orders.ReplaceItem(ctx, pk, "1", orderJSON(t, "1", 11), nil)
	require.NoError(t, err)
	_, err = r.orders.UpsertItem(ctx, pk, orderJSON(t, "3", 30), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"PUT docs/1 East US 200",
		"POST docs East US 201",
	}, trail(r.acct), "writes after the first go straight to the new write region")
	assert.Equal(t, 2, r.acct.Commits(dbName, collName, "1"), "create before, replace after")
	assert.Equal(t, 1, r.acct.Commits(dbName, collName, "3"))
}

// Writes in flight from many goroutines while the failover happens: every
// write succeeds and is committed exactly once, in whichever region was the
// write region when it arrived, and the chain looks the account up a bounded
// number of times rather than once per write.
func TestConcurrentWritesAcrossAFailoverAreCommittedOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()
	const writers, perWriter = 8, 6

	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	failover := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if w == 0 && i == perWriter/2 {
					assert.NoError(t, r.acct.Failover("East US"))
					close(failover)
				}
				if i == perWriter/2+1 {
					<-failover // the second half of every writer's work runs after it
				}
				_, err := r.orders.CreateItem(ctx, pk, orderJSON(t, fmt.Sprintf("%d-%d", w, i), i), nil)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	for w := range writers {
		for i := range perWriter {
			assert.Equal(t, 1, r.acct.Commits(dbName, collName, fmt.Sprintf("%d-%d", w, i)), "order %d-%d", w, i)
		}
	}
	refused := 0
	for _, e := range r.acct.Log() {
		if e.Status == http.StatusForbidden {
			refused++
			assert.Equal(t, "West US 2", e.Region)
		}
	}
	assert.LessOrEqual(t, refused, writers, "at most the writes in flight at the failover are refused")
	// Two look-ups at start (the chain's own and the SDK's), then the
	// forced ones: shared by the refused writes, not one each.
	forced := accountReads(r.acct) - 2
	t.Logf("%d writes refused with 403.3, %d forced look-ups", refused, forced)
	assert.GreaterOrEqual(t, forced, 1)
	assert.LessOrEqual(t, forced, 3)
}
