package instrument

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// A change of a partition circuit is an event on the span in the context
// (the call's), with the container, range, region and outcome, and a
// count by region and outcome only.
func TestPartitionChangesAreSpanEventsAndCounted(t *testing.T) {
	r := newRig(t, Options{})
	ctx, span := r.tel.tracer().Start(context.Background(), "read_item c")
	r.tel.PartitionChanged(ctx, PartitionChange{Container: "dbs/d/colls/c", Range: "1", Region: "West US 2", Outcome: PartitionTripped})
	r.tel.PartitionChanged(ctx, PartitionChange{Container: "dbs/d/colls/c", Range: "1", Region: "West US 2", Outcome: PartitionRecovered})
	r.tel.PartitionChanged(context.Background(), PartitionChange{Container: "dbs/d/colls/c", Range: "2", Region: "West US 2", Outcome: PartitionTripped})
	r.tel.PartitionChanged(context.Background(), PartitionChange{Container: "dbs/d/colls/e", Range: "0", Region: "East US", Outcome: PartitionReopened})
	span.End()

	ended := r.ended("read_item c")
	require.Len(t, ended, 1)
	events := ended[0].Events()
	require.Len(t, events, 2)
	assert.Equal(t, "partition.open", events[0].Name)
	assert.Equal(t, map[string]any{"cosmosrt.partition.container": "dbs/d/colls/c", "cosmosrt.partition.range": "1",
		"cosmosrt.partition.region": "West US 2", "cosmosrt.partition.outcome": "tripped"}, attrs(events[0].Attributes))
	assert.Equal(t, "partition.close", events[1].Name)
	assert.Equal(t, "recovered", attrs(events[1].Attributes)["cosmosrt.partition.outcome"])

	type key struct{ region, outcome string }
	got := map[key]int64{}
	for _, dp := range r.metric(t, metricPartitionChanges).Data.(metricdata.Sum[int64]).DataPoints {
		a := setAttrs(dp.Attributes)
		require.Len(t, a, 2, "region and outcome only: bounded")
		got[key{a["cosmosrt.partition.region"].(string), a["cosmosrt.partition.outcome"].(string)}] = dp.Value
	}
	assert.Equal(t, map[key]int64{{"West US 2", "tripped"}: 2, {"West US 2", "recovered"}: 1, {"East US", "reopened"}: 1}, got)
}

// With tracing off, a change adds no event to a span the context carries
// (the caller's own, say), and is still counted.
func TestPartitionChangeWithTracingOff(t *testing.T) {
	r := newRig(t, Options{})
	ctx, span := r.tel.tracer().Start(context.Background(), "caller")
	off := New(Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: r.tel.opts.MeterProvider})
	off.PartitionChanged(ctx, PartitionChange{Container: "dbs/d/colls/c", Range: "1", Region: "West US 2", Outcome: PartitionTripped})
	span.End()
	assert.Empty(t, r.ended("caller")[0].Events())
	assert.Len(t, r.metric(t, metricPartitionChanges).Data.(metricdata.Sum[int64]).DataPoints, 1)
}

// The gauge of open partition circuits reports each region its sources
// yield, beside the breakers' gauge.
func TestOpenPartitionsGauge(t *testing.T) {
	r := newRig(t, Options{})
	var mu sync.Mutex
	open := map[string]int64{"West US 2": 3}
	r.tel.ObservePartitions(func(yield func(string, int64)) {
		mu.Lock()
		defer mu.Unlock()
		for region, n := range open {
			yield(region, n)
		}
	})
	r.tel.ObserveBreakers(func(yield func(string, int64)) { yield("a-eastus.example", BreakerOpen) })
	read := func() map[string]int64 {
		out := map[string]int64{}
		m := r.metric(t, metricPartitionOpen)
		if m.Data == nil {
			return out
		}
		for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			out[setAttrs(dp.Attributes)["cosmosrt.partition.region"].(string)] = dp.Value
		}
		return out
	}
	assert.Equal(t, map[string]int64{"West US 2": 3}, read())
	mu.Lock()
	open = map[string]int64{"East US": 1}
	mu.Unlock()
	assert.Equal(t, map[string]int64{"East US": 1}, read())
	assert.Len(t, r.metric(t, metricBreakerState).Data.(metricdata.Gauge[int64]).DataPoints, 1, "the breakers' gauge still reported")
}
