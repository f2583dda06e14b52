package cosmostest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentUseCommitsEachAcknowledgedWriteOnce runs writers at every
// endpoint under chaos while the write region fails over back and forth:
// every document's commit count must equal the writes acknowledged with a
// 2xx, and the log must agree.
func TestConcurrentUseCommitsEachAcknowledgedWriteOnce(t *testing.T) {
	a := newTestAccount(t, Options{})
	names := append([]string{Global}, a.Regions()...)
	for i, name := range names {
		a.Chaos(name, Chaos{Seed: int64(i), Rate449: 0.1, Rate503: 0.1, RateDrop: 0.05})
	}
	const workers, ops = 6, 40
	acked := make([]map[string]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		acked[w] = map[string]int{}
		wg.Go(func() {
			c := newClient(t, a, false)
			for i := range ops {
				base := a.RegionEndpoint(names[(w+i)%len(names)]) + docsPath
				id := strconv.Itoa(i % 5)
				var r result
				switch i % 4 {
				case 0, 1:
					r = c.do("POST", base, docBody(id), "x-ms-documentdb-is-upsert", "true")
				case 2:
					r = c.do("DELETE", base+"/"+id, "")
				case 3:
					c.do("GET", base+"/"+id, "")
					continue
				}
				if r.err == nil && r.status/100 == 2 {
					acked[w][id]++
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			assert.NoError(t, a.Failover(a.Regions()[i%3]))
			a.SetGlobalStale(i%2 == 0)
			_ = a.Requests("")
			_ = a.Log()
		}
	})
	wg.Wait()

	total := 0
	for id := range 5 {
		want := 0
		for w := range workers {
			want += acked[w][strconv.Itoa(id)]
		}
		total += want
		assert.Equal(t, want, a.Commits("db", "coll", strconv.Itoa(id)), "document %d", id)
	}
	writes, logged := 0, 0
	for _, e := range a.Log() {
		if e.Write {
			writes++
			if e.Status/100 == 2 {
				logged++
			}
		}
	}
	assert.Equal(t, total, logged)
	assert.Positive(t, total)
	assert.Equal(t, workers*ops*3/4, writes, "each write reached the account once (net/http resends only reads)")
}

// TestConcurrentPatchesAndBatchesCountEveryCommit runs patches and batches
// that increment counters from many clients under chaos that drops some
// connections after their write committed: the counters must equal the
// writes the log shows committed, answered or not, and the clients must
// have seen exactly the committed writes that were not dropped.
func TestConcurrentPatchesAndBatchesCountEveryCommit(t *testing.T) {
	a := newTestAccount(t, Options{})
	setup := newClient(t, a, false)
	createOrders(t, setup, "/pk")
	for _, id := range []string{"patched", "batched"} {
		require.Equal(t, http.StatusCreated, setup.do("POST", a.Endpoint()+ordersDocs, `{"id":"`+id+`","pk":"a","n":0}`).status)
	}
	a.ResetLog()
	a.Chaos(Global, Chaos{Seed: 3, Rate503: 0.1, RateDrop: 0.05, RateDropAfterCommit: 0.15, Ops: WriteOps})

	const workers, ops = 4, 30
	var acked [workers]int
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := newClient(t, a, false)
			for i := range ops {
				var r result
				if i%2 == 0 {
					r = c.do("PATCH", a.Endpoint()+ordersDocs+"/patched", `{"operations":[{"op":"incr","path":"/n","value":1}]}`, pkHeader(`"a"`)...)
				} else {
					r = c.do("POST", a.Endpoint()+ordersDocs, `[
						{"operationType":"Patch","id":"batched","resourceBody":{"operations":[{"op":"incr","path":"/n","value":1}]}},
						{"operationType":"Upsert","resourceBody":{"id":"w`+strconv.Itoa(w)+`","pk":"a"}}]`,
						append(slices.Clone(batchHeaders), pkHeader(`"a"`)...)...)
				}
				if r.err == nil && r.status/100 == 2 {
					acked[w]++
				}
			}
		})
	}
	wg.Wait()

	committed := map[string]int{} // by method
	answered, dropped := 0, 0
	for _, e := range a.Log() {
		if e.Committed {
			committed[e.Method]++
			if e.Dropped {
				dropped++
			} else {
				answered++
			}
		}
	}
	assert.Len(t, a.Log(), workers*ops, "each write reached the account once")
	assert.Positive(t, dropped, "some commits went unanswered")
	total := 0
	for _, n := range acked {
		total += n
	}
	assert.Equal(t, answered, total, "the clients saw exactly the answered commits")

	counter := func(id string) float64 {
		doc, ok := a.DocumentInPartition("shop", "orders", "a", id)
		require.True(t, ok)
		var m map[string]any
		require.NoError(t, json.Unmarshal(doc, &m))
		return m["n"].(float64)
	}
	assert.Equal(t, float64(committed["PATCH"]), counter("patched"))
	assert.Equal(t, float64(committed["POST"]), counter("batched"))
	assert.Equal(t, 1+committed["PATCH"], a.Commits("shop", "orders", "patched"))
	assert.Equal(t, 1+committed["POST"], a.Commits("shop", "orders", "batched"))
}
