package transport

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// memAccount is an account answered in memory: its DatabaseAccount names
// two regions on loopback host names, and every other request gets 200
// with a small document. It is registered as the "http" protocol of an
// *http.Transport (see memTransport), so that the chain sees the Base it
// is tuned for while nothing touches the network.
type memAccount struct{}

const memAccountDoc = `{"writableLocations":[{"name":"West US","databaseAccountEndpoint":"http://acct-westus.documents.azure.com/"}],` +
	`"readableLocations":[{"name":"West US","databaseAccountEndpoint":"http://acct-westus.documents.azure.com/"},` +
	`{"name":"East US","databaseAccountEndpoint":"http://acct-eastus.documents.azure.com/"}]}`

func (memAccount) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	body := `{"id":"1"}`
	if strings.Trim(req.URL.Path, "/") == "" {
		body = memAccountDoc
	}
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}

// memTransport is an *http.Transport that answers "http" requests from
// memAccount.
func memTransport() *http.Transport {
	t := &http.Transport{}
	t.RegisterProtocol("http", memAccount{})
	return t
}

// allocsPerGet returns the allocations of one read of a document through
// client, the request made, signed by the caller and its answer read and
// closed.
func allocsPerGet(t *testing.T, client *http.Client) float64 {
	t.Helper()
	get := func() {
		req, err := http.NewRequest(http.MethodGet, "http://acct.documents.azure.com/dbs/d/colls/c/docs/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "type%3Dmaster%26ver%3D1.0%26sig%3Dx")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get() // the account is loaded on first use
	// The least of three runs: AllocsPerRun counts the whole process's
	// allocations, and a goroutine another test left may allocate too.
	least := testing.AllocsPerRun(200, get)
	for range 2 {
		least = min(least, testing.AllocsPerRun(200, get))
	}
	return least
}

func newMemChain(t testing.TB, o Options) *http.Client {
	t.Helper()
	o.Endpoint, o.Key = "http://acct.documents.azure.com/", "c2VjcmV0"
	if o.Base == nil {
		o.Base = memTransport()
	}
	rt, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close() })
	return &http.Client{Transport: rt}
}

// TestRoutedReadAllocations guards what a successful routed read costs
// over bare net/http in allocations (exact counts, unlike times), with the
// otel globals left as their no-op defaults. Where the Base is an
// *http.Transport the chain pays for the attempt's request copy and the
// breaker's closure (gobreaker's TwoStep), and the connection watch that
// tells a request never sent from one that may have run pays for its
// context value and the request that carries it. Any other Base gives each
// attempt a cancellable context instead (two allocations, and the body
// that ends it on Close), which is how a drain that stalls is cut off.
// Hedging on but not firing adds at most 4: the first arm's cancellable
// context (two), the body that ends it on Close, and the first hedge's
// timer, which is made for each read rather than pooled because a timer
// belongs to the testing/synctest bubble it was made in.
func TestRoutedReadAllocations(t *testing.T) {
	skipUnderRace(t)
	bare := allocsPerGet(t, &http.Client{Transport: memTransport()})
	routed := allocsPerGet(t, newMemChain(t, Options{}))
	otherBase := allocsPerGet(t, newMemChain(t, Options{Base: struct{ http.RoundTripper }{memTransport()}}))
	otherBare := allocsPerGet(t, &http.Client{Transport: struct{ http.RoundTripper }{memTransport()}})
	hedged := allocsPerGet(t, newMemChain(t, Options{Hedge: policy.HedgeOptions{Threshold: 1 << 40}}))
	t.Logf("allocations per read: bare %.0f; chain over *http.Transport %.0f (+%.0f); over another Base %.0f (+%.0f); hedging on, not firing %.0f (+%.0f over unhedged)",
		bare, routed, routed-bare, otherBase, otherBase-otherBare, hedged, hedged-routed)
	assert.LessOrEqual(t, routed-bare, 4.0, "request copy, breaker closure, connection watch (2)")
	assert.LessOrEqual(t, otherBase-otherBare, 5.0, "request copy, breaker closure, attempt context (2), its body")
	assert.LessOrEqual(t, hedged-routed, 4.0, "hedging that does not fire")
}

// TestFeaturesACallDoesNotUseCostItNothing: tracking writes, on for the
// chain, costs a read nothing.
func TestFeaturesACallDoesNotUseCostItNothing(t *testing.T) {
	skipUnderRace(t)
	plain := allocsPerGet(t, newMemChain(t, Options{}))
	tracking := allocsPerGet(t, newMemChain(t, Options{Retry: policy.RetryOptions{TrackWrites: true}}))
	assert.Equal(t, plain, tracking, "a read with TrackWrites on")
}

// skipUnderRace skips an allocation test under the race detector, which
// allocates on its own and makes sync.Pool drop what it is given.
func skipUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
}

// TestLoggerOffCostsNoAllocations: with no Logger, or one whose handler
// writes nothing at Warn, a read costs what it costs without: nothing is
// recorded for a log.
func TestLoggerOffCostsNoAllocations(t *testing.T) {
	skipUnderRace(t)
	plain := allocsPerGet(t, newMemChain(t, Options{}))
	noLogger := allocsPerGet(t, newMemChain(t, Options{Log: policy.LogOptions{PointLatency: 1, RequestCharge: 0.1}}))
	quiet := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	errorsOnly := allocsPerGet(t, newMemChain(t, Options{Logger: quiet}))
	assert.Equal(t, plain, noLogger, "no Logger, thresholds set")
	assert.Equal(t, plain, errorsOnly, "a Logger not enabled at Warn")
}

// TestLoggerAllocations guards what a Logger costs a read: recording its
// attempt when it is not logged (the Call, its record, the record's
// context value and the region), and building its entry when it is (here
// every read is logged: PointLatency 1ns, no rate limit).
func TestLoggerAllocations(t *testing.T) {
	skipUnderRace(t)
	plain := allocsPerGet(t, newMemChain(t, Options{}))
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	recorded := allocsPerGet(t, newMemChain(t, Options{Logger: logger}))
	logged := allocsPerGet(t, newMemChain(t, Options{Logger: logger, Log: policy.LogOptions{PointLatency: 1, Rate: -1}}))
	t.Logf("allocations per read: %.0f without a Logger; with one, %.0f when not logged (+%.0f), %.0f when logged (+%.0f more)",
		plain, recorded, recorded-plain, logged, logged-recorded)
	assert.LessOrEqual(t, recorded-plain, 4.0, "the Call, its record, the record's context value, the region")
	assert.LessOrEqual(t, logged-recorded, 12.0, "the entry of a one-attempt call")
}
