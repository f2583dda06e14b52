package account

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// accountDocFor returns a DatabaseAccount document of testAccountURL whose
// writable locations are write (in order) and readable locations read;
// region "A" lives at https://contoso-a.documents.azure.com/.
func accountDocFor(write, read []string) string {
	loc := func(names []string) []map[string]string {
		out := []map[string]string{}
		for _, n := range names {
			out = append(out, map[string]string{"name": n,
				"databaseAccountEndpoint": "https://contoso-" + lowerASCII(n) + ".documents.azure.com:443/"})
		}
		return out
	}
	b, _ := json.Marshal(map[string]any{"id": "contoso", "writableLocations": loc(write), "readableLocations": loc(read)})
	return string(b)
}

// fakeAccount is a RoundTripper serving DatabaseAccount look-ups from
// memory, for tests inside a synctest bubble (where a real server cannot
// live). It is safe for concurrent use.
type fakeAccount struct {
	mu    sync.Mutex
	calls int
	doc   string        // the answer; "" means 500
	gate  chan struct{} // when set, a look-up waits for it to close (or its ctx)
	auth  []string      // Authorization headers seen
	hosts []string      // hosts asked, in order
}

func (f *fakeAccount) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.calls++
	f.auth = append(f.auth, req.Header.Get("Authorization"))
	f.hosts = append(f.hosts, req.URL.Hostname())
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	f.mu.Lock()
	doc := f.doc
	f.mu.Unlock()
	status := http.StatusOK
	if doc == "" {
		status = http.StatusInternalServerError
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, ContentLength: -1,
		Body: io.NopCloser(strings.NewReader(doc)), Request: req}, nil
}

func (f *fakeAccount) set(doc string, gate chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doc, f.gate = doc, gate
}

func (f *fakeAccount) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// countAt returns how many look-ups asked host.
func (f *fakeAccount) countAt(host string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hosts {
		if h == host {
			n++
		}
	}
	return n
}

// newTestRouter returns a Router of testAccountURL over rt, without
// background refresh unless o sets one; it is closed when the test ends.
func newTestRouter(t *testing.T, rt http.RoundTripper, o RouterOptions) *Router {
	t.Helper()
	o.Endpoint = mustURL(t, testAccountURL)
	o.Credential = testKey(t)
	o.Transport = rt
	if o.RefreshInterval == 0 {
		o.RefreshInterval = -1
	}
	r, err := NewRouter(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// NewRouter's errors name what is wrong, not the option's field: the
// transport above checks its own options first and names them.
func TestNewRouterValidatesOptions(t *testing.T) {
	for _, tc := range []struct {
		o    RouterOptions
		want string
	}{
		{RouterOptions{Credential: testKey(t)}, "the account endpoint must be an absolute http(s) URL"},
		{RouterOptions{Endpoint: mustURL(t, "/relative"), Credential: testKey(t)}, "the account endpoint must be an absolute http(s) URL"},
		{RouterOptions{Endpoint: mustURL(t, "ftp://contoso.documents.azure.com/"), Credential: testKey(t)}, "the account endpoint must be an absolute http(s) URL"},
		{RouterOptions{Endpoint: mustURL(t, "https://contoso.documents.azure.com:0/"), Credential: testKey(t)}, "the account endpoint must have a port from 1 to 65535, or none"},
		{RouterOptions{Endpoint: mustURL(t, testAccountURL)}, "no credential to sign the account look-ups"},
	} {
		_, err := NewRouter(tc.o)
		assert.EqualError(t, err, tc.want)
	}
}

func TestRouterLoadsLazilyThenRoutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &fakeAccount{doc: accountDocFor([]string{"West US"}, []string{"West US", "East US", "North Europe"})}
		r := newTestRouter(t, rt, RouterOptions{PreferredRegions: []string{"north europe", "East US"}})

		time.Sleep(time.Hour)
		assert.Zero(t, rt.count(), "no I/O before Ensure")
		assert.Nil(t, r.Account())
		_, ok := r.WriteEndpoint()
		assert.False(t, ok)
		assert.Empty(t, r.readEndpoints())

		require.NoError(t, r.ensure(t.Context()))
		require.NoError(t, r.ensure(t.Context()))
		assert.Equal(t, 1, rt.count(), "Ensure loads once")
		assert.Equal(t, uint64(1), r.epoch())

		w, ok := r.WriteEndpoint()
		require.True(t, ok)
		assert.Equal(t, "https://contoso-west-us.documents.azure.com:443/", w.String())
		assert.Equal(t, []string{"north-europe", "east-us", "west-us"}, hosts(r.readEndpoints()))
		assert.Equal(t, "contoso", r.Account().ID)
	})
}

func TestRouterWriteEndpointsOfAMultiWriteAccount(t *testing.T) {
	doc := strings.Replace(accountDocFor([]string{"West US", "East US", "North Europe"}, []string{"West US"}),
		`{`, `{"enableMultipleWriteLocations": true, `, 1)
	rt := &fakeAccount{doc: doc}
	r := newTestRouter(t, rt, RouterOptions{PreferredRegions: []string{"north europe", "East US"}})
	assert.Empty(t, r.writeEndpoints(), "before the account is loaded")
	require.NoError(t, r.ensure(t.Context()))
	require.True(t, r.Account().MultipleWriteLocations)

	eps := r.writeEndpoints()
	assert.Equal(t, []string{"north-europe", "east-us", "west-us"}, hosts(eps))
	w, ok := r.WriteEndpoint()
	require.True(t, ok)
	assert.Same(t, eps[0], w, "WriteEndpoint is the first of WriteEndpoints")
	assert.Same(t, &eps[0], &r.writeEndpoints()[0], "the slice is shared until something changes")

	r.markUnavailable(w, true)
	assert.Equal(t, []string{"east-us", "west-us", "north-europe"}, hosts(r.writeEndpoints()))
	w, _ = r.WriteEndpoint()
	assert.Equal(t, "contoso-east-us.documents.azure.com", w.Hostname())
}

func TestRouterWriteEndpointsOfASingleWriteAccount(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"West US", "East US"}, []string{"West US", "East US"})}
	r := newTestRouter(t, rt, RouterOptions{PreferredRegions: []string{"East US"}})
	require.NoError(t, r.ensure(t.Context()))
	assert.Equal(t, []string{"west-us", "east-us"}, hosts(r.writeEndpoints()), "the write region first, whatever the preference")
	assert.Equal(t, []string{"east-us", "west-us"}, hosts(r.readEndpoints()))
	r.markUnavailable(regionURL(t, "West US"), true)
	assert.Equal(t, []string{"east-us", "west-us"}, hosts(r.writeEndpoints()))
}

func TestRouterMarksExpireWithTheClock(t *testing.T) {
	now := testNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	rt := &fakeAccount{doc: accountDocFor([]string{"A", "B"}, []string{"A", "B"})}
	r := newTestRouter(t, rt, RouterOptions{Now: clock, MarkTTL: time.Minute})
	require.NoError(t, r.ensure(t.Context()))

	a, _ := r.WriteEndpoint()
	r.markUnavailable(a, true)
	b, _ := r.WriteEndpoint()
	assert.Equal(t, "contoso-b.documents.azure.com", b.Hostname())
	r.markUnavailable(b, false)
	assert.Equal(t, []string{"a", "b"}, hosts(r.readEndpoints()))

	advance(time.Minute - time.Nanosecond)
	b, _ = r.WriteEndpoint()
	assert.Equal(t, "contoso-b.documents.azure.com", b.Hostname())
	advance(time.Nanosecond)
	a, _ = r.WriteEndpoint()
	assert.Equal(t, "contoso-a.documents.azure.com", a.Hostname(), "mark expired")
}

func TestRouterMarkTTLDefaultsToFiveMinutes(t *testing.T) {
	now := testNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, []string{"A", "B"})}
	r := newTestRouter(t, rt, RouterOptions{Now: clock})
	require.NoError(t, r.ensure(t.Context()))

	r.markUnavailable(regionURL(t, "A"), false)
	mu.Lock()
	now = now.Add(5*time.Minute - time.Second)
	mu.Unlock()
	assert.Equal(t, []string{"b", "a"}, hosts(r.readEndpoints()))
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	assert.Equal(t, []string{"a", "b"}, hosts(r.readEndpoints()))
}

func TestRouterOwnsWhatTheHostRuleAccepts(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, []string{"A", "B"})}
	r := newTestRouter(t, rt, RouterOptions{})

	owned := []string{
		"https://contoso.documents.azure.com/dbs/d/colls/c/docs",
		"https://CONTOSO.documents.azure.com:443/",
		"https://contoso-a.documents.azure.com/dbs",    // listed by the account
		"https://contoso-b.documents.azure.com:443/",   // listed by the account
		"https://contoso-c.documents.azure.com/",       // a sibling the account does not list
		"https://contoso.documents.azure.com:8443/",    // another port
		"https://contoso-westus.documents.azure.com./", // a trailing dot
	}
	never := []string{
		"http://contoso.documents.azure.com/",         // another scheme
		"https://contoso-a.documents.azure.com.evil/", // look-alike
		"https://evil-documents.azure.com/",           // look-alike
		"https://u@contoso.documents.azure.com/",      // userinfo
		"https://contoso.documents.azure.com:0/",      // port 0
		"https://contoso-a.documents.azure.com:0/",    // port 0
		"https://example.com/",
	}
	check := func(when string) {
		for _, s := range owned {
			assert.True(t, r.Owns(mustURL(t, s)), "%s: %s", when, s)
			assert.True(t, inAccount(mustURL(t, testAccountURL), mustURL(t, s)), s)
		}
		for _, s := range never {
			assert.False(t, r.Owns(mustURL(t, s)), "%s: %s", when, s)
		}
	}
	check("before the account is loaded")
	assert.Zero(t, rt.count(), "Owns does no I/O")
	require.NoError(t, r.ensure(t.Context()))
	check("after")
	assert.False(t, r.Owns(nil))
}

func TestRouterOwnsDoesNotAllocate(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, []string{"A", "B"})}
	r := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r.ensure(t.Context()))
	for _, s := range []string{
		"https://contoso.documents.azure.com:443/dbs/d/colls/c/docs/1", // as RouterOptions.Endpoint spells it
		"https://contoso.documents.azure.com/dbs",
		"https://contoso-b.documents.azure.com:443/dbs",
		"https://evil.example.com/",
	} {
		u := mustURL(t, s)
		assert.Zero(t, testing.AllocsPerRun(100, func() { r.Owns(u) }), s)
	}
}

func TestRouterNeverRoutesToTheGlobalEndpointUnlessListed(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
	r := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r.ensure(t.Context()))
	r.markUnavailable(regionURL(t, "A"), true)
	r.markUnavailable(regionURL(t, "A"), false)
	w, _ := r.WriteEndpoint()
	assert.Equal(t, "contoso-a.documents.azure.com", w.Hostname())
	assert.Equal(t, []string{"a"}, hosts(r.readEndpoints()))
}

func TestRouterAfterCloseKeepsRoutesButLooksNothingUp(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
	r := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r.ensure(t.Context()))
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")

	require.ErrorIs(t, r.refresh(t.Context(), r.epoch()), errClosed)
	assert.Equal(t, 1, rt.count())
	_, ok := r.WriteEndpoint()
	assert.True(t, ok)

	r2 := newTestRouter(t, rt, RouterOptions{})
	require.NoError(t, r2.Close())
	require.ErrorIs(t, r2.ensure(t.Context()), errClosed)
}
