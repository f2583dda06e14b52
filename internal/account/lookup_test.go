package account

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cosmosrt/cosmosrt/region"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// siteFake is a RoundTripper serving DatabaseAccount look-ups from memory
// by host, for tests inside a synctest bubble. A host with a document
// answers 200 with it; a stalled host waits for the request's context;
// any other host answers 503. It records every look-up. It is safe for
// concurrent use.
type siteFake struct {
	mu    sync.Mutex
	docs  map[string]string // by label (see siteLabel)
	stall map[string]bool   // by label
	calls []siteCall
}

type siteCall struct {
	label string
	at    time.Time
	auth  string
}

// siteLabel names a host of testAccountURL: "global" for the account's
// own host, "a" for contoso-a.documents.azure.com.
func siteLabel(host string) string {
	if host == "contoso.documents.azure.com" {
		return "global"
	}
	h := strings.TrimPrefix(host, "contoso-")
	h, _, _ = strings.Cut(h, ".")
	return h
}

func newSiteFake() *siteFake {
	return &siteFake{docs: map[string]string{}, stall: map[string]bool{}}
}

func (f *siteFake) RoundTrip(req *http.Request) (*http.Response, error) {
	label := siteLabel(req.URL.Hostname())
	f.mu.Lock()
	f.calls = append(f.calls, siteCall{label, time.Now(), req.Header.Get("Authorization")})
	doc, stall := f.docs[label], f.stall[label]
	f.mu.Unlock()
	if stall {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	status := http.StatusOK
	if doc == "" {
		status = http.StatusServiceUnavailable
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, ContentLength: -1,
		Body: io.NopCloser(strings.NewReader(doc)), Request: req}, nil
}

// serve sets what label answers: doc (200), "" (503), or a stall.
func (f *siteFake) serve(label, doc string, stall bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[label], f.stall[label] = doc, stall
}

// asked returns the labels asked since the last call to asked, and when
// each was asked, as offsets from since.
func (f *siteFake) asked(since time.Time) (labels []string, at []time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		labels = append(labels, c.label)
		at = append(at, c.at.Sub(since))
	}
	f.calls = nil
	return labels, at
}

func (f *siteFake) auths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.auth)
	}
	return out
}

// loadedRouter returns a router of testAccountURL over f, loaded with the
// account whose writable and readable locations are write and read; then
// every host of f answers 503 and f's log is empty.
func loadedRouter(t *testing.T, f *siteFake, o RouterOptions, write, read []string) *Router {
	t.Helper()
	f.serve("global", accountDocFor(write, read), false)
	r := newTestRouter(t, f, o)
	require.NoError(t, r.ensure(t.Context()))
	f.serve("global", "", false)
	f.asked(time.Time{})
	return r
}

func TestLookupAsksRegionalEndpointsInOrderAndBounded(t *testing.T) {
	tests := []struct {
		name        string
		write, read []string
		preferred   []string
		mark        string // marked unavailable for reads
		want        []string
	}{
		{"reads by preference, then writes", []string{"W"}, []string{"B", "C"}, []string{"C"}, "", []string{"global", "c", "b", "w"}},
		{"each endpoint once", []string{"A", "B"}, []string{"B", "A"}, nil, "", []string{"global", "b", "a"}},
		{"marked endpoints last", []string{"W"}, []string{"B", "C"}, nil, "B", []string{"global", "c", "b", "w"}},
		{"at most three regional endpoints", []string{"W"}, []string{"B", "C", "D", "E"}, []string{"E", "D"}, "D", []string{"global", "e", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSiteFake()
			r := loadedRouter(t, f, RouterOptions{PreferredRegions: tt.preferred}, tt.write, tt.read)
			if tt.mark != "" {
				r.markUnavailable(regionURL(t, tt.mark), false)
			}
			err := r.refresh(t.Context(), r.epoch())
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 503, se.Code)
			labels, _ := f.asked(time.Time{})
			assert.Equal(t, tt.want, labels)
		})
	}
}

func TestLookupSkipsTheGlobalEndpointAmongRegionalOnes(t *testing.T) {
	doc := `{"id": "contoso", "writableLocations": [
		{"name": "Global", "databaseAccountEndpoint": "https://CONTOSO.documents.azure.com:443/"},
		{"name": "A", "databaseAccountEndpoint": "https://contoso-a.documents.azure.com/"}]}`
	f := newSiteFake()
	f.serve("global", doc, false)
	r := newTestRouter(t, f, RouterOptions{})
	require.NoError(t, r.ensure(t.Context()))
	f.serve("global", "", false)
	f.asked(time.Time{})
	require.Error(t, r.refresh(t.Context(), r.epoch()))
	labels, _ := f.asked(time.Time{})
	assert.Equal(t, []string{"global", "a"}, labels)
}

func TestLookupThatFailsEverywhereNamesEachEndpointWithoutSecrets(t *testing.T) {
	f := newSiteFake()
	r := loadedRouter(t, f, RouterOptions{}, []string{"A"}, []string{"A", "B"})
	f.serve("b", "not json", false)
	err := r.refresh(t.Context(), r.epoch())
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "DatabaseAccount look-up failed at 3 endpoints: "), msg)
	assert.Contains(t, msg, "contoso.documents.azure.com:443: 503 Service Unavailable (substatus 0)")
	assert.Contains(t, msg, "contoso-a.documents.azure.com:443: 503 Service Unavailable (substatus 0)")
	assert.Contains(t, msg, "contoso-b.documents.azure.com:443: invalid DatabaseAccount document")
	var se *StatusError
	assert.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, region.ErrBadAccount)

	auths := f.auths()
	require.Len(t, auths, 3)
	for _, a := range auths {
		require.NotEmpty(t, a, "every endpoint gets a signed look-up")
		assert.NotContains(t, msg, a)
	}
	assert.NotContains(t, msg, testVectorKey)
	assert.NotContains(t, msg, "sig=")
	assert.Equal(t, "contoso", r.Account().ID, "the previous account stays")
}

func TestLookupGivesAStalledEndpointHalfOfWhatRemains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSiteFake()
		r := loadedRouter(t, f, RouterOptions{RefreshTimeout: 30 * time.Second}, []string{"A"}, []string{"B", "C", "D"})
		for _, l := range []string{"global", "b", "c", "d"} {
			f.serve(l, "", true)
		}
		start := time.Now()
		err := r.refresh(t.Context(), r.epoch())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 30*time.Second, time.Since(start), "the whole look-up is bounded by RefreshTimeout")
		labels, at := f.asked(start)
		assert.Equal(t, []string{"global", "b", "c", "d"}, labels)
		assert.Equal(t, []time.Duration{0, 15 * time.Second, 22500 * time.Millisecond, 26250 * time.Millisecond}, at)

		// A stalled global endpoint still leaves time for a regional one.
		f.serve("c", accountDocFor([]string{"C"}, []string{"B", "C"}), false)
		start = time.Now()
		require.NoError(t, r.refresh(t.Context(), r.epoch()))
		assert.Equal(t, 22500*time.Millisecond, time.Since(start))
		w, _ := r.WriteEndpoint()
		assert.Equal(t, "contoso-c.documents.azure.com", w.Hostname())
	})
}

func TestLookupEndedByCloseAsksNoOtherEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSiteFake()
		r := loadedRouter(t, f, RouterOptions{}, []string{"A"}, []string{"A", "B"})
		f.serve("global", "", true)
		done := make(chan error, 1)
		go func() { done <- r.refresh(context.Background(), r.epoch()) }()
		synctest.Wait()
		require.NoError(t, r.Close())
		require.ErrorIs(t, <-done, context.Canceled)
		labels, _ := f.asked(time.Time{})
		assert.Equal(t, []string{"global"}, labels)
	})
}

func TestLookupWithoutAnAccountAsksOnlyTheGlobalEndpoint(t *testing.T) {
	f := newSiteFake()
	r := newTestRouter(t, f, RouterOptions{})
	var se *StatusError
	require.ErrorAs(t, r.ensure(t.Context()), &se)
	assert.Equal(t, 503, se.Code)
	labels, _ := f.asked(time.Time{})
	assert.Equal(t, []string{"global"}, labels)
}

// loopbackAccountDoc is a DatabaseAccount document of id whose write and
// read region is the loopback server at base.
func loopbackAccountDoc(id, base string) string {
	loc := []map[string]string{{"name": "Region", "databaseAccountEndpoint": base + "/"}}
	b, _ := json.Marshal(map[string]any{"id": id, "writableLocations": loc, "readableLocations": loc})
	return string(b)
}

func TestLookupFallsBackWhenTheGlobalEndpointFails(t *testing.T) {
	failures := []struct {
		name  string
		serve func(w http.ResponseWriter)
	}{
		{"500", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }},
		{"503", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }},
		{"401", func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) }},
		{"403", func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) }},
		{"429", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) }},
		{"not JSON", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "<html>") }},
		{"no usable write region", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"writableLocations": [{"name": "X", "databaseAccountEndpoint": "http://evil.example/"}]}`)
		}},
		{"body cut short", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "1000")
			_, _ = io.WriteString(w, `{"id": "`)
		}},
		{"connection dropped", func(w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			var regional atomic.Int32
			rsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				regional.Add(1)
				_, _ = io.WriteString(w, loopbackAccountDoc("from-region", "http://"+r.Host))
			}))
			defer rsrv.Close()
			var failing atomic.Bool
			gsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if failing.Load() {
					tt.serve(w)
					return
				}
				_, _ = io.WriteString(w, loopbackAccountDoc("from-global", rsrv.URL))
			}))
			defer gsrv.Close()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()

			r, err := NewRouter(RouterOptions{Endpoint: mustURL(t, gsrv.URL), Credential: testKey(t), Transport: tr, RefreshInterval: -1})
			require.NoError(t, err)
			defer r.Close()
			require.NoError(t, r.ensure(t.Context()))
			require.Equal(t, "from-global", r.Account().ID)
			require.Zero(t, regional.Load())

			failing.Store(true)
			require.NoError(t, r.refresh(t.Context(), r.epoch()))
			assert.Equal(t, "from-region", r.Account().ID)
			assert.Equal(t, int32(1), regional.Load())
		})
	}
}

func TestLookupIsBoundedByRefreshTimeoutAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil), gate: make(chan struct{})}
		r := newTestRouter(t, rt, RouterOptions{RefreshTimeout: 30 * time.Second})
		start := time.Now()
		err := r.ensure(context.Background())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 30*time.Second, time.Since(start))

		// Close cancels a look-up in flight and waits for it.
		done := make(chan error, 1)
		go func() { done <- r.refresh(context.Background(), r.epoch()) }()
		synctest.Wait()
		require.NoError(t, r.Close())
		require.ErrorIs(t, <-done, context.Canceled)
		assert.Equal(t, 2, rt.count())
	})
}

type ctxKey struct{}

func TestOnRefreshWrapsEachLookup(t *testing.T) {
	rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
	type call struct {
		forced bool
		value  any
		err    error
	}
	var mu sync.Mutex
	var calls []call
	hook := func(ctx context.Context, forced bool) (context.Context, func(error)) {
		return ctx, func(err error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{forced, ctx.Value(ctxKey{}), err})
		}
	}
	r := newTestRouter(t, rt, RouterOptions{OnRefresh: hook})
	ctx := context.WithValue(t.Context(), ctxKey{}, "span")
	require.NoError(t, r.ensure(ctx))
	rt.set("", nil)
	require.Error(t, r.refresh(ctx, r.epoch()))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, calls, 2)
	assert.Equal(t, call{false, "span", nil}, calls[0])
	assert.True(t, calls[1].forced)
	assert.Equal(t, "span", calls[1].value, "the look-up keeps the caller's values")
	var se *StatusError
	assert.ErrorAs(t, calls[1].err, &se)
}

func TestLookupsAreSignedForTheAccount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &fakeAccount{doc: accountDocFor([]string{"A"}, nil)}
		r := newTestRouter(t, rt, RouterOptions{})
		require.NoError(t, r.ensure(t.Context()))
		date := time.Now().UTC().Format(http.TimeFormat)
		want := authorization(t, testKey(t), "GET", "", "", date)
		rt.mu.Lock()
		defer rt.mu.Unlock()
		assert.Equal(t, []string{want}, rt.auth)
	})
}
