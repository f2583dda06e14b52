package transport

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/policy"
)

type observed struct {
	spans   *tracetest.SpanRecorder
	metrics *sdkmetric.ManualReader
}

func observe(o *Options) *observed {
	ob := &observed{spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader()}
	o.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ob.spans))
	o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(ob.metrics))
	return ob
}

func attrOf(s sdktrace.ReadOnlySpan, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func childrenOf(spans []sdktrace.ReadOnlySpan, parent trace.SpanID) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() == parent {
			out = append(out, s)
		}
	}
	return out
}

// sum returns the total of an int64 sum metric's points whose attributes include want.
func sum(t *testing.T, r *sdkmetric.ManualReader, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			s, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is an int64 sum", name)
		points:
			for _, p := range s.DataPoints {
				for _, kv := range want {
					if v, ok := p.Attributes.Value(kv.Key); !ok || v != kv.Value {
						continue points
					}
				}
				total += p.Value
			}
		}
	}
	return total
}

func TestTelemetryCallSpanTreeThroughThrottlingAndFailover(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	var o Options
	ob := observe(&o)
	c := newChain(t, acct, o)
	code, err := create(t, context.Background(), c, acct, "warm")
	require.NoError(t, err)
	require.Equal(t, 201, code)
	ob.spans.Reset()

	old := acct.WriteRegion()
	acct.Inject(old, cosmostest.Fault{Status: 429, SubStatus: 3200, Header: hint("10"), Count: 1, Ops: cosmostest.WriteOps})
	acct.Inject(old, cosmostest.Fault{Status: 403, SubStatus: 3, Count: 1, Ops: cosmostest.WriteOps})
	require.NoError(t, acct.Failover("East US"))
	code, err = create(t, context.Background(), c, acct, "traced")
	require.NoError(t, err)
	require.Equal(t, 201, code)

	ended := ob.spans.Ended()
	assert.Len(t, ended, len(ob.spans.Started()), "every started span ended")
	var calls []sdktrace.ReadOnlySpan
	for _, s := range ended {
		if s.Name() == "create_item c" {
			calls = append(calls, s)
		}
	}
	require.Len(t, calls, 1)
	call := calls[0]
	assert.Equal(t, trace.SpanKindClient, call.SpanKind())
	for k, want := range map[attribute.Key]attribute.Value{
		"db.system.name":                             attribute.StringValue("azure.cosmosdb"),
		"db.operation.name":                          attribute.StringValue("create_item"),
		"db.namespace":                               attribute.StringValue("d"),
		"db.collection.name":                         attribute.StringValue("c"),
		"db.response.status_code":                    attribute.StringValue("201"),
		"azure.cosmosdb.operation.contacted_regions": attribute.StringSliceValue([]string{old, "East US"}),
	} {
		got, ok := attrOf(call, k)
		if assert.True(t, ok, "call span has %s", k) {
			assert.Equal(t, want.Emit(), got.Emit(), "%s", k)
		}
	}
	charge, ok := attrOf(call, "azure.cosmosdb.operation.request_charge")
	require.True(t, ok)
	assert.Greater(t, charge.AsFloat64(), 0.0)
	_, hasErr := attrOf(call, "error.type")
	assert.False(t, hasErr, "no error.type on a call that succeeded")

	kids := childrenOf(ended, call.SpanContext().SpanID())
	var attempts []sdktrace.ReadOnlySpan
	refreshes := 0
	for _, s := range kids {
		switch s.Name() {
		case "cosmosrt.account.refresh":
			refreshes++
		default:
			attempts = append(attempts, s)
		}
	}
	assert.Equal(t, 1, refreshes, "the forced refresh is a child of the call that asked for it")
	require.Len(t, attempts, 3, "429, 403.3, then 201")
	for i, a := range attempts {
		rc, ok := attrOf(a, "http.request.resend_count")
		if i == 0 {
			assert.False(t, ok, "the first attempt is not a resend")
			continue
		}
		if assert.True(t, ok, "attempt %d has a resend count", i) {
			assert.Equal(t, int64(i), rc.AsInt64())
		}
	}
	var events []string
	for _, e := range call.Events() {
		events = append(events, e.Name)
	}
	assert.Contains(t, events, "retry")

	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.retries", attribute.String("cosmosrt.retry.reason", "throttled")))
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.retries", attribute.String("cosmosrt.retry.reason", "write_forbidden")))
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.failovers"))
	assert.GreaterOrEqual(t, sum(t, ob.metrics, "cosmosrt.account.refreshes"), int64(2), "the first load and the forced refresh")

	for _, s := range ended {
		for _, kv := range s.Attributes() {
			v := kv.Value.Emit()
			assert.NotContains(t, v, "type=master", "%s on %s", kv.Key, s.Name())
			assert.NotContains(t, v, acct.Key(), "%s on %s", kv.Key, s.Name())
		}
	}
}

func TestTelemetryOpenCircuitIsCallErrorWithoutAttemptSpan(t *testing.T) {
	acct := cosmostest.NewAccount(cosmostest.Options{Regions: []string{"Solo"}})
	defer acct.Close()
	o := Options{Breaker: policy.BreakerOptions{ConsecutiveFailures: 1}}
	ob := observe(&o)
	c := newChain(t, acct, o)
	acct.Inject("Solo", cosmostest.Fault{Status: 500, Ops: cosmostest.WriteOps})

	code, err := create(t, context.Background(), c, acct, "x")
	require.NoError(t, err)
	require.Equal(t, 500, code)
	ob.spans.Reset()

	_, err = create(t, context.Background(), c, acct, "y")
	require.ErrorIs(t, err, ErrCircuitOpen)
	// The refused write region is marked and the account looked up in the
	// background (it may have failed over): that look-up's span, a child
	// of the call's, and its attempt span may end at any time; the call's
	// own attempts would be the call span's other children.
	var call trace.SpanID
	for _, s := range ob.spans.Ended() {
		if s.Name() == "create_item c" {
			call = s.SpanContext().SpanID()
		}
	}
	var ended []sdktrace.ReadOnlySpan
	for _, s := range ob.spans.Ended() {
		if s.SpanContext().SpanID() == call || (s.Parent().SpanID() == call && s.Name() != "cosmosrt.account.refresh") {
			ended = append(ended, s)
		}
	}
	require.Len(t, ended, 1, "the call span alone: nothing went out")
	et, ok := attrOf(ended[0], "error.type")
	require.True(t, ok)
	assert.Equal(t, "circuit_open", et.AsString())
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.breaker.transitions",
		attribute.String("cosmosrt.breaker.from", "closed"), attribute.String("cosmosrt.breaker.to", "open")))
}

// A call that Close ended while it waited to resend names its end
// "closed" in error.type.
func TestTelemetryNamesACallEndedByClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := Options{Base: newFake(status(429, "x-ms-retry-after-ms", "20000")), NoAttemptSpans: true}
		ob := observe(&o)
		rt, err := New(o)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			resp, err := rt.RoundTrip(get(t, context.Background()))
			if resp != nil {
				resp.Body.Close()
			}
			done <- err
		}()
		synctest.Wait() // the call is waiting out the hint
		require.NoError(t, rt.Close())
		require.ErrorIs(t, <-done, ErrClosed)

		spans := ob.spans.Ended()
		require.Len(t, spans, 1)
		et, ok := attrOf(spans[0], "error.type")
		require.True(t, ok)
		assert.Equal(t, "closed", et.AsString())
	})
}

// TestTelemetryCostsNoAllocationsWithoutProviders compares, in one run, the
// chain's retry loop with and without its telemetry when the otel globals
// are the no-op defaults.
func TestTelemetryCostsNoAllocationsWithoutProviders(t *testing.T) {
	f := newFake(status(200))
	req, err := http.NewRequest(http.MethodGet, docsURL+"/1", nil)
	require.NoError(t, err)

	bare := NewRetry(f, policy.RetryOptions{})
	traced := NewRetry(f, policy.RetryOptions{})
	traced.tel = instrument.New(instrument.Options{})
	send := func(r *Retry) func() {
		return func() {
			resp, err := r.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	without := testing.AllocsPerRun(200, send(bare))
	with := testing.AllocsPerRun(200, send(traced))
	t.Logf("allocations per call: %.0f without telemetry, %.0f with no providers set", without, with)
	assert.Equal(t, without, with)
	assert.Equal(t, docsURL+"/1", req.URL.String(), "the caller's request is untouched")
	assert.Empty(t, req.Header)
}

// A partition circuit's trip is an event on the span of the call whose
// answer tripped it, its recovery an event on the span of the probe that
// found the range healthy again; both are counted by region and outcome,
// and the gauge shows the open circuit while it is open.
func TestPartitionCircuitChangesAreTracedAndCounted(t *testing.T) {
	o := Options{PreferredRegions: []string{"West US 2", "East US"}, Partitions: policy.PartitionOptions{ConsecutiveFailures: 3, OpenTimeout: 50 * time.Millisecond}}
	ob := observe(&o)
	r := newPartitionRig(t, cosmostest.Options{Regions: []string{"West US 2", "East US"}}, o)
	r.acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusInternalServerError, Container: "p/c", Range: "1"})
	pk := r.keys["1"][0]
	read := func() {
		t.Helper()
		require.Equal(t, http.StatusOK, r.send(t, context.Background(), http.MethodGet, "/dbs/p/colls/c/docs/"+pk, "", pk).StatusCode)
	}
	events := func(name string) (out []sdktrace.Event, on []sdktrace.ReadOnlySpan) {
		for _, s := range ob.spans.Ended() {
			for _, e := range s.Events() {
				if e.Name == name {
					out, on = append(out, e), append(on, s)
				}
			}
		}
		return out, on
	}
	for range 3 {
		read()
	}
	opened, on := events("partition.open")
	require.Len(t, opened, 1, "the third 500 trips the range")
	assert.Equal(t, "read_item c", on[0].Name(), "on the call's span")
	assert.Equal(t, map[attribute.Key]attribute.Value{
		"cosmosrt.partition.container": attribute.StringValue("dbs/p/colls/c"),
		"cosmosrt.partition.range":     attribute.StringValue("1"),
		"cosmosrt.partition.region":    attribute.StringValue("West US 2"),
		"cosmosrt.partition.outcome":   attribute.StringValue("tripped"),
	}, eventAttrs(opened[0]))
	assert.Equal(t, map[string]int64{"West US 2": 1}, openPartitionsGauge(t, ob))

	r.acct.ClearFaults("West US 2")
	deadline := time.Now().Add(5 * time.Second)
	for len(newStatus(r).OpenPartitions) > 0 {
		require.True(t, time.Now().Before(deadline), "the circuit closes")
		read()
	}
	closed, on := events("partition.close")
	require.Len(t, closed, 1, "one probe closed it")
	assert.Equal(t, attribute.StringValue("recovered"), eventAttrs(closed[0])["cosmosrt.partition.outcome"])
	probe := on[0]
	assert.Equal(t, "cosmosrt.partition.probe", probe.Name())
	assert.Equal(t, trace.SpanKindInternal, probe.SpanKind())
	region, _ := attrOf(probe, "cosmosrt.partition.region")
	assert.Equal(t, "West US 2", region.AsString())
	status, _ := attrOf(probe, "db.response.status_code")
	assert.Equal(t, "404", status.AsString(), "an id no item has")
	assert.Len(t, childrenOf(ob.spans.Ended(), probe.SpanContext().SpanID()), 1, "its one request")
	assert.Empty(t, openPartitionsGauge(t, ob))
	west := attribute.String("cosmosrt.partition.region", "West US 2")
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.partition.transitions", west, attribute.String("cosmosrt.partition.outcome", "tripped")))
	assert.Equal(t, int64(1), sum(t, ob.metrics, "cosmosrt.partition.transitions", west, attribute.String("cosmosrt.partition.outcome", "recovered")))
}

func eventAttrs(e sdktrace.Event) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range e.Attributes {
		out[kv.Key] = kv.Value
	}
	return out
}

// openPartitionsGauge reads cosmosrt.partition.open by region.
func openPartitionsGauge(t *testing.T, ob *observed) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, ob.metrics.Collect(context.Background(), &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "cosmosrt.partition.open" {
				for _, p := range m.Data.(metricdata.Gauge[int64]).DataPoints {
					region, _ := p.Attributes.Value("cosmosrt.partition.region")
					out[region.AsString()] = p.Value
				}
			}
		}
	}
	return out
}
