package instrument

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// A hedged read lists the regions its hedges went to and the one that
// answered first on its span, and counts hedges started and won; a hedge
// noted after the call ended is not recorded.
func TestHedgesAreRecordedOnTheCallSpanAndCounted(t *testing.T) {
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	c.Attempt(context.Background(), 0, "West US", false)
	c.Hedge("East US")
	c.Attempt(context.Background(), 0, "East US", false)
	c.Hedge("North Europe")
	c.Attempt(context.Background(), 0, "North Europe", false)
	c.HedgeWon("East US")
	c.End(respWith(200), nil)
	c.Hedge("too late")

	spans := r.ended("read_item c")
	require.Len(t, spans, 1)
	got := attrs(spans[0].Attributes())
	assert.Equal(t, []string{"East US", "North Europe"}, got["cosmosrt.hedge.regions"])
	assert.Equal(t, "East US", got["cosmosrt.hedge.winner"])

	sum, ok := r.metric(t, metricHedges).Data.(metricdata.Sum[int64])
	require.True(t, ok)
	counts := map[string]int64{}
	for _, p := range sum.DataPoints {
		v, _ := p.Attributes.Value(attrHedgeResult)
		counts[v.AsString()] += p.Value
	}
	assert.Equal(t, map[string]int64{hedgeStarted: 2, hedgeWon: 1}, counts)
}
