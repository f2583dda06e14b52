package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// partitionRig is an account with a container partitioned by /pk, and a
// chain over it. keys holds, for each of the container's two ranges, a
// few partition key values whose items live there, each item created.
type partitionRig struct {
	acct *cosmostest.Account
	c    *http.Client
	keys map[string][]string // range id → partition key values
}

func newPartitionRig(t *testing.T, acctOpts cosmostest.Options, o Options) *partitionRig {
	t.Helper()
	acct := cosmostest.NewAccount(acctOpts)
	t.Cleanup(acct.Close)
	return partitionRigOn(t, acct, o)
}

// partitionRigOn is newPartitionRig over an account the caller made.
func partitionRigOn(t *testing.T, acct *cosmostest.Account, o Options) *partitionRig {
	t.Helper()
	r := &partitionRig{acct: acct, c: newChain(t, acct, o), keys: map[string][]string{}}
	r.must(t, http.MethodPost, "/dbs", `{"id":"p"}`, "", http.StatusCreated)
	r.must(t, http.MethodPost, "/dbs/p/colls", `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`, "", http.StatusCreated)
	for i := 0; len(r.keys["0"]) < 3 || len(r.keys["1"]) < 3; i++ {
		require.Less(t, i, 200, "keys in both ranges")
		pk := fmt.Sprint("k", i)
		resp := r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`"}`, pk)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		rng := resp.Header.Get("X-Ms-Documentdb-Partitionkeyrangeid")
		r.keys[rng] = append(r.keys[rng], pk)
	}
	acct.ResetLog()
	return r
}

func (r *partitionRig) send(t *testing.T, ctx context.Context, method, path, body, pk string, header ...string) *http.Response {
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

func (r *partitionRig) must(t *testing.T, method, path, body, pk string, want int, header ...string) {
	t.Helper()
	require.Equal(t, want, r.send(t, context.Background(), method, path, body, pk, header...).StatusCode, "%s %s", method, path)
}

// One partition answering 500 in a one-region account while workers read
// it and others read and write healthy partitions: no healthy call fails.
// (The endpoint's circuit used to open on that one range's 500s and fail
// 677 of 679 healthy calls for its open period.)
func TestOnePartitionsFailuresNeverFailHealthyCalls(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, Options{})
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Container: "p/c", Range: "1"})

	var healthy, failedHealthy, poisoned atomic.Int64
	var wg sync.WaitGroup
	for w := range 10 { // readers of the poisoned range
		wg.Go(func() {
			for i := range 20 {
				pk := r.keys["1"][(w+i)%len(r.keys["1"])]
				resp := r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk)
				if resp.StatusCode == http.StatusInternalServerError {
					poisoned.Add(1)
				}
			}
		})
	}
	for w := range 2 { // readers and writers of the healthy range
		wg.Go(func() {
			for i := range 60 {
				pk := r.keys["0"][(w+i)%len(r.keys["0"])]
				status := r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode
				if i%3 == 0 {
					status = r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`","n":`+fmt.Sprint(i)+`}`, pk,
						"X-Ms-Documentdb-Is-Upsert", "true").StatusCode
					if status == http.StatusOK || status == http.StatusCreated {
						status = http.StatusOK
					}
				}
				healthy.Add(1)
				if status != http.StatusOK {
					failedHealthy.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d healthy calls, %d failed; %d poisoned reads answered 500", healthy.Load(), failedHealthy.Load(), poisoned.Load())
	assert.Zero(t, failedHealthy.Load())
	assert.Equal(t, int64(200), poisoned.Load(), "the poisoned range's reads get its answer: nowhere else to go")
}

// One partition answering 500 in West US 2 of a two-region account: the
// healthy ranges' reads stay in their preferred region (the endpoint's
// circuit used to open and send 140 of 150 of them to East US), and once
// the range trips its own reads go to East US first, without a failed
// attempt in West US 2.
func TestOnePartitionsFailuresMoveOnlyItsReads(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) { onePartitionFailsInOneRegion(t, status) })
	}
}

// onePartitionFailsInOneRegion is TestOnePartitionsFailuresMoveOnlyItsReads
// with the failing range answering status. (A 503 used to mark the whole
// region for reads.)
func onePartitionFailsInOneRegion(t *testing.T, status int) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}}, Options{PreferredRegions: []string{"West US 2", "East US"}})
	r.acct.Inject("West US 2", cosmostest.Fault{Status: status, Container: "p/c", Range: "1"})

	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 5 { // readers of the poisoned range
		wg.Go(func() {
			for i := range 30 {
				pk := r.keys["1"][(w+i)%len(r.keys["1"])]
				if r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	for w := range 3 { // readers of the healthy range
		wg.Go(func() {
			for i := range 50 {
				pk := r.keys["0"][(w+i)%len(r.keys["0"])]
				if r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()

	var healthyWest, healthy, poisoned500s int
	for _, e := range r.acct.Log() {
		if e.Method != http.MethodGet || !strings.Contains(e.Path, "/docs/") {
			continue
		}
		switch {
		case e.Range == "0":
			healthy++
			if e.Region == "West US 2" {
				healthyWest++
			}
		case e.Range == "1" && e.Status == status:
			poisoned500s++
		}
	}
	t.Logf("%d of %d healthy reads in West US 2; the poisoned range met %d %ds for 150 reads", healthyWest, healthy, poisoned500s, status)
	assert.Zero(t, failed.Load(), "every read answered: the poisoned ones by East US")
	assert.Equal(t, 150, healthy)
	assert.Equal(t, healthy, healthyWest, "healthy reads stay in their preferred region")
	assert.LessOrEqual(t, poisoned500s, 10+5, "the trip after 10, plus the reads in flight when it tripped")
	assert.NotEmpty(t, newStatus(r).OpenPartitions)
}

// newStatus is the chain's Status, through the rig's client.
func newStatus(r *partitionRig) Status {
	return r.c.Transport.(*Transport).Status()
}

// Once the fault clears, one test of the region for the range after the
// open period (a probe) closes the circuit, and the range's reads come
// back to their preferred region.
func TestATrippedRangeComesBackAfterOneTest(t *testing.T) {
	r, read := tripRangeOne(t, 50*time.Millisecond, 5, false)
	r.acct.ClearFaults("West US 2")
	r.acct.ResetLog()
	cleared := time.Now()
	deadline := time.Now().Add(5 * time.Second)
	for len(newStatus(r).OpenPartitions) > 0 {
		require.True(t, time.Now().Before(deadline), "the circuit closes")
		read()
	}
	t.Logf("closed %s after the fault cleared", time.Since(cleared).Round(time.Millisecond))
	r.acct.ResetLog()
	for range 5 {
		read()
	}
	for _, e := range r.acct.Log() {
		if e.Method == http.MethodGet && e.Path != "/" {
			assert.Equal(t, "West US 2", e.Region, "back in the preferred region")
		}
	}
}

// A range that splits while readers and writers use both ranges fails no
// call: point operations name their key, and the chain reads the new
// ranges when one of them fails.
func TestASplitUnderLoadFailsNoCall(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{}, Options{})
	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 40 {
				rng := fmt.Sprint(w % 2)
				pk := r.keys[rng][(w+i)%len(r.keys[rng])]
				status := r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode
				if i%4 == 0 {
					status = r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`"}`, pk,
						"X-Ms-Documentdb-Is-Upsert", "true").StatusCode
					if status == http.StatusCreated {
						status = http.StatusOK
					}
				}
				if status != http.StatusOK {
					failed.Add(1)
				}
				if w == 0 && i == 20 {
					assert.NoError(t, r.acct.Split("p", "c", "1"))
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, failed.Load())
}

// In a multi-write account, a range tripped in its first write region has
// its writes sent to the next write region first; other ranges' writes
// stay where they were.
func TestATrippedRangesWritesMoveInAMultiWriteAccount(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}, MultipleWriteLocations: true},
		Options{PreferredRegions: []string{"West US 2", "East US"}, Partitions: policy.PartitionOptions{ConsecutiveFailures: 3}})
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Container: "p/c", Range: "1", Ops: cosmostest.WriteOps})
	upsert := func(pk string) int {
		return r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`"}`, pk,
			"X-Ms-Documentdb-Is-Upsert", "true").StatusCode
	}
	for i := range 10 {
		assert.Equal(t, http.StatusOK, upsert(r.keys["1"][i%len(r.keys["1"])]), "the failing range's write %d lands in East US", i)
	}
	for i := range 5 {
		assert.Equal(t, http.StatusOK, upsert(r.keys["0"][i%len(r.keys["0"])]))
	}
	var west503s, healthyWest, healthy int
	for _, e := range r.acct.Log() {
		if !e.Write || e.Path == "/" {
			continue
		}
		switch e.Range {
		case "1":
			if e.Region == "West US 2" && e.Status == http.StatusServiceUnavailable {
				west503s++
			}
		case "0":
			healthy++
			if e.Region == "West US 2" {
				healthyWest++
			}
		}
	}
	assert.Equal(t, 3, west503s, "the trip, then no failed attempt first")
	assert.Equal(t, healthy, healthyWest, "the healthy range's writes stay in West US 2")
}

// Once a tripped range's open period is over, the chain tests the region
// for it with a probe of its own (a point read of an id no item has, under
// a key of the range), one at a time: while the fault lasts, no read
// of the range meets it again, every one answered by East US; once it
// clears, a probe's 404 closes the circuit and the reads come back.
func TestAProbeTestsATrippedRangeSoNoReadPaysForIt(t *testing.T) {
	// A probe needs a key of the range: the container's ranges, read in
	// the background, are waited for first.
	r, read := tripRangeOne(t, 20*time.Millisecond, 3, true)
	r.acct.ResetLog()

	isProbe := func(e cosmostest.Entry) bool { return strings.Contains(e.Path, "/docs/cosmosrt-probe-") }
	westReads := func() (probes, reads []cosmostest.Entry) {
		for _, e := range r.acct.Log() {
			if e.Method == http.MethodGet && e.Region == "West US 2" && strings.Contains(e.Path, "/docs/") {
				if isProbe(e) {
					probes = append(probes, e)
				} else {
					reads = append(reads, e)
				}
			}
		}
		return probes, reads
	}
	deadline := time.Now().Add(5 * time.Second)
	for probes, _ := westReads(); len(probes) < 3; probes, _ = westReads() {
		require.True(t, time.Now().Before(deadline), "probes test the region")
		read()
	}
	probes, reads := westReads()
	assert.Empty(t, reads, "no read of the range went to West US 2 while it failed")
	for _, p := range probes {
		assert.Equal(t, "1", p.Range, "a probe reaches the range it tests")
		assert.Equal(t, http.StatusInternalServerError, p.Status)
	}
	require.Len(t, newStatus(r).OpenPartitions, 1, "each failed probe opened it again")

	r.acct.ClearFaults("West US 2")
	for len(newStatus(r).OpenPartitions) > 0 {
		require.True(t, time.Now().Before(deadline), "the circuit closes")
		read()
	}
	probes, reads = westReads()
	last := probes[len(probes)-1]
	assert.Equal(t, http.StatusNotFound, last.Status, "a probe closed it")
	assert.Zero(t, last.SubStatus)
	for _, e := range reads {
		assert.True(t, e.Time.After(last.Time), "no read went to West US 2 before the probe closed the circuit")
	}
	r.acct.ResetLog()
	read()
	_, reads = westReads()
	assert.Len(t, reads, 1, "the range's reads are back in West US 2")
}

// A range tripped in every region the call may use keeps failing and has
// nowhere better to go: its calls are not retried, so that it does not
// drain the retry budget every other call shares. A healthy range's read
// that meets one 503 afterwards is still retried.
func TestATrippedRangeDoesNotDrainTheRetryBudget(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2"}}, Options{
		Retry: policy.RetryOptions{Budget: policy.BudgetOptions{Tokens: 5, PerSecond: -1}},
	})
	bad, good := r.keys["0"][0], r.keys["1"][0]
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Container: "p/c", Range: "0"})
	read := func(pk string) int {
		return r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode
	}
	for range 12 {
		assert.Equal(t, http.StatusServiceUnavailable, read(bad))
	}
	require.NotEmpty(t, newStatus(r).OpenPartitions, "range 0 tripped")
	for range 10 {
		assert.Equal(t, http.StatusOK, read(good)) // successes refill the budget
	}
	r.acct.ResetLog()
	for range 20 {
		assert.Equal(t, http.StatusServiceUnavailable, read(bad))
	}
	gets, _ := attempts(r.acct, http.MethodGet)
	assert.Equal(t, 20, gets, "one attempt per call of the tripped range")

	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Container: "p/c", Range: "1", Count: 1})
	assert.Equal(t, http.StatusOK, read(good), "the healthy range's 503 is retried: the budget is there")
}

// newRangesRig is newPartitionRig for a container of n ranges (the
// account's InitialRanges): keys holds, for each range, partition key
// values that fall in it, found by reads of an absent item.
func newRangesRig(t *testing.T, acctOpts cosmostest.Options, o Options, n int) *partitionRig {
	t.Helper()
	acctOpts.InitialRanges = n
	acct := cosmostest.NewAccount(acctOpts)
	t.Cleanup(acct.Close)
	r := &partitionRig{acct: acct, c: newChain(t, acct, o), keys: map[string][]string{}}
	r.must(t, http.MethodPost, "/dbs", `{"id":"p"}`, "", http.StatusCreated)
	r.must(t, http.MethodPost, "/dbs/p/colls", `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`, "", http.StatusCreated)
	for i := 0; i < 64*n; i++ {
		pk := fmt.Sprint("k", i)
		resp := r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/absent", "", pk)
		rng := resp.Header.Get("X-Ms-Documentdb-Partitionkeyrangeid")
		if len(r.keys[rng]) < 3 {
			r.keys[rng] = append(r.keys[rng], pk)
			r.must(t, http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+pk+`","pk":"`+pk+`"}`, pk, http.StatusCreated)
		}
	}
	require.Len(t, r.keys, n, "keys in every range")
	acct.ResetLog()
	return r
}

// Three ranges tripped in one region mark it for reads, but only for the
// open period: then their circuits are tested, and a healthy range's
// reads come back (the mark used to last the account's five minutes, with
// the tripped ranges never tested).
func TestThreeTrippedRangesMarkTheRegionOnlyForTheOpenPeriod(t *testing.T) {
	r := newRangesRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}},
		Options{PreferredRegions: []string{"West US 2", "East US"}, Partitions: policy.PartitionOptions{ConsecutiveFailures: 3, OpenTimeout: 50 * time.Millisecond}}, 4)
	read := func(rng string) {
		pk := r.keys[rng][0]
		require.Equal(t, http.StatusOK, r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode)
	}
	for _, rng := range []string{"0", "1", "2"} {
		r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.ReadOps, Container: "p/c", Range: rng})
	}
	for range 4 {
		for _, rng := range []string{"0", "1", "2"} {
			read(rng)
		}
	}
	require.Len(t, newStatus(r).OpenPartitions, 3)
	r.acct.ClearFaults("West US 2")
	deadline := time.Now().Add(3 * time.Second)
	for len(newStatus(r).OpenPartitions) > 0 {
		require.True(t, time.Now().Before(deadline), "the tripped ranges are tested and close: %+v", newStatus(r).OpenPartitions)
		for _, rng := range []string{"0", "1", "2", "3"} {
			read(rng)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.acct.ResetLog()
	read("3")
	gets := entries(r.acct, func(e cosmostest.Entry) bool { return e.Method == http.MethodGet && strings.Contains(e.Path, "/docs/") })
	require.Len(t, gets, 1)
	assert.Equal(t, "West US 2", gets[0].Region, "the healthy range's reads are back in their preferred region")
}

// In a multi-write account, reads of a range that serves reads but fails
// writes in a region neither reset the count of the writes' failures nor
// close their circuit: only a write shows the region takes them again.
func TestReadsNeverCloseACircuitTrippedByWrites(t *testing.T) {
	r := newRangesRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}, MultipleWriteLocations: true},
		Options{PreferredRegions: []string{"West US 2", "East US"}, Partitions: policy.PartitionOptions{ConsecutiveFailures: 3, OpenTimeout: 200 * time.Millisecond},
			Retry: policy.RetryOptions{UnavailableInitial: time.Millisecond, UnavailableMax: 2 * time.Millisecond}}, 2)
	pk := r.keys["0"][0]
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.WriteOps, Container: "p/c", Range: "0"})
	start := time.Now()
	for i := range 30 {
		resp := r.send(t, context.Background(), http.MethodPost, "/dbs/p/colls/c/docs", fmt.Sprintf(`{"id":"w%d","pk":"%s"}`, i, pk), pk)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		require.Equal(t, http.StatusOK, r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode)
		time.Sleep(10 * time.Millisecond)
	}
	periods := int(time.Since(start)/(200*time.Millisecond)) + 1
	var west int
	for _, e := range r.acct.Log() {
		if e.Method == http.MethodPost && e.Region == "West US 2" {
			west++
		}
	}
	assert.LessOrEqual(t, west, 3+periods, "3 to trip, then one write test per open period (reads used to reset the count: 30 of 30)")
}

// A split ends a range: its circuits are forgotten (an open one used to
// stay in Status and count toward its region's mark for good).
func TestASplitForgetsTheCircuitsOfTheRangeItEnds(t *testing.T) {
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}},
		Options{PreferredRegions: []string{"West US 2", "East US"}, Partitions: policy.PartitionOptions{ConsecutiveFailures: 3, OpenTimeout: 50 * time.Millisecond}})
	waitForRanges(t, r)
	pk := r.keys["0"][0]
	read := func() int {
		return r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode
	}
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.ReadOps, Container: "p/c", Range: "0"})
	for range 4 {
		assert.Equal(t, http.StatusOK, read())
	}
	require.Len(t, newStatus(r).OpenPartitions, 1)
	require.NoError(t, r.acct.Split("p", "c", "0"))
	r.acct.ClearFaults("West US 2")
	deadline := time.Now().Add(3 * time.Second)
	for len(newStatus(r).OpenPartitions) > 0 {
		require.True(t, time.Now().Before(deadline), "range 0's circuit is forgotten: %+v", newStatus(r).OpenPartitions)
		assert.Equal(t, http.StatusOK, read())
		time.Sleep(10 * time.Millisecond)
	}
}

// Per-partition failover where the chain cannot learn a write's range
// before its attempt (the container's ranges unreadable): after the write
// region's 403.3 names the range, the write goes straight to the region
// where the range's writes last succeeded, not through the regions
// between (it used to pay a 403.3 in each).
func TestAMovedRangesWriteGoesToItsRememberedRegionNext(t *testing.T) {
	regions := []string{"West US 2", "East US", "North Europe"}
	r := newPartitionRig(t, cosmostest.Options{Regions: regions, PerPartitionFailover: true}, Options{RefreshInterval: -1})
	for _, name := range append(regions, cosmostest.Global) {
		r.acct.Inject(name, cosmostest.Fault{Status: http.StatusInternalServerError, Ops: cosmostest.ReadOps, Container: "p/c"})
	}
	require.NoError(t, r.acct.FailoverRange("p", "c", "0", "North Europe"))
	pk := r.keys["0"][0]
	write := func(id string) []AttemptDiagnostics {
		ctx, d := WithDiagnostics(context.Background())
		resp := r.send(t, ctx, http.MethodPost, "/dbs/p/colls/c/docs", `{"id":"`+id+`","pk":"`+pk+`"}`, pk)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		return d.Attempts()
	}
	write("learn") // West US 2, East US, North Europe
	at := write("next")
	var went []string
	for _, a := range at {
		went = append(went, a.Region)
	}
	assert.Equal(t, []string{"West US 2", "North Europe"}, went)
}

// tripRangeOne builds a two-region rig whose partition circuits trip
// after 3 failures and stay open for open, makes range 1 answer 500 in
// West US 2, and trips it with n reads (each answered by East US in the
// end); waitRanges first waits for the container's ranges. It returns the
// rig and a read of a key of range 1 that must succeed.
func tripRangeOne(t *testing.T, open time.Duration, n int, waitRanges bool) (*partitionRig, func()) {
	t.Helper()
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}},
		Options{PreferredRegions: []string{"West US 2", "East US"}, Partitions: policy.PartitionOptions{ConsecutiveFailures: 3, OpenTimeout: open}})
	if waitRanges {
		waitForRanges(t, r)
	}
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Container: "p/c", Range: "1"})
	pk := r.keys["1"][0]
	read := func() {
		t.Helper()
		require.Equal(t, http.StatusOK, r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode)
	}
	for range n {
		read()
	}
	require.Len(t, newStatus(r).OpenPartitions, 1, "tripped")
	return r, read
}
