package instrument

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestBreakerTransitions(t *testing.T) {
	r := newRig(t, Options{})
	r.tel.BreakerTransition("https://acct-westus.documents.azure.com:443/", "closed", "open")
	r.tel.BreakerTransition("https://acct-westus.documents.azure.com:443/", "open", "half-open")
	r.tel.BreakerTransition("127.0.0.1:8081", "closed", "open")

	type key struct {
		host     string
		port     any
		from, to string
	}
	got := map[key]int64{}
	for _, dp := range r.metric(t, metricBreakerTransition).Data.(metricdata.Sum[int64]).DataPoints {
		a := setAttrs(dp.Attributes)
		got[key{a["server.address"].(string), a["server.port"], a["cosmosrt.breaker.from"].(string), a["cosmosrt.breaker.to"].(string)}] = dp.Value
	}
	assert.Equal(t, map[key]int64{
		{"acct-westus.documents.azure.com", int64(443), "closed", "open"}:    1,
		{"acct-westus.documents.azure.com", int64(443), "open", "half-open"}: 1,
		{"127.0.0.1", int64(8081), "closed", "open"}:                         1,
	}, got)
}

func TestBreakerStateGauge(t *testing.T) {
	r := newRig(t, Options{})
	var mu sync.Mutex
	states := map[string]int64{"https://a-westus.example:443/": BreakerOpen}
	r.tel.ObserveBreakers(func(yield func(string, int64)) {
		mu.Lock()
		defer mu.Unlock()
		for ep, s := range states {
			yield(ep, s)
		}
	})
	r.tel.ObserveBreakers(func(yield func(string, int64)) { yield("a-eastus.example", BreakerClosed) })
	r.tel.ObserveBreakers(nil)

	read := func() map[string]int64 {
		m := r.metric(t, metricBreakerState)
		require.NotNil(t, m.Data)
		out := map[string]int64{}
		for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			out[setAttrs(dp.Attributes)["server.address"].(string)] = dp.Value
		}
		return out
	}
	assert.Equal(t, map[string]int64{"a-westus.example": BreakerOpen, "a-eastus.example": BreakerClosed}, read())
	mu.Lock()
	states["https://a-westus.example:443/"] = BreakerHalfOpen
	mu.Unlock()
	assert.Equal(t, map[string]int64{"a-westus.example": BreakerHalfOpen, "a-eastus.example": BreakerClosed}, read())
}

func TestSplitEndpoint(t *testing.T) {
	cases := []struct {
		in   string
		host string
		port int
	}{
		{"https://acct.documents.azure.com:443/", "acct.documents.azure.com", 443},
		{"https://acct.documents.azure.com/", "acct.documents.azure.com", 0},
		{"https://user:pw@h:10/x?y", "h", 10},
		{"acct.example:8081", "acct.example", 8081},
		{"acct.example", "acct.example", 0},
		{"acct.example:", "acct.example", 0},
		{"[::1]:8081", "::1", 8081},
		{"http://[::1]/", "::1", 0},
		{"", "", 0},
	}
	for _, tc := range cases {
		host, port := splitEndpoint(tc.in)
		assert.Equal(t, tc.host, host, tc.in)
		assert.Equal(t, tc.port, port, tc.in)
	}
}
