package instrument

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestMetricCatalogue checks the names, units and bucket boundaries that
// dashboards are built on.
func TestMetricCatalogue(t *testing.T) {
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	c.Answered(context.Background(), nil, nil, true, reason("throttled"), 20*time.Millisecond)
	c.Attempt(context.Background(), 1, "", true)
	c.End(respWith(200, "x-ms-request-charge", "3"), nil)
	_, done := r.tel.OnRefresh(context.Background(), false)
	done(errors.New("failed"))
	r.tel.BreakerTransition("a.example", "closed", "open")
	r.tel.ObserveBreakers(func(yield func(string, int64)) { yield("a.example", BreakerOpen) })

	want := map[string]struct {
		unit   string
		bounds []float64 // nil: not a histogram
	}{
		metricOperationDuration: {"s", []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}},
		metricRequestCharge:     {"{request_unit}", []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000}},
		metricRetries:           {"{retry}", nil},
		metricBackoffWait:       {"s", []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}},
		metricFailovers:         {"{failover}", nil},
		metricRefreshes:         {"{refresh}", nil},
		metricBreakerTransition: {"{transition}", nil},
		metricBreakerState:      {"{state}", nil},
	}
	for name, w := range want {
		m := r.metric(t, name)
		require.NotNil(t, m.Data, name)
		assert.Equal(t, w.unit, m.Unit, name)
		assert.NotEmpty(t, m.Description, name)
		if w.bounds != nil {
			h, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok, "%s is a histogram", name)
			assert.Equal(t, w.bounds, h.DataPoints[0].Bounds, name)
		}
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			assert.True(t, sum.IsMonotonic, "%s is a counter", name)
		}
	}
}
