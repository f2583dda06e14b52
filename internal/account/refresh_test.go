package account

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cosmosrt/cosmosrt/region"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRefreshOfManyCallersIsOneLookupAtTheServer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var lookups atomic.Int32
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
		_, port, _ := net.SplitHostPort(r.Host)
		_, _ = io.WriteString(w, loopbackDoc(port, port))
	}))
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport)
	defer tr.CloseIdleConnections()

	r, err := NewRouter(RouterOptions{Endpoint: mustURL(t, srv.URL), Credential: testKey(t), Transport: tr, RefreshInterval: -1})
	require.NoError(t, err)
	defer r.Close()

	seen := r.epoch()
	errs := make(chan error, 100)
	for range 100 {
		go func() { errs <- r.refresh(context.Background(), seen) }()
	}
	<-arrived
	close(release)
	for range 100 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int32(1), lookups.Load())
	w, ok := r.WriteEndpoint()
	require.True(t, ok)
	assert.Equal(t, srv.URL+"/", w.String())
}

func TestRefreshJoinsTheLookupInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil), gate: gate}
		r := newTestRouter(t, rt, RouterOptions{})

		seen := r.epoch()
		var wg sync.WaitGroup
		errs := make([]error, 100)
		for i := range errs {
			wg.Go(func() { errs[i] = r.refresh(t.Context(), seen) })
		}
		synctest.Wait() // all 100 are waiting
		assert.Equal(t, 1, rt.count())
		close(gate)
		wg.Wait()
		for _, err := range errs {
			assert.NoError(t, err)
		}
		assert.Equal(t, 1, rt.count())

		// A look-up that started after seen has completed: no new one.
		require.NoError(t, r.refresh(t.Context(), seen))
		assert.Equal(t, 1, rt.count())
		// A caller that saw the new epoch gets a new look-up.
		require.NoError(t, r.refresh(t.Context(), r.epoch()))
		assert.Equal(t, 2, rt.count())
	})
}

func TestForcedRefreshIsNotSatisfiedByAnOlderLookup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{doc: accountDocFor([]string{"A", "B"}, nil), gate: gate}
		r := newTestRouter(t, rt, RouterOptions{})

		// An ordinary look-up is in flight (it will answer the old account)
		// when writes hit 403.3.
		go func() { _ = r.ensure(t.Context()) }()
		synctest.Wait()
		seen := r.epoch()
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Go(func() { errs[i] = r.refresh(t.Context(), seen) })
		}
		synctest.Wait()
		rt.set(accountDocFor([]string{"B", "A"}, nil), nil) // the failover happened
		close(gate)
		wg.Wait()
		for _, err := range errs {
			assert.NoError(t, err)
		}
		assert.Equal(t, 2, rt.count(), "one more look-up after the older one")
		w, _ := r.WriteEndpoint()
		assert.Equal(t, "contoso-b.documents.azure.com", w.Hostname(), "callers see the new write region")
	})
}

func TestRefreshWaiterWithEndedContextReturnsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil), gate: gate}
		r := newTestRouter(t, rt, RouterOptions{})

		// The impatient caller starts the look-up; another joins it.
		ctx, cancel := context.WithCancel(t.Context())
		impatient := make(chan error, 1)
		go func() { impatient <- r.refresh(ctx, 0) }()
		synctest.Wait()
		patient := make(chan error, 1)
		go func() { patient <- r.ensure(t.Context()) }()
		synctest.Wait()

		cancel()
		synctest.Wait()
		select {
		case err := <-impatient:
			require.ErrorIs(t, err, context.Canceled)
		default:
			t.Fatal("the cancelled caller is still waiting")
		}
		select {
		case <-patient:
			t.Fatal("the other caller returned before the look-up completed")
		default:
		}

		close(gate)
		require.NoError(t, <-patient)
		assert.NotNil(t, r.Account())
		assert.Equal(t, 1, rt.count())
	})
}

func TestEnsureIsSingleFlightAndRetriesAfterAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{gate: gate} // answers 500
		r := newTestRouter(t, rt, RouterOptions{})

		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() { errs[i] = r.ensure(t.Context()) })
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		assert.Equal(t, 1, rt.count())
		for _, err := range errs {
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 500, se.Code)
		}
		assert.Nil(t, r.Account())

		rt.set(accountDocFor([]string{"A"}, nil), nil)
		var se *StatusError
		require.ErrorAs(t, r.ensure(t.Context()), &se, "within 5 s of a failure Ensure answers with it")
		assert.Equal(t, 1, rt.count(), "and starts no look-up")

		time.Sleep(ensureBackoff)
		require.NoError(t, r.ensure(t.Context()))
		assert.Equal(t, 2, rt.count())
	})
}

func TestFailedRefreshKeepsThePreviousAccount(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, []string{"A", "B"})}
	r := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r.ensure(t.Context()))
	before := r.Account()

	for _, bad := range []string{"", `{"writableLocations": [{"name": "X", "databaseAccountEndpoint": "https://evil.example/"}]}`, "garbage"} {
		rt.set(bad, nil)
		err := r.refresh(t.Context(), r.epoch())
		require.Error(t, err)
		assert.Same(t, before, r.Account())
		w, _ := r.WriteEndpoint()
		assert.Equal(t, "contoso-a.documents.azure.com", w.Hostname())
	}
	require.ErrorIs(t, r.refresh(t.Context(), r.epoch()-1), region.ErrBadAccount, "the last look-up's error, no new look-up")
	assert.Equal(t, 4, rt.countAt("contoso.documents.azure.com"))
}

func TestRefreshWithAFutureEpochStillLooksUp(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
	r := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r.refresh(t.Context(), 1000))
	assert.Equal(t, 1, rt.count())
}

// recordForced returns an OnRefresh hook that records whether each look-up
// was forced, and a function returning the record so far.
func recordForced() (hook func(context.Context, bool) (context.Context, func(error)), forced func() []bool) {
	var mu sync.Mutex
	var record []bool
	hook = func(_ context.Context, f bool) (context.Context, func(error)) {
		mu.Lock()
		defer mu.Unlock()
		record = append(record, f)
		return nil, nil
	}
	return hook, func() []bool {
		mu.Lock()
		defer mu.Unlock()
		return append([]bool(nil), record...)
	}
}

func TestPeriodicRefreshRunsEveryIntervalUntilClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
		hook, forced := recordForced()
		r := newTestRouter(t, rt, RouterOptions{RefreshInterval: time.Minute, OnRefresh: hook})

		time.Sleep(time.Minute - time.Second)
		synctest.Wait()
		assert.Equal(t, 0, rt.count(), "the first periodic look-up is one interval after NewRouter")
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 1, rt.count())
		assert.NotNil(t, r.Account())
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 2, rt.count())

		require.NoError(t, r.Close())
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, 2, rt.count(), "no look-up after Close")
		assert.Equal(t, []bool{false, false}, forced())
	})
}

func TestPeriodicRefreshDefaultsToFiveMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
		r, err := NewRouter(RouterOptions{Endpoint: mustURL(t, testAccountURL), Credential: testKey(t), Transport: rt})
		require.NoError(t, err)
		time.Sleep(5*time.Minute - time.Second)
		synctest.Wait()
		assert.Equal(t, 0, rt.count())
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 1, rt.count())
		require.NoError(t, r.Close())
	})
}

func TestStartRefreshReturnsAtOnceAndLooksUpOnTheRoutersGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil), gate: gate}
		r := newTestRouter(t, rt, RouterOptions{})

		seen := r.epoch()
		for range 10 {
			r.startRefresh(t.Context(), seen) // would deadlock the bubble if it waited
		}
		synctest.Wait()
		assert.Equal(t, 1, rt.count(), "one look-up for all")
		assert.Nil(t, r.Account())

		close(gate)
		synctest.Wait()
		assert.NotNil(t, r.Account())
		r.startRefresh(t.Context(), seen)
		synctest.Wait()
		assert.Equal(t, 1, rt.count(), "a look-up that started after seen has completed")
		require.NoError(t, r.refresh(t.Context(), seen), "Refresh with the same seen has the result")

		r.startRefresh(t.Context(), r.epoch())
		synctest.Wait()
		assert.Equal(t, 2, rt.count())
	})
}

func TestStartRefreshQueuesBehindAnOlderLookup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{doc: accountDocFor([]string{"A", "B"}, nil), gate: gate}
		hook, forced := recordForced()
		r := newTestRouter(t, rt, RouterOptions{OnRefresh: hook})

		go func() { _ = r.ensure(t.Context()) }() // answers the old account
		synctest.Wait()
		seen := r.epoch()
		for range 10 {
			r.startRefresh(t.Context(), seen)
		}
		waiter := make(chan error, 1)
		go func() { waiter <- r.refresh(t.Context(), seen) }()
		synctest.Wait()
		assert.Equal(t, 1, rt.count(), "the forced look-up waits for the older one")

		rt.set(accountDocFor([]string{"B", "A"}, nil), nil) // the failover happened
		close(gate)
		synctest.Wait()
		require.NoError(t, <-waiter)
		assert.Equal(t, 2, rt.count(), "exactly one look-up after the older one")
		w, _ := r.WriteEndpoint()
		assert.Equal(t, "contoso-b.documents.azure.com", w.Hostname())
		assert.Equal(t, []bool{false, true}, forced())
	})
}

func TestStartRefreshAfterOrDuringCloseStartsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil), gate: gate}
		r := newTestRouter(t, rt, RouterOptions{})
		go func() { _ = r.ensure(t.Context()) }()
		synctest.Wait()
		r.startRefresh(t.Context(), r.epoch()) // queued behind the look-up in flight
		require.NoError(t, r.Close())          // cancels that one; the queued one never starts
		r.startRefresh(t.Context(), r.epoch())
		synctest.Wait()
		assert.Equal(t, 1, rt.count())
	})
}

func TestForcedRefreshIsNotHeldBackByEnsuresPause(t *testing.T) {
	for _, tt := range []struct {
		name    string
		refresh func(r *Router, ctx context.Context, seen uint64) error
	}{
		{"Refresh", (*Router).refresh},
		{"StartRefresh", func(r *Router, ctx context.Context, seen uint64) error {
			r.startRefresh(ctx, seen)
			return r.refresh(ctx, seen) // joins the look-up just started
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := &fakeAccount{} // answers 500
				r := newTestRouter(t, rt, RouterOptions{})
				require.Error(t, r.ensure(t.Context()))
				assert.Nil(t, r.Account())

				// Within ensure's 5-second pause, a call met 403.3 without
				// an account: it forces a refresh.
				rt.set(accountDocFor([]string{"A"}, nil), nil)
				time.Sleep(time.Second)
				require.Error(t, r.ensure(t.Context()), "Ensure still answers with the failure")
				assert.Equal(t, 1, rt.count())
				require.NoError(t, tt.refresh(r, t.Context(), r.epoch()))
				assert.Equal(t, 2, rt.count())
				w, ok := r.WriteEndpoint()
				require.True(t, ok)
				assert.Equal(t, "contoso-a.documents.azure.com", w.Hostname())
			})
		})
	}
}
