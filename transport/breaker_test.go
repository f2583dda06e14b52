package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

func sendTo(t *testing.T, rt http.RoundTripper, host string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+host+"/dbs/d/colls/c/docs/1", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestBreakerOpensAfterConsecutive500sAndFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(500))
		var transitions []string
		b := newBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second}, func(ep string, from, to CircuitState) {
			transitions = append(transitions, ep+":"+from.String()+">"+to.String())
		})

		for range 3 {
			resp, err := sendTo(t, b, "a:1")
			require.NoError(t, err)
			assert.Equal(t, 500, resp.StatusCode)
		}
		assert.Equal(t, CircuitOpen, b.State("http://a:1"))
		assert.Equal(t, []string{"http://a:1:closed>open"}, transitions)

		opened := time.Now()
		for range 5 {
			_, err := sendTo(t, b, "a:1")
			require.ErrorIs(t, err, ErrCircuitOpen)
			var coe *CircuitOpenError
			require.True(t, errors.As(err, &coe))
			assert.Equal(t, "a:1", coe.Endpoint)
			assert.Equal(t, opened.Add(10*time.Second), coe.Until)
		}
		assert.Equal(t, 3, f.count(), "an open circuit does not touch the network")
	})
}

func TestBreakerHalfOpenProbeClosesAfterRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(500), status(500), status(200))
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 2, OpenTimeout: 5 * time.Second})
		sendTo(t, b, "a:1")
		sendTo(t, b, "a:1")
		require.Equal(t, CircuitOpen, b.State("http://a:1"))

		time.Sleep(5*time.Second + time.Nanosecond) // gobreaker half-opens strictly after the timeout
		resp, err := sendTo(t, b, "a:1")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, CircuitClosed, b.State("http://a:1"))
		assert.Equal(t, 3, f.count())
	})
}

func TestBreakerCircuitsAreIndependentPerEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.answer = func(req *http.Request, _ int) answer {
			if req.URL.Host == "sick:1" {
				return status(500)
			}
			return status(200)
		}
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 2})
		sendTo(t, b, "sick:1")
		sendTo(t, b, "sick:1")
		_, err := sendTo(t, b, "sick:1")
		require.ErrorIs(t, err, ErrCircuitOpen)

		resp, err := sendTo(t, b, "well:1")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, CircuitClosed, b.State("http://well:1"))
	})
}

func TestBreakerIgnoresThrottling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(status(429))
		b := NewBreaker(f, policy.BreakerOptions{ConsecutiveFailures: 2})
		for range 10 {
			resp, err := sendTo(t, b, "a:1")
			require.NoError(t, err)
			assert.Equal(t, 429, resp.StatusCode)
		}
		assert.Equal(t, CircuitClosed, b.State("http://a:1"))
		assert.Equal(t, 10, f.count())
	})
}

// byHost answers each request with the status code status gives its host,
// recording nothing, so that it can stand for many endpoints.
type byHost func(host string) int

func (f byHost) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{StatusCode: f(req.URL.Host), Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func send(t *testing.T, rt http.RoundTripper, rawURL string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	return resp, err
}

func always(code int) byHost { return func(string) int { return code } }

// Spellings of one endpoint (host case, an explicit default port, the
// scheme's case) share one circuit; other schemes and ports do not.
func TestBreakerSharesOneCircuitPerEndpointHoweverItIsSpelt(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failing    []string // each answers one 500
		same       string   // refused afterwards
		other      []string // still served
		stateNames []string // State finds the open circuit by these
	}{
		{name: "host case and default https port", failing: []string{"https://A:443/x", "https://a/y"},
			same: "HTTPS://a:443/z", other: []string{"http://a/", "https://a:8443/"},
			stateNames: []string{"https://a", "https://A:443/", "a", "a:443"}},
		{name: "default http port", failing: []string{"http://Acct.Example/", "http://acct.example:80/"},
			same: "http://ACCT.example/", other: []string{"https://acct.example/"},
			stateNames: []string{"http://acct.example:80"}},
		{name: "IPv6 literal", failing: []string{"http://[::1]/", "http://[::1]:80/"},
			same: "http://[::1]:80/", other: []string{"http://[::1]:8080/"},
			stateNames: []string{"http://[::1]/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sent := 0
				var transitions []string
				b := newBreaker(byHost(func(string) int { sent++; return 500 }), policy.BreakerOptions{ConsecutiveFailures: 2},
					func(ep string, from, to CircuitState) { transitions = append(transitions, ep+" "+to.String()) })
				for _, u := range tc.failing {
					resp, err := send(t, b, u)
					require.NoError(t, err)
					require.Equal(t, 500, resp.StatusCode)
				}
				_, err := send(t, b, tc.same)
				require.ErrorIs(t, err, ErrCircuitOpen, "one circuit counted both failures")
				assert.Equal(t, 2, sent)
				require.Len(t, transitions, 1)
				for _, name := range tc.stateNames {
					assert.Equal(t, CircuitOpen, b.State(name), name)
				}
				for _, u := range tc.other {
					_, err := send(t, b, u)
					require.NoError(t, err, "%s has its own circuit", u)
				}
			})
		})
	}
}

// The breaker names a circuit as wire.EndpointOf names its endpoint, and
// finding it costs a request no allocation.
func TestBreakerNamesCircuitsByEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"https://contoso-westus.documents.azure.com:443/": "https://contoso-westus.documents.azure.com:443",
		"https://Contoso.Documents.Azure.com./dbs":        "https://contoso.documents.azure.com:443",
		"http://[FE80::1%25eth0]:8080/":                   "http://[fe80::1%eth0]:8080",
		"ftp://a/":                                        "ftp://a",
	} {
		var opened []string
		b := newBreaker(always(500), policy.BreakerOptions{ConsecutiveFailures: 1},
			func(ep string, _, to CircuitState) { opened = append(opened, ep) })
		_, err := send(t, b, in)
		require.NoError(t, err)
		assert.Equal(t, []string{want}, opened, in)
		assert.Equal(t, CircuitOpen, b.State(in), in)
	}
	b := NewBreaker(always(200), policy.BreakerOptions{})
	req, err := http.NewRequest(http.MethodGet, "https://contoso-westus.documents.azure.com/dbs/d", nil)
	require.NoError(t, err)
	_, err = b.RoundTrip(req)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { b.circuit(wire.EndpointOf(req.URL)) }))
}

// CircuitState names the states as gobreaker does, so that the
// cosmosrt.breaker.transitions labels did not change with the type.
func TestCircuitStateNames(t *testing.T) {
	for s, g := range map[CircuitState]gobreaker.State{
		CircuitClosed:   gobreaker.StateClosed,
		CircuitHalfOpen: gobreaker.StateHalfOpen,
		CircuitOpen:     gobreaker.StateOpen,
	} {
		assert.Equal(t, g.String(), s.String())
		assert.Equal(t, s, stateOf(g))
	}
	assert.Equal(t, []string{"closed", "half-open", "open", "unknown"},
		[]string{CircuitClosed.String(), CircuitHalfOpen.String(), CircuitOpen.String(), CircuitState(9).String()})
}

// However many hosts a chain is sent to, it keeps at most maxCircuits
// circuits, and the state gauge reports no more series than that.
func TestBreakerGaugeReportsAtMostMaxCircuitsSeries(t *testing.T) {
	o := Options{Base: always(200)}
	ob := observe(&o)
	rt, err := New(o)
	require.NoError(t, err)
	defer rt.Close()
	for i := range maxCircuits + 500 {
		_, err := send(t, rt, fmt.Sprintf("https://h%d.example/dbs/d", i))
		require.NoError(t, err)
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, ob.metrics.Collect(context.Background(), &rm))
	series := -1
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "cosmosrt.breaker.state" {
				series = len(m.Data.(metricdata.Gauge[int64]).DataPoints)
			}
		}
	}
	assert.Equal(t, maxCircuits, series)
}

// The circuit used least recently is the one forgotten: an endpoint in use
// keeps its failure count however many others come and go, an idle one
// loses it. Throttling is used to touch an endpoint: it counts neither way.
func TestBreakerForgetsTheClosedCircuitIdleLongest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := 500
		b := NewBreaker(byHost(func(host string) int {
			switch host {
			case "busy":
				return busy
			case "idle":
				return 500
			}
			return 200
		}), policy.BreakerOptions{ConsecutiveFailures: 2})
		send(t, b, "https://busy/")
		send(t, b, "https://idle/")
		busy = 429
		for i := range 2 * maxCircuits {
			send(t, b, fmt.Sprintf("https://h%d/", i))
			if i%100 == 0 {
				send(t, b, "https://busy/")
			}
		}
		busy = 500
		send(t, b, "https://busy/")
		send(t, b, "https://idle/")
		assert.Equal(t, CircuitOpen, b.State("https://busy"), "two failures in a row, counted across 2 048 other endpoints")
		assert.Equal(t, CircuitClosed, b.State("https://idle"), "the first failure was forgotten with the idle circuit")
		assert.Len(t, b.snapshot(), maxCircuits)
	})
}

// An open circuit in use is never forgotten to make room; when all
// circuits are open and in use, a new endpoint is served without one; once
// an open circuit has been left alone for its OpenTimeout, it makes room.
func TestBreakerKeepsOpenCircuitsInUseAndServesNewEndpointsUntracked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sent := map[string]int{}
		b := NewBreaker(byHost(func(host string) int { sent[host]++; return 500 }),
			policy.BreakerOptions{ConsecutiveFailures: 1, OpenTimeout: time.Minute})
		for i := range maxCircuits {
			send(t, b, fmt.Sprintf("https://sick%d/", i))
		}
		require.Len(t, b.openCircuits(), maxCircuits)

		for range 3 {
			resp, err := send(t, b, "https://new/")
			require.NoError(t, err, "no room: served without a circuit")
			assert.Equal(t, 500, resp.StatusCode)
		}
		assert.Equal(t, 3, sent["new"], "untracked: its failures open nothing")
		for i := range maxCircuits {
			_, err := send(t, b, fmt.Sprintf("https://sick%d/", i))
			require.ErrorIs(t, err, ErrCircuitOpen, "sick%d kept its open circuit", i)
		}

		time.Sleep(time.Minute + time.Nanosecond) // gobreaker half-opens strictly after the timeout
		_, err := send(t, b, "https://sick0/")    // in use again: a probe, which fails
		require.NoError(t, err)
		send(t, b, "https://new/") // room made from an idle one (sick1)
		_, err = send(t, b, "https://new/")
		require.ErrorIs(t, err, ErrCircuitOpen, "new has a circuit now")
		_, err = send(t, b, "https://sick0/")
		require.ErrorIs(t, err, ErrCircuitOpen, "the circuit in use was kept")
		assert.Len(t, b.snapshot(), maxCircuits)
	})
}

func TestBreakerOpenCircuitsForAnOperator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var transitions []string
		b := newBreaker(byHost(func(host string) int {
			if host == "ok" {
				return 200
			}
			return 500
		}), policy.BreakerOptions{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Second},
			func(ep string, from, to CircuitState) { transitions = append(transitions, ep+" "+to.String()) })
		send(t, b, "https://ok/")
		send(t, b, "https://b/")
		time.Sleep(5 * time.Second)
		send(t, b, "https://a/")
		opened := time.Now()
		assert.Equal(t, []CircuitStatus{
			{Endpoint: "https://a:443", Until: opened.Add(10 * time.Second)},
			{Endpoint: "https://b:443", Until: opened.Add(5 * time.Second)},
		}, b.openCircuits())

		time.Sleep(5*time.Second + time.Nanosecond)
		assert.Equal(t, []CircuitStatus{
			{Endpoint: "https://a:443", Until: opened.Add(10 * time.Second)},
			{Endpoint: "https://b:443", HalfOpen: true},
		}, b.openCircuits())
		assert.Contains(t, transitions, "https://b:443 half-open", "the change is reported")
	})
}

// TestBreakerMemoryAcrossManyHosts measures the heap kept by a Breaker
// sent to 50 000 distinct hosts: it keeps maxCircuits circuits, not one
// per host.
func TestBreakerMemoryAcrossManyHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := NewBreaker(always(200), policy.BreakerOptions{})
	for i := range 50_000 {
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: fmt.Sprintf("h%d.example", i), Path: "/"}, Header: http.Header{}}
		if _, err := b.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	n := len(b.snapshot())
	runtime.KeepAlive(b)
	t.Logf("50 000 hosts: %d circuits, heap %+.2f MiB (%.0f B a circuit)", n, float64(kept)/(1<<20), float64(kept)/float64(n))
	assert.Equal(t, maxCircuits, n)
	assert.Less(t, kept, int64(8<<20), "generous: about 1 KiB a circuit")
}
