package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// createAt sends an unsigned create to base (the global or a regional
// endpoint of the account).
func createAt(t *testing.T, ctx context.Context, rt http.RoundTripper, base, id string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/dbs/d/colls/c/docs",
		strings.NewReader(`{"id":"`+id+`"}`))
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func refusedWrites(acct *cosmostest.Account, region string) int {
	return len(entries(acct, func(e cosmostest.Entry) bool {
		return e.Write && e.Region == region && e.Status == http.StatusForbidden
	}))
}

// newTransport builds the default chain for acct; the account's key signs,
// and the account is read on demand only (no background refresh) unless o
// asks otherwise.
func newTransport(t *testing.T, acct *cosmostest.Account, o Options) *Transport {
	t.Helper()
	o.Endpoint, o.Key = acct.Endpoint(), acct.Key()
	if o.RefreshInterval == 0 {
		o.RefreshInterval = -1
	}
	rt, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close() })
	return rt
}

// TestFailoverWriteToARegionalURLBeforeTheAccountIsKnown: a write
// addressed to a regional endpoint is the account's (host rule): it loads
// the account and goes to the write region it names.
func TestFailoverWriteToARegionalURLBeforeTheAccountIsKnown(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	old := acct.WriteRegion()
	require.NoError(t, acct.Failover("East US"))
	rt := newTransport(t, acct, Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	code, err := createAt(t, ctx, rt, acct.RegionEndpoint(old), "r")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "r"))
	assert.Zero(t, refusedWrites(acct, old), "the account was known before the first attempt")
	assert.Len(t, entries(acct, isAccountRead), 1)
}

// TestFailoverConcurrentWritersAddressedToARegionalURL: 100 writers, all
// addressed to the old write region's URL, across a failover.
func TestFailoverConcurrentWritersAddressedToARegionalURL(t *testing.T) {
	for _, addressed := range []string{"global", "regional"} {
		t.Run(addressed, func(t *testing.T) {
			acct := cosmostest.NewAccount(cosmostest.Options{})
			defer acct.Close()
			old := acct.WriteRegion()
			base := acct.Endpoint()
			if addressed == "regional" {
				base = acct.RegionEndpoint(old)
			}
			rt := newTransport(t, acct, Options{})
			code, err := createAt(t, context.Background(), rt, base, "warm")
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, code)

			require.NoError(t, acct.Failover("North Europe"))
			acct.ResetLog()
			const writers = 100
			codes := make([]int, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					codes[i], _ = createAt(t, ctx, rt, base, fmt.Sprint("w", i))
				})
			}
			wg.Wait()
			lost, dup := 0, 0
			for i, code := range codes {
				n := acct.Commits("d", "c", fmt.Sprint("w", i))
				if code != http.StatusCreated || n == 0 {
					lost++
				}
				if n > 1 {
					dup++
				}
			}
			lookups := len(entries(acct, isAccountRead))
			refused := refusedWrites(acct, old)
			t.Logf("%d writers addressed to the %s endpoint across a failover: %d look-ups, %d lost, %d duplicated, %d attempts refused by %s (%.2f per call)",
				writers, addressed, lookups, lost, dup, refused, old, float64(refused)/writers)
			assert.Zero(t, lost)
			assert.Zero(t, dup)
			assert.Equal(t, 1, lookups, "every call joins the one look-up")
			assert.LessOrEqual(t, refused, writers, "at most one refused attempt per call")
		})
	}
}

// TestFailoverWithoutAnAccountReturns403_3AtOnce: with no Endpoint the
// chain cannot learn the new region; the 403.3 goes back to the caller
// (an SDK above runs its own failover) after one attempt.
func TestFailoverWithoutAnAccountReturns403_3AtOnce(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	old := acct.WriteRegion()
	require.NoError(t, acct.Failover("East US"))
	rt, err := New(Options{})
	require.NoError(t, err)
	defer rt.Close()

	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(acct.RegionEndpoint(old), "/")+"/dbs/d/colls/c/docs",
		strings.NewReader(`{"id":"x"}`))
	require.NoError(t, err)
	require.NoError(t, acct.Sign(req))
	start := time.Now()
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("x-ms-substatus"))
	assert.Equal(t, 1, refusedWrites(acct, old), "never resent to the endpoint that refused it")
	assert.Less(t, time.Since(start), time.Second)
}

// TestFailoverAfterAFailedLookUp: a call that starts while the account
// cannot be read (within the router's back-off after a failed look-up) asks
// again when it meets a 403.3, instead of resending to the refusing region.
func TestFailoverAfterAFailedLookUp(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	require.NoError(t, acct.Failover("East US"))
	acct.SetGlobalStale(true) // the global endpoint forwards writes to the old region: 403.3
	acct.Inject(cosmostest.Global, cosmostest.Fault{Status: 500, Count: 1, Ops: cosmostest.AccountOps})
	rt := newTransport(t, acct, Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	code, err := createAt(t, ctx, rt, acct.Endpoint(), "after-failed-lookup")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "after-failed-lookup"))
	refused := len(entries(acct, func(e cosmostest.Entry) bool { return e.Write && e.Status == http.StatusForbidden }))
	assert.LessOrEqual(t, refused, 1, "one refused attempt, then the region the account names")
	assert.Len(t, entries(acct, isAccountRead), 2, "the failed look-up, then the one the 403.3 asked for")
}

// TestFailoverA403_3NotResentStillTeaches: when the chain returns a 403.3
// instead of resending it (a body it cannot replay, failover resends
// turned off), it still marks the region and looks the account up, so
// that later writes go to the new write region.
func TestFailoverA403_3NotResentStillTeaches(t *testing.T) {
	tests := map[string]struct {
		o    Options
		body func(string) io.Reader // a body without GetBody
	}{
		"unreplayable body":        {Options{Retry: policy.RetryOptions{MaxBufferedBody: -1}}, func(s string) io.Reader { return io.NopCloser(strings.NewReader(s)) }},
		"failover resends off":     {Options{Retry: policy.RetryOptions{MaxFailoverWait: -1}}, func(s string) io.Reader { return strings.NewReader(s) }},
		"body over the buffer cap": {Options{Retry: policy.RetryOptions{MaxBufferedBody: 8}}, func(s string) io.Reader { return io.NopCloser(strings.NewReader(s)) }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			acct := cosmostest.NewAccount(cosmostest.Options{})
			defer acct.Close()
			old := acct.WriteRegion()
			rt := newTransport(t, acct, tt.o)
			send := func(id string) int {
				req, err := http.NewRequest(http.MethodPost, acct.Endpoint()+"dbs/d/colls/c/docs", tt.body(`{"id":"`+id+`"}`))
				require.NoError(t, err)
				resp, err := rt.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				return resp.StatusCode
			}
			require.Equal(t, http.StatusCreated, send("warm"))
			require.NoError(t, acct.Failover("East US"))
			acct.ResetLog()

			assert.Equal(t, http.StatusForbidden, send("refused"), "returned, not resent")
			require.Eventually(t, func() bool { return len(entries(acct, isAccountRead)) == 1 }, 5*time.Second, time.Millisecond,
				"the 403.3 started a look-up")
			require.Eventually(t, func() bool { w, _ := rt.router.WriteEndpoint(); return w.Host != hostOf(acct.RegionEndpoint(old)) },
				5*time.Second, time.Millisecond)
			created := 0
			for i := range 20 {
				if send(fmt.Sprint("later", i)) == http.StatusCreated {
					created++
				}
			}
			assert.Equal(t, 20, created, "later writes go to the new write region")
			assert.Equal(t, 1, refusedWrites(acct, old))
		})
	}
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

// refusing is a Base that refuses connections to some hosts, as a region
// that is down does.
type refusing struct {
	next http.RoundTripper
	mu   sync.Mutex
	down map[string]bool
}

func (r *refusing) set(host string, down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down[host] = down
}

func (r *refusing) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	down := r.down[req.URL.Host]
	r.mu.Unlock()
	if down {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return r.next.RoundTrip(req)
}

func (r *refusing) CloseIdleConnections() { wire.CloseIdle(r.next) }

// TestFailoverUnreachableWriteRegionTriggersALookUp: the write region
// refuses connections and the service fails the account over: the chain
// marks the region, looks the account up and writes go on.
func TestFailoverUnreachableWriteRegionTriggersALookUp(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	old := acct.WriteRegion()
	base := &refusing{next: http.DefaultTransport.(*http.Transport).Clone(), down: map[string]bool{}}
	defer base.CloseIdleConnections()
	rt := newTransport(t, acct, Options{Base: base})
	code, err := createAt(t, context.Background(), rt, acct.Endpoint(), "warm")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)

	base.set(hostOf(acct.RegionEndpoint(old)), true)
	require.NoError(t, acct.Failover("East US"))
	acct.ResetLog()
	created := 0
	for i := range 10 {
		code, err := createAt(t, context.Background(), rt, acct.Endpoint(), fmt.Sprint("u", i))
		if err == nil && code == http.StatusCreated {
			created++
		}
		assert.LessOrEqual(t, acct.Commits("d", "c", fmt.Sprint("u", i)), 1)
	}
	assert.Equal(t, 10, created)
	assert.GreaterOrEqual(t, len(entries(acct, isAccountRead)), 1, "the refused connections started a look-up")
}

// TestFailoverLookUpFallsBackToRegionalEndpoints: the global endpoint
// cannot serve the DatabaseAccount; a known regional endpoint does.
func TestFailoverLookUpFallsBackToRegionalEndpoints(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	rt := newTransport(t, acct, Options{})
	code, err := createAt(t, context.Background(), rt, acct.Endpoint(), "warm")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)

	acct.Inject(cosmostest.Global, cosmostest.Fault{Status: 503, Ops: cosmostest.AccountOps})
	require.NoError(t, acct.Failover("North Europe"))
	acct.ResetLog()
	code, err = createAt(t, context.Background(), rt, acct.Endpoint(), "during")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code)
	assert.Equal(t, 1, acct.Commits("d", "c", "during"))
	regional := entries(acct, func(e cosmostest.Entry) bool { return isAccountRead(e) && e.Region != cosmostest.Global })
	assert.NotEmpty(t, regional, "the document was read from a regional endpoint")
}

// TestFailoverKeyRotation: look-ups signed with a stale key fail (and
// Status says so); once the key is updated in place, the chain routes.
func TestFailoverKeyRotation(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	key, err := region.NewMasterKey("b2xkIGtleSwgcm90YXRlZCBhd2F5")
	require.NoError(t, err)
	rt, err := New(Options{Endpoint: acct.Endpoint(), Credential: key, RefreshInterval: -1})
	require.NoError(t, err)
	defer rt.Close()

	code, err := createAt(t, context.Background(), rt, acct.Endpoint(), "stale")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code)
	st := rt.Status()
	assert.False(t, st.Account.Loaded)
	assert.Contains(t, st.Account.LastError, "401")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", st, key, key), "b2xk", "no key in the status or the credential's print")

	require.NoError(t, key.Update(acct.Key()))
	code, err = createAt(t, context.Background(), rt, acct.Endpoint(), "rotated")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, code, "signed with the new key")
}

// multiWrite is a multi-write account and a chain that prefers East US,
// then North Europe; West US 2 is the hub.
type multiWrite struct {
	acct *cosmostest.Account
	base *refusing
	rt   *Transport
}

func newMultiWrite(t *testing.T) multiWrite {
	acct := cosmostest.NewAccount(cosmostest.Options{MultipleWriteLocations: true})
	t.Cleanup(acct.Close)
	base := &refusing{next: http.DefaultTransport.(*http.Transport).Clone(), down: map[string]bool{}}
	t.Cleanup(base.CloseIdleConnections)
	rt := newTransport(t, acct, Options{
		Base:             base,
		PreferredRegions: []string{"East US", "North Europe"},
		Breaker:          policy.BreakerOptions{ConsecutiveFailures: 2},
	})
	return multiWrite{acct, base, rt}
}

func (m multiWrite) create(t *testing.T, id string) int {
	t.Helper()
	code, err := createAt(t, context.Background(), m.rt, m.acct.Endpoint(), id)
	require.NoError(t, err)
	return code
}

func (m multiWrite) writesTo(region string) []cosmostest.Entry {
	return entries(m.acct, func(e cosmostest.Entry) bool { return e.Write && e.Region == region })
}

// TestMultiWriteRoutesToThePreferredWriteRegionAndMovesOn: in a
// multi-write account, writes go to the first preferred write region with
// tentative writes allowed, and move to the next write region on 503,
// on a refused connection and on an open circuit.
func TestMultiWriteRoutesToThePreferredWriteRegionAndMovesOn(t *testing.T) {
	t.Run("preferred region, tentative", func(t *testing.T) {
		m := newMultiWrite(t)
		require.Equal(t, http.StatusCreated, m.create(t, "m0"))
		east := m.writesTo("East US")
		require.Len(t, east, 1, "the first preferred write region, not the hub")
		assert.True(t, east[0].Tentative, "tentative writes allowed")
		assert.Equal(t, 1, m.acct.Commits("d", "c", "m0"))
	})

	t.Run("503", func(t *testing.T) {
		m := newMultiWrite(t)
		m.acct.Inject("East US", cosmostest.Fault{Status: 503, Count: 1, Ops: cosmostest.WriteOps})
		assert.Equal(t, http.StatusCreated, m.create(t, "m503"))
		assert.Len(t, m.writesTo("East US"), 1)
		assert.Len(t, m.writesTo("North Europe"), 1, "the next preferred write region")
		assert.Equal(t, 1, m.acct.Commits("d", "c", "m503"))
	})

	t.Run("open circuit", func(t *testing.T) {
		m := newMultiWrite(t)
		m.acct.Inject("East US", cosmostest.Fault{Status: 500, Count: 2, Ops: cosmostest.WriteOps})
		for i := range 2 { // writes are not retried after a 500; two open the circuit
			require.Equal(t, http.StatusInternalServerError, m.create(t, fmt.Sprint("m500-", i)))
		}
		m.acct.ResetLog()
		assert.Equal(t, http.StatusCreated, m.create(t, "mopen"))
		assert.Empty(t, m.writesTo("East US"), "its circuit is open")
		assert.Len(t, m.writesTo("North Europe"), 1, "the next preferred write region")
		st := m.rt.Status()
		require.Len(t, st.OpenCircuits, 1)
		assert.Equal(t, "http://"+hostOf(m.acct.RegionEndpoint("East US")), st.OpenCircuits[0].Endpoint)
	})

	t.Run("refused connections", func(t *testing.T) {
		m := newMultiWrite(t)
		m.base.set(hostOf(m.acct.RegionEndpoint("East US")), true)
		m.base.set(hostOf(m.acct.RegionEndpoint("North Europe")), true)
		for i := range 3 {
			m.acct.ResetLog()
			assert.Equal(t, http.StatusCreated, m.create(t, fmt.Sprint("down", i)))
			assert.Len(t, m.writesTo("West US 2"), 1, "the write region that is left")
			assert.Equal(t, 1, m.acct.Commits("d", "c", fmt.Sprint("down", i)))
		}
	})
}

// TestStatusShowsAMisspeltPreferredRegion: a preferred region that matches
// nothing is not silently ignored.
func TestStatusShowsAMisspeltPreferredRegion(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	rt := newTransport(t, acct, Options{PreferredRegions: []string{"East US", "Nort Europe"}})
	code, err := createAt(t, context.Background(), rt, acct.Endpoint(), "s")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	st := rt.Status()
	assert.True(t, st.Account.Loaded)
	assert.Equal(t, []string{"Nort Europe"}, st.Account.UnmatchedPreferred)
	require.NotEmpty(t, st.Account.Read)
	assert.Equal(t, "East US", st.Account.Read[0].Region)
	assert.Empty(t, st.OpenCircuits)
}
