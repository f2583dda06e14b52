package account

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClock is an injectable clock for RouterOptions.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestStatusBeforeAndAfterAFailedLookup(t *testing.T) {
	clock := &testClock{now: testNow}
	rt := &fakeAccount{} // answers 500
	r := newTestRouter(t, rt, RouterOptions{Now: clock.Now, PreferredRegions: []string{"Mars"}})
	assert.Equal(t, Status{}, r.Status(), "nothing before the first look-up")

	clock.advance(time.Minute)
	require.Error(t, r.ensure(t.Context()))
	s := r.Status()
	assert.False(t, s.Loaded)
	assert.Equal(t, testNow.Add(time.Minute), s.LastLookup)
	assert.Contains(t, s.LastError, "500")
	assert.Nil(t, s.UnmatchedPreferred, "no account to judge the preferences by")
	rt.mu.Lock()
	auth := rt.auth[0]
	rt.mu.Unlock()
	assert.NotContains(t, s.LastError, auth)
	assert.NotContains(t, s.LastError, testVectorKey)

	rt.set(accountDocFor([]string{"A"}, nil), nil)
	clock.advance(time.Minute)
	require.NoError(t, r.refresh(t.Context(), r.epoch()))
	s = r.Status()
	assert.True(t, s.Loaded)
	assert.Empty(t, s.LastError, "the last look-up succeeded")
	assert.Equal(t, testNow.Add(2*time.Minute), s.LastLookup)
}

func TestStatusShowsRoutesMarksAndUnmatchedPreferences(t *testing.T) {
	clock := &testClock{now: testNow}
	doc := strings.Replace(accountDocFor([]string{"West US", "East US"}, []string{"West US", "East US", "North Europe"}),
		`{`, `{"enableMultipleWriteLocations": true, `, 1)
	rt := &fakeAccount{doc: doc}
	r := newTestRouter(t, rt, RouterOptions{Now: clock.Now, MarkTTL: time.Minute,
		PreferredRegions: []string{" east us ", "Wset US", "north europe", "wset us", "Mars"}})
	require.NoError(t, r.ensure(t.Context()))

	r.markUnavailable(regionURL(t, "East US"), true)
	s := r.Status()
	until := testNow.Add(time.Minute)
	assert.Equal(t, Status{
		Loaded:                 true,
		LastLookup:             testNow,
		AccountID:              "contoso",
		MultipleWriteLocations: true,
		Write: []EndpointStatus{
			{"West US", "https://contoso-west-us.documents.azure.com:443", time.Time{}},
			{"East US", "https://contoso-east-us.documents.azure.com:443", until},
		},
		Read: []EndpointStatus{
			{"East US", "https://contoso-east-us.documents.azure.com:443", time.Time{}}, // a write mark only
			{"North Europe", "https://contoso-north-europe.documents.azure.com:443", time.Time{}},
			{"West US", "https://contoso-west-us.documents.azure.com:443", time.Time{}},
		},
		UnmatchedPreferred: []string{"Wset US", "Mars"},
	}, s)

	// The snapshot is a copy.
	s.Write[0].Region = "changed"
	s.UnmatchedPreferred[0] = "changed"
	assert.Equal(t, "West US", r.Status().Write[0].Region)
	assert.Equal(t, "Wset US", r.Status().UnmatchedPreferred[0])

	clock.advance(time.Minute)
	s = r.Status()
	assert.Equal(t, "East US", s.Write[0].Region, "the mark expired")
	assert.Zero(t, s.Write[0].MarkedUntil)
}

func TestStatusIsSafeForConcurrentUse(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A", "B"}, []string{"A", "B"})}
	r := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r.ensure(t.Context()))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				s := r.Status()
				assert.True(t, s.Loaded)
				assert.Len(t, s.Write, 2)
				r.markUnavailable(regionURL(t, []string{"A", "B"}[i%2]), i < 2)
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			assert.NoError(t, r.refresh(t.Context(), r.epoch()))
		}
	})
	wg.Wait()
}
