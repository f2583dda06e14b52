package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// inPartitionFailoverRig runs f in a testing/synctest bubble with a
// partition rig over an account of West US 2 (the write region), East US
// and North Europe, whose document says per-partition failover when ppaf
// is set. The account serves from outside the bubble with its clock where
// the bubble's starts; the chain opens a connection per attempt, so that
// synctest.Wait waits for its background work (reading a container's
// ranges) to end.
func inPartitionFailoverRig(t *testing.T, ppaf bool, o Options, f func(t *testing.T, r *partitionRig)) {
	acct := cosmostest.NewAccount(cosmostest.Options{PerPartitionFailover: ppaf, Now: func() time.Time { return synctestEpoch }})
	defer acct.Close()
	synctest.Test(t, func(t *testing.T) {
		base := newDefaultBase()
		base.DisableKeepAlives = true
		o.Base = base
		f(t, partitionRigOn(t, acct, o))
	})
}

// upsert upserts the item whose id and partition key are pk.
func (r *partitionRig) upsert(t *testing.T, pk string) int {
	t.Helper()
	return r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`"}`, pk,
		"X-Ms-Documentdb-Is-Upsert", "true").StatusCode
}

// writesOf tallies the item writes of range rangeID since the log was
// reset: "region status" → how many.
func writesOf(acct *cosmostest.Account, rangeID string) map[string]int {
	out := map[string]int{}
	for _, e := range acct.Log() {
		if e.Write && e.Range == rangeID && strings.Contains(e.Path, "/docs") {
			out[fmt.Sprint(e.Region, " ", e.Status)]++
		}
	}
	return out
}

// In an account with per-partition failover, one range's writes moved to
// East US by the service: the first write of the range is refused once and
// lands in East US, the range's next writes go straight there, the other
// range's writes stay in West US 2, and the account is never read again.
func TestPerPartitionFailoverMovesOnlyThatRangesWrites(t *testing.T) {
	inPartitionFailoverRig(t, true, Options{}, func(t *testing.T, r *partitionRig) {
		require.NoError(t, r.acct.FailoverRange("p", "c", "1", "East US"))
		r.acct.ResetLog()
		assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["1"][0]))
		synctest.Wait() // the container's ranges, read in the background, are loaded
		for i := range 9 {
			assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["1"][i%len(r.keys["1"])]))
			assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["0"][i%len(r.keys["0"])]))
		}
		moved, stayed := writesOf(r.acct, "1"), writesOf(r.acct, "0")
		t.Logf("the moved range's writes: %v; the other range's: %v", moved, stayed)
		assert.Equal(t, map[string]int{"West US 2 403": 1, "East US 200": 10}, moved, "one refusal, then straight to East US")
		assert.Equal(t, map[string]int{"West US 2 200": 9}, stayed)
		assert.Zero(t, len(entries(r.acct, isAccountRead)), "no DatabaseAccount look-up")
	})
}

// Without per-partition failover (or with partition circuits off) a 403.3
// is the account's: it reads the account and resends where the account
// says, as before. With it, a range refused everywhere (the 403.3 was not
// a move) falls back to the account's write region.
func TestA403_3ForOneRange(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ppaf    bool
		o       Options
		writes  map[string]int
		lookUps int
	}{
		{"plain account", false, Options{}, map[string]int{"West US 2 403": 1, "West US 2 200": 1}, 1},
		{"per-partition failover, circuits off", true, Options{Partitions: policy.PartitionOptions{ConsecutiveFailures: -1}},
			map[string]int{"West US 2 403": 1, "West US 2 200": 1}, 1},
		{"per-partition failover", true, Options{}, map[string]int{"West US 2 403": 1, "East US 403": 1, "North Europe 403": 1, "West US 2 200": 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inPartitionFailoverRig(t, tt.ppaf, tt.o, func(t *testing.T, r *partitionRig) {
				r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusForbidden, SubStatus: 3, Container: "p/c", Range: "1", Ops: cosmostest.WriteOps, Count: 1})
				r.acct.ResetLog()
				assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["1"][0]))
				assert.Equal(t, tt.writes, writesOf(r.acct, "1"))
				assert.Len(t, entries(r.acct, isAccountRead), tt.lookUps)
			})
		})
	}
}

// A range whose primary is unavailable answers 503 while the service
// moves it: in an account with per-partition failover the write goes to
// the range's next region, and the range's next writes go where it
// succeeded.
func TestPerPartitionFailoverMovesARangesWritesOn503(t *testing.T) {
	inPartitionFailoverRig(t, true, Options{}, func(t *testing.T, r *partitionRig) {
		r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Container: "p/c", Range: "1", Ops: cosmostest.WriteOps})
		require.NoError(t, r.acct.FailoverRange("p", "c", "1", "East US"))
		r.acct.ResetLog()
		assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["1"][0]))
		synctest.Wait()
		for i := range 5 {
			assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["1"][i%len(r.keys["1"])]))
			assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["0"][i%len(r.keys["0"])]))
		}
		assert.Equal(t, map[string]int{"West US 2 503": 1, "East US 200": 6}, writesOf(r.acct, "1"))
		assert.Equal(t, map[string]int{"West US 2 200": 5}, writesOf(r.acct, "0"))
		assert.Zero(t, len(entries(r.acct, isAccountRead)))
	})
}

// The region of a range is forgotten when a write of the range succeeds in
// the account's write region again, and after five quiet minutes.
func TestPerPartitionFailoverForgetsTheRangesRegion(t *testing.T) {
	inPartitionFailoverRig(t, true, Options{}, func(t *testing.T, r *partitionRig) {
		pk := r.keys["1"][0]
		require.NoError(t, r.acct.FailoverRange("p", "c", "1", "East US"))
		require.Equal(t, http.StatusOK, r.upsert(t, pk))
		synctest.Wait()

		require.NoError(t, r.acct.FailoverRange("p", "c", "1", "West US 2")) // back
		r.acct.ResetLog()
		for range 3 {
			assert.Equal(t, http.StatusOK, r.upsert(t, pk))
		}
		assert.Equal(t, map[string]int{"East US 403": 1, "West US 2 200": 3}, writesOf(r.acct, "1"), "one refusal in East US, then home")

		require.NoError(t, r.acct.FailoverRange("p", "c", "1", "East US"))
		require.Equal(t, http.StatusOK, r.upsert(t, pk))
		require.Equal(t, http.StatusOK, r.upsert(t, pk))
		r.acct.ResetLog()
		time.Sleep(6 * time.Minute) // the bubble's clock: past the five minutes a range's region is kept
		assert.Equal(t, http.StatusOK, r.upsert(t, pk))
		assert.Equal(t, map[string]int{"West US 2 403": 1, "East US 200": 1}, writesOf(r.acct, "1"), "forgotten: the write region first")
		assert.Zero(t, len(entries(r.acct, isAccountRead)))
	})
}

// A tracked write that meets a doubt in the region its range moved to is
// settled there and never runs twice: an upsert reads its item back there
// before anything else; a create is resent there (its 409 then read
// back), not moved on. The region it succeeded in is where the range's
// next write goes.
func TestPerPartitionFailoverSettlesADoubtWhereTheWriteWent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		create bool
		status int
		writes map[string]int
	}{
		{"upsert", false, http.StatusOK, map[string]int{"West US 2 403": 1, "East US 0": 1}},
		{"create", true, http.StatusCreated, map[string]int{"West US 2 403": 1, "East US 0": 1, "East US 409": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inPartitionFailoverRig(t, true, Options{Retry: policy.RetryOptions{TrackWrites: true}}, func(t *testing.T, r *partitionRig) {
				pk, id := r.keys["1"][0], r.keys["1"][0]
				header := []string{"X-Ms-Documentdb-Is-Upsert", "true"}
				if tt.create {
					id, header = "new", nil
				}
				require.NoError(t, r.acct.FailoverRange("p", "c", "1", "East US"))
				r.acct.Inject("East US", cosmostest.Fault{DropAfterCommit: true, Container: "p/c", Range: "1", Ops: cosmostest.WriteOps, Count: 1})
				before := r.acct.Commits("p", "c", id)
				r.acct.ResetLog()
				resp := r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+id+`","pk":"`+pk+`"}`, pk, header...)
				assert.Equal(t, tt.status, resp.StatusCode, "the read-back found the call's own write")
				assert.Equal(t, before+1, r.acct.Commits("p", "c", id), "run once")
				var readBacks []string
				for _, e := range r.acct.Log() {
					if e.Method == http.MethodGet && strings.HasSuffix(e.Path, "/docs/"+id) {
						readBacks = append(readBacks, e.Region)
					}
				}
				assert.Equal(t, []string{"East US"}, readBacks, "read back where the write went")
				assert.Equal(t, tt.writes, writesOf(r.acct, "1"), "refused, dropped after its commit, settled in East US")

				synctest.Wait()
				r.acct.ResetLog()
				assert.Equal(t, http.StatusOK, r.upsert(t, pk))
				assert.Equal(t, map[string]int{"East US 200": 1}, writesOf(r.acct, "1"), "the settled write taught the range's region")
			})
		})
	}
}

// A range answering 503 in the write region while the service has not
// moved it: the write tries the range's other regions once (each refuses
// with 403.3), then writes as the account's writes do, retrying in place,
// with no look-up and no failover's spacing.
func TestPerPartitionFailoverA503ThatIsNotAMove(t *testing.T) {
	inPartitionFailoverRig(t, true, Options{}, func(t *testing.T, r *partitionRig) {
		r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Container: "p/c", Range: "1", Ops: cosmostest.WriteOps})
		r.acct.ResetLog()
		start := time.Now()
		assert.Equal(t, http.StatusServiceUnavailable, r.upsert(t, r.keys["1"][0]))
		t.Logf("returned after %s of backoff", time.Since(start))
		assert.Equal(t, map[string]int{"West US 2 503": 4, "East US 403": 1, "North Europe 403": 1}, writesOf(r.acct, "1"))
		assert.Zero(t, len(entries(r.acct, isAccountRead)))
		assert.Less(t, time.Since(start), time.Second, "the 503s' backoff only")
	})
}

// In an account with per-partition failover a range whose circuit tripped
// in the write region has its writes sent to its next region first (in a
// plain single-write account a partition circuit never moves a write).
func TestPerPartitionFailoverATrippedRangesWritesGoElsewhereFirst(t *testing.T) {
	inPartitionFailoverRig(t, true, Options{Partitions: policy.PartitionOptions{ConsecutiveFailures: 3}}, func(t *testing.T, r *partitionRig) {
		r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Container: "p/c", Range: "1", Ops: cosmostest.WriteOps, Count: 3})
		r.acct.ResetLog()
		for range 3 {
			assert.Equal(t, http.StatusInternalServerError, r.upsert(t, r.keys["1"][0]), "a write's 500 is returned")
		}
		synctest.Wait()
		require.Len(t, newStatus(r).OpenPartitions, 1, "tripped")
		require.NoError(t, r.acct.FailoverRange("p", "c", "1", "East US"))
		assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["1"][0]))
		assert.Equal(t, http.StatusOK, r.upsert(t, r.keys["0"][0]))
		assert.Equal(t, map[string]int{"West US 2 500": 3, "East US 200": 1}, writesOf(r.acct, "1"), "no failed attempt first")
		assert.Equal(t, map[string]int{"West US 2 200": 1}, writesOf(r.acct, "0"))
	})
}
