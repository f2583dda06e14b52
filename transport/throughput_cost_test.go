package transport

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/throttle"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// ungoverned are chains whose throughput control does not govern the read
// allocsPerGet and benchmarkGet make: off, with a group the read does not
// join, and with a range held in another container.
func ungoverned(t testing.TB) map[string]*http.Client {
	off := Options{Throughput: policy.ThroughputOptions{NoHold: true}}
	groups := Options{Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{{Name: "batch", TargetRU: 100}}}}
	held := newMemChain(t, Options{})
	th := held.Transport.(*Transport).retry.throttle
	var s throttle.Slot
	th.Reserve(throttle.Call{Key: throttle.Key{Container: "dbs/d/colls/other", Range: "0", Host: "acct-westus.documents.azure.com"}}, &s)
	th.Settle(&s, throttle.Answer{Status: http.StatusTooManyRequests, SubStatus: 3200, Hint: time.Hour, Range: "0"})
	if !th.Holding() {
		t.Fatal("no range held")
	}
	return map[string]*http.Client{"off": newMemChain(t, off), "groups": newMemChain(t, groups), "held elsewhere": held}
}

// TestThroughputControlCostsAnUngovernedCallNoAllocations: a read that
// joins no group costs the same allocations whether throughput control is
// off, has groups, or holds a range of another container.
func TestThroughputControlCostsAnUngovernedCallNoAllocations(t *testing.T) {
	skipUnderRace(t)
	cs := ungoverned(t)
	off := allocsPerGet(t, cs["off"])
	assert.Equal(t, off, allocsPerGet(t, cs["groups"]), "groups configured")
	assert.Equal(t, off, allocsPerGet(t, cs["held elsewhere"]), "a range held in another container")
}

// BenchmarkUngovernedRead compares the cost of a read that joins no group
// with throughput control off, with groups configured, and with a range
// held in another container (the read then looks its range up).
func BenchmarkUngovernedRead(b *testing.B) {
	for _, name := range []string{"off", "groups", "held elsewhere"} {
		b.Run(name, func(b *testing.B) {
			c := ungoverned(b)[name]
			req, _ := http.NewRequest(http.MethodGet, "http://acct.documents.azure.com/dbs/d/colls/c/docs/1", nil)
			req.Header.Set("Authorization", "type%3Dmaster%26ver%3D1.0%26sig%3Dx")
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkUngovernedPath measures what throughput control adds to a call
// that joins no group, alone: finding its pacing, pacing its attempt and
// settling its answer, with nothing held ("idle") and with a range of
// another container held ("held elsewhere": the attempt then looks its
// range up and finds no hold).
func BenchmarkUngovernedPath(b *testing.B) {
	for _, name := range []string{"off", "groups", "held elsewhere"} {
		b.Run(name, func(b *testing.B) {
			c := ungoverned(b)[name]
			r := c.Transport.(*Transport).retry
			req, _ := http.NewRequest(http.MethodGet, "http://acct.documents.azure.com/dbs/d/colls/c/docs/1", nil)
			req.Header.Set("X-Ms-Documentdb-Partitionkey", `["a"]`)
			cl := call{req: req, desc: wire.Describe(req)}
			cl.route = account.NewRoute(req.Context(), r.router, r.policy, req, &cl.desc, nil)
			resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"X-Ms-Request-Charge": {"1"}}}
			ctx := req.Context()
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if cl.pacing, err = r.pacingOf(&cl, RequestOptions{}); err != nil {
					b.Fatal(err)
				}
				if err := r.pace(ctx, &cl); err != nil {
					b.Fatal(err)
				}
				r.settlePace(&cl, resp, nil)
			}
		})
	}
}
