package account

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// probedAccount answers from memory: the account (regions A and B), a
// container partitioned by /pk in two ranges, and a document read with
// docStatus. It keeps every request it saw. It is safe for concurrent use.
type probedAccount struct {
	mu        sync.Mutex
	docStatus int
	seen      []*http.Request
}

func (f *probedAccount) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.seen = append(f.seen, req)
	status := f.docStatus
	f.mu.Unlock()
	body := ""
	switch p := strings.Trim(req.URL.Path, "/"); {
	case p == "":
		status, body = http.StatusOK, accountDocFor([]string{"A"}, []string{"A", "B"})
	case p == "dbs/d/colls/c":
		status, body = http.StatusOK, `{"id":"c","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2}}`
	case p == "dbs/d/colls/c/pkranges":
		status, body = http.StatusOK, `{"PartitionKeyRanges":[{"id":"0","minInclusive":"","maxExclusive":"20"},{"id":"1","minInclusive":"20","maxExclusive":"FF"}]}`
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, ContentLength: int64(len(body)),
		Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// probes returns the document reads it saw.
func (f *probedAccount) probes() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.seen {
		if strings.Contains(r.URL.Path, "/docs/") {
			out = append(out, r)
		}
	}
	return out
}

// A probe is a signed point read, in the region it tests, of an id no
// item has, under a key of the range it tests; its 404 closes the
// circuit, its 500 opens it again.
func TestAProbeReadsAnAbsentItemOfTheRangeInItsRegion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &probedAccount{docStatus: http.StatusInternalServerError}
		r := newTestRouter(t, f, RouterOptions{Partitions: policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: time.Second}})
		require.NoError(t, r.ensure(t.Context()))
		b := r.readEndpoints()[1]
		require.Equal(t, "contoso-b.documents.azure.com:443", b.Host)
		r.parts.record("dbs/d/colls/c", "1", b, readFailure)
		r.rangeOf("dbs/d/colls/c", `["x"]`) // loads the container's ranges
		synctest.Wait()

		test := func() {
			t.Helper()
			time.Sleep(1300 * time.Millisecond) // the open period and its jitter
			avoid, probe := r.parts.check("dbs/d/colls/c", "1", b, true)
			require.True(t, avoid)
			require.True(t, probe)
			r.startProbe("dbs/d/colls/c", "1", b)
			synctest.Wait()
		}
		test()
		require.Len(t, f.probes(), 1)
		p := f.probes()[0]
		assert.Equal(t, http.MethodGet, p.Method)
		assert.Equal(t, b.Host, p.URL.Host, "in the region it tests")
		assert.True(t, strings.HasPrefix(p.URL.Path, "/dbs/d/colls/c/docs/cosmosrt-probe-"), p.URL.Path)
		assert.NotEmpty(t, p.Header.Get("Authorization"))
		id, ok := r.ranges.Lookup("dbs/d/colls/c", p.Header.Get(wire.HeaderPartitionKey))
		assert.True(t, ok)
		assert.Equal(t, "1", id, "a key of the range")
		assert.True(t, r.parts.avoid("dbs/d/colls/c", "1", b), "its 500 opened the circuit again")

		f.mu.Lock()
		f.docStatus = http.StatusNotFound
		f.mu.Unlock()
		test()
		assert.Len(t, f.probes(), 2)
		assert.Empty(t, r.PartitionStatus(), "its 404 closed the circuit")
	})
}

// A region the account no longer lists is never probed (nor signed for):
// its circuit is left to a real call's test.
func TestARegionOutsideTheAccountIsNotProbed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &probedAccount{docStatus: http.StatusNotFound}
		r := newTestRouter(t, f, RouterOptions{Partitions: policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: time.Second}})
		require.NoError(t, r.ensure(t.Context()))
		gone := mustURL(t, "https://contoso-z.documents.azure.com:443/")
		r.parts.record("dbs/d/colls/c", "1", gone, readFailure)
		r.rangeOf("dbs/d/colls/c", `["x"]`)
		synctest.Wait()
		time.Sleep(1300 * time.Millisecond)
		_, probe := r.parts.check("dbs/d/colls/c", "1", gone, true)
		require.True(t, probe)
		r.startProbe("dbs/d/colls/c", "1", gone)
		synctest.Wait()
		assert.Empty(t, f.probes())
		avoid, probe := r.parts.check("dbs/d/colls/c", "1", gone, true)
		assert.False(t, avoid, "the next read tests it")
		assert.False(t, probe)
	})
}

// Close ends a probe in flight and waits for it.
func TestCloseEndsAProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		f := &probedAccount{docStatus: http.StatusNotFound}
		held := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if strings.Contains(req.URL.Path, "/docs/") {
				select {
				case <-gate:
				case <-req.Context().Done():
					return nil, req.Context().Err()
				}
			}
			return f.RoundTrip(req)
		})
		r, err := NewRouter(RouterOptions{Endpoint: mustURL(t, testAccountURL), Credential: testKey(t), Transport: held, RefreshInterval: -1,
			Partitions: policy.PartitionOptions{ConsecutiveFailures: 1, OpenTimeout: time.Second}})
		require.NoError(t, err)
		require.NoError(t, r.ensure(context.Background()))
		b := r.readEndpoints()[1]
		r.parts.record("dbs/d/colls/c", "1", b, readFailure)
		r.rangeOf("dbs/d/colls/c", `["x"]`)
		synctest.Wait()
		time.Sleep(1300 * time.Millisecond)
		_, probe := r.parts.check("dbs/d/colls/c", "1", b, true)
		require.True(t, probe)
		r.startProbe("dbs/d/colls/c", "1", b)
		synctest.Wait()
		require.NoError(t, r.Close()) // returns: the probe ended
		assert.Len(t, r.PartitionStatus(), 1, "a probe cut short says nothing")
		close(gate)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
