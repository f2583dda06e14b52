package instrument

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
)

func TestOnRefresh(t *testing.T) {
	r := newRig(t, Options{})
	srv := newServer(t, 0)
	rt := r.tel.Attempts(srv.Client().Transport)

	// An ordinary refresh that succeeds, its GET a child of the span.
	ctx, done := r.tel.OnRefresh(context.Background(), false)
	resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, srv.URL+"/").WithContext(ctx))
	require.NoError(t, err)
	resp.Body.Close()
	done(nil)
	done(errors.New("late")) // ignored

	// A forced refresh that fails.
	_, done = r.tel.OnRefresh(context.Background(), true)
	done(errors.New("region: account read failed"))

	spans := r.ended(spanAccountRefresh)
	require.Len(t, spans, 2)
	assert.Equal(t, trace.SpanKindInternal, spans[0].SpanKind())
	assert.Equal(t, false, attrs(spans[0].Attributes())["cosmosrt.account.refresh.forced"])
	assert.Equal(t, codes.Unset, spans[0].Status().Code)
	assert.Equal(t, spans[0].SpanContext().SpanID(), r.ended("HTTP GET")[0].Parent().SpanID())
	assert.Equal(t, true, attrs(spans[1].Attributes())["cosmosrt.account.refresh.forced"])
	assert.Equal(t, codes.Error, spans[1].Status().Code)
	assert.Equal(t, "_OTHER", attrs(spans[1].Attributes())["error.type"], "an error of no known class")
	r.allEnded(t)

	got := map[[2]any]int64{}
	for _, dp := range r.metric(t, metricRefreshes).Data.(metricdata.Sum[int64]).DataPoints {
		a := setAttrs(dp.Attributes)
		got[[2]any{a["cosmosrt.account.refresh.forced"], a["cosmosrt.account.refresh.outcome"]}] = dp.Value
	}
	assert.Equal(t, map[[2]any]int64{{false, "success"}: 1, {true, "failure"}: 1}, got)
}
