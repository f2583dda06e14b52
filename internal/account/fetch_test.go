package account

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testKey(t testing.TB) *region.MasterKey {
	t.Helper()
	k, err := region.NewMasterKey(testVectorKey)
	require.NoError(t, err)
	return k
}

// loopbackDoc is a DatabaseAccount document for an account served at base
// (an http://127.0.0.1:port URL) with regional endpoints on other ports.
func loopbackDoc(writePort, readPort string) string {
	return `{"id": "sim", "writableLocations": [{"name": "West US", "databaseAccountEndpoint": "http://127.0.0.1:` + writePort + `/"}],
		"readableLocations": [{"name": "West US", "databaseAccountEndpoint": "http://127.0.0.1:` + writePort + `/"},
		{"name": "East US", "databaseAccountEndpoint": "http://127.0.0.1:` + readPort + `/"}]}`
}

func TestFetchFromSendsASignedLookupAndParsesTheAccount(t *testing.T) {
	k := testKey(t)
	var mu sync.Mutex
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		_, _ = io.WriteString(w, loopbackDoc("9001", "9002"))
	}))
	defer srv.Close()

	acct := mustURL(t, srv.URL+"/ignored/path?q=1")
	a, err := fetchFrom(context.Background(), srv.Client().Transport, acct, acct, k, testNow)
	require.NoError(t, err)
	assert.Equal(t, []string{"West US=http://127.0.0.1:9001/"}, names(a.Write))
	assert.Equal(t, []string{"West US=http://127.0.0.1:9001/", "East US=http://127.0.0.1:9002/"}, names(a.Read))

	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, got)
	assert.Equal(t, http.MethodGet, got.Method)
	assert.Equal(t, "/", got.URL.Path)
	assert.Empty(t, got.URL.RawQuery)
	assert.Equal(t, "Sun, 01 Mar 2026 12:00:00 GMT", got.Header.Get(wire.HeaderDate))
	assert.Equal(t, wire.APIVersion, got.Header.Get(wire.HeaderVersion))
	// The DatabaseAccount is signed with an empty resource type and link.
	want := authorization(t, k, "get", "", "", "Sun, 01 Mar 2026 12:00:00 GMT")
	assert.Equal(t, want, got.Header.Get("Authorization"))
}

func TestFetchFromReportsStatusWithoutSecrets(t *testing.T) {
	k := testKey(t)
	var seenAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenAuth = r.Header.Get("Authorization")
		w.Header().Set(wire.HeaderSubStatus, "1008")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"code":"Unauthorized","message":"the input authorization token `+r.Header.Get("Authorization")+`"}`)
	}))
	defer srv.Close()

	acct := mustURL(t, srv.URL)
	_, err := fetchFrom(context.Background(), srv.Client().Transport, acct, acct, k, testNow)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StatusError{Code: 401, SubStatus: 1008}, *se)
	require.NotEmpty(t, seenAuth)
	assert.NotContains(t, err.Error(), seenAuth)
	assert.NotContains(t, err.Error(), authorization(t, k, "get", "", "", "Sun, 01 Mar 2026 12:00:00 GMT"))
	assert.NotContains(t, err.Error(), testVectorKey)
	assert.Contains(t, err.Error(), "401")
}

func TestFetchFromRejectsBodiesOverOneMiB(t *testing.T) {
	big := `{"writableLocations": [], "pad": "` + strings.Repeat("x", 1<<20) + `"}`
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			}
			_, _ = io.WriteString(w, big)
		}))
		acct := mustURL(t, srv.URL)
		_, err := fetchFrom(context.Background(), srv.Client().Transport, acct, acct, testKey(t), testNow)
		srv.Close()
		require.ErrorIs(t, err, region.ErrBadAccount, "chunked=%v", chunked)
		assert.Less(t, len(err.Error()), 200)
	}
}

func TestFetchFromReturnsByTheDeadlineWhenTheServerStalls(t *testing.T) {
	for _, tt := range []struct {
		name         string
		flushHeaders bool // the headers go out, then the body stalls
	}{
		{"before the response", false},
		{"in the body", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.flushHeaders {
					w.(http.Flusher).Flush()
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			defer close(release)

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			acct := mustURL(t, srv.URL)
			_, err := fetchFrom(ctx, srv.Client().Transport, acct, acct, testKey(t), testNow)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.True(t, strings.HasPrefix(err.Error(), "DatabaseAccount look-up: "), err.Error())
		})
	}
}

// fakeRT answers every request with resp (or err), recording the body.
type fakeRT struct {
	status int
	body   string
	err    error
	closed bool
}

type trackedBody struct {
	io.Reader
	rt *fakeRT
}

func (b *trackedBody) Close() error { b.rt.closed = true; return nil }

func (f *fakeRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Header: http.Header{}, ContentLength: -1,
		Body: &trackedBody{Reader: strings.NewReader(f.body), rt: f}, Request: req}, nil
}

func TestFetchFromAlwaysClosesTheBody(t *testing.T) {
	acct := mustURL(t, testAccountURL)
	for _, rt := range []*fakeRT{
		{status: 200, body: goodAccountDoc},
		{status: 503, body: "busy"},
		{status: 200, body: "not json"},
		{status: 200, body: strings.Repeat(" ", 2<<20)},
	} {
		_, _ = fetchFrom(context.Background(), rt, acct, acct, testKey(t), testNow)
		assert.True(t, rt.closed, "status %d, body of %d bytes", rt.status, len(rt.body))
	}
}

// The endpoint and the credential are checked once, by NewRouter
// (TestNewRouterValidatesOptions).
func TestFetchFromWrapsTransportErrors(t *testing.T) {
	boom := errors.New("connection refused")
	acct := mustURL(t, testAccountURL)
	_, err := fetchFrom(context.Background(), &fakeRT{err: boom}, acct, acct, testKey(t), testNow)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "DatabaseAccount look-up: connection refused", err.Error())
}

// authorization is the Authorization header k gives a request.
func authorization(t testing.TB, k *region.MasterKey, verb, resourceType, resourceLink, date string) string {
	t.Helper()
	auth, err := k.Authorization(context.Background(), verb, resourceType, resourceLink, date)
	require.NoError(t, err)
	return auth
}
