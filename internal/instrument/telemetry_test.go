package instrument

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is a Telemetry on an SDK tracer provider with a span recorder, an SDK
// meter provider with a manual reader, W3C trace context propagation and a
// fake clock.
type rig struct {
	tel    *Telemetry
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	now    time.Time
}

func newRig(t testing.TB, o Options) *rig {
	t.Helper()
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(),
		now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	o.TracerProvider, o.MeterProvider, o.Propagators = tp, mp, propagation.TraceContext{}
	o.now = func() time.Time { return r.now }
	r.tel = New(o)
	return r
}

// ended returns the ended spans named name.
func (r *rig) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// allEnded checks that every started span has ended.
func (r *rig) allEnded(t *testing.T) {
	t.Helper()
	assert.Len(t, r.spans.Ended(), len(r.spans.Started()), "every started span ends")
}

// metric collects and returns the metric named name (zero value if absent).
func collect(t *testing.T, reader *sdkmetric.ManualReader, name string) metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	return metricdata.Metrics{}
}

func (r *rig) metric(t *testing.T, name string) metricdata.Metrics {
	t.Helper()
	return collect(t, r.reader, name)
}

// attrs turns a list of attributes into a map of their values as emitted.
func attrs(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func setAttrs(s attribute.Set) map[string]any { return attrs(s.ToSlice()) }

func mustRequest(t testing.TB, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	return req
}

// startCall starts recording req on tel, described as the chain describes
// a call's request.
func startCall(tel *Telemetry, ctx context.Context, req *http.Request) (context.Context, *Call) {
	d := wire.Describe(req)
	return tel.StartCall(ctx, req, &d)
}

func TestNoopProvidersRecordNothingAndAllocateNothing(t *testing.T) {
	// The globals of this test process are never set (the test that sets
	// them runs in a child process), so New(Options{}) sees OpenTelemetry's
	// no-op stand-ins.
	cases := map[string]Options{
		"globals without SDK": {},
		"noop providers": {TracerProvider: tracenoop.NewTracerProvider(),
			MeterProvider: metricnoop.NewMeterProvider()},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			tel := New(o)
			req := mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1")
			resp := &http.Response{StatusCode: 503, Header: http.Header{"X-Ms-Request-Charge": {"1.5"}}}
			ctx := context.Background()

			_, c := startCall(tel, ctx, req)
			assert.Nil(t, c, "nothing to record: no Call")

			allocs := testing.AllocsPerRun(200, func() {
				cctx, c := startCall(tel, ctx, req)
				c.Attempt(context.Background(), 0, "West US", false)
				c.Answered(context.Background(), resp, nil, false, nil, 0)
				c.Answered(context.Background(), nil, nil, true, reason("service_unavailable"), 10*time.Millisecond)
				c.Attempt(context.Background(), 1, "", true)
				c.End(resp, nil)
				_ = withAttempt(cctx, 0)
				_, done := tel.OnRefresh(cctx, true)
				done(nil)
				tel.BreakerTransition("https://acct-westus.documents.azure.com:443/", "closed", "open")
			})
			assert.Zero(t, allocs, "allocations per call with nothing recorded")

			base := &staticTransport{resp: &http.Response{StatusCode: 200, Body: http.NoBody}}
			rt := tel.Attempts(base)
			areq := req.WithContext(withAttempt(ctx, 2))
			allocs = testing.AllocsPerRun(200, func() {
				resp, err := rt.RoundTrip(areq)
				if err != nil || resp.StatusCode != 200 {
					panic("unexpected round trip result")
				}
			})
			assert.Zero(t, allocs, "allocations per attempt with nothing recorded")
			assert.Same(t, areq, base.last, "the request went straight to the base transport")
		})
	}
}

// staticTransport answers every request with the same response and keeps
// the last request.
type staticTransport struct {
	resp *http.Response
	last *http.Request
}

func (s *staticTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.last = req
	return s.resp, nil
}

func TestGlobalProvidersSetAfterNewArePickedUp(t *testing.T) {
	// Setting the OpenTelemetry globals cannot be undone, so this runs in a
	// child process and leaves this one's globals untouched.
	const env = "TELEMETRY_TEST_SET_GLOBALS"
	if os.Getenv(env) != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGlobalProvidersSetAfterNewArePickedUp$", "-test.v")
		cmd.Env = append(os.Environ(), env+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "child process:\n%s", out)
		require.Contains(t, string(out), "--- PASS: TestGlobalProvidersSetAfterNewArePickedUp", "child ran the test:\n%s", out)
		return
	}

	var mu sync.Mutex
	var sawTraceparent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sawTraceparent = append(sawTraceparent, r.Header.Get("traceparent"))
	}))
	defer srv.Close()

	tel := New(Options{})
	// The globals' stand-ins handed over explicitly forward to the SDK too.
	captured := New(Options{TracerProvider: otel.GetTracerProvider(), MeterProvider: otel.GetMeterProvider()})
	_, c := startCall(captured, context.Background(), mustRequest(t, http.MethodGet, srv.URL+"/dbs/d"))
	assert.Nil(t, c, "nothing recorded before an SDK is installed")
	tel.ObserveBreakers(func(yield func(string, int64)) { yield("https://acct-westus.example:443/", BreakerOpen) })
	client := &http.Client{Transport: tel.Attempts(srv.Client().Transport)}
	call := func() {
		req := mustRequest(t, http.MethodGet, srv.URL+"/dbs/d/colls/c/docs/1")
		ctx, c := startCall(tel, req.Context(), req)
		resp, err := client.Do(req.WithContext(ctx))
		require.NoError(t, err)
		resp.Body.Close()
		c.End(resp, nil)
	}
	call() // before any SDK: nothing recorded, nothing propagated

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader1 := sdkmetric.NewManualReader()
	mp1 := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader1))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp1)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	call()

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sawTraceparent, 2)
	assert.Empty(t, sawTraceparent[0], "the first call, before any SDK, propagated nothing")
	assert.NotEmpty(t, sawTraceparent[1], "the second call propagated its context")
	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
	}
	assert.ElementsMatch(t, []string{"read_item c", "HTTP GET"}, names)
	_, c = startCall(captured, context.Background(), mustRequest(t, http.MethodGet, srv.URL+"/dbs/d"))
	require.NotNil(t, c)
	c.End(&http.Response{StatusCode: 200}, nil)
	assert.Equal(t, "read_database d", spans.Ended()[len(spans.Ended())-1].Name())
	dur := collect(t, reader1, metricOperationDuration)
	require.NotNil(t, dur.Data, "duration recorded on the provider set after New")
	assert.Equal(t, uint64(1), dur.Data.(metricdata.Histogram[float64]).DataPoints[0].Count)
	assert.Equal(t, []int64{BreakerOpen}, gaugeValues(t, reader1))

	// A second meter provider: instruments are rebuilt on it and the gauge
	// moves there.
	reader2 := sdkmetric.NewManualReader()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader2)))
	tel.BreakerTransition("https://acct-westus.example:443/", "closed", "open")
	assert.NotNil(t, collect(t, reader2, metricBreakerTransition).Data)
	assert.Equal(t, []int64{BreakerOpen}, gaugeValues(t, reader2))
	assert.Empty(t, gaugeValues(t, reader1), "the old provider's callback was unregistered")
}

func gaugeValues(t *testing.T, reader *sdkmetric.ManualReader) []int64 {
	t.Helper()
	m := collect(t, reader, metricBreakerState)
	if m.Data == nil {
		return nil
	}
	var out []int64
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		out = append(out, dp.Value)
	}
	return out
}

func TestInstrumentsAreBuiltOncePerProvider(t *testing.T) {
	mp := &countingMeterProvider{MeterProvider: metricnoop.NewMeterProvider()}
	tel := New(Options{MeterProvider: mp, TracerProvider: tracenoop.NewTracerProvider()})
	req := mustRequest(t, http.MethodGet, "https://acct.documents.azure.com/")
	for range 3 {
		_, c := startCall(tel, context.Background(), req)
		c.End(&http.Response{StatusCode: 200}, nil)
	}
	assert.Equal(t, 1, mp.meters)
}

type countingMeterProvider struct {
	metric.MeterProvider
	meters int
}

func (p *countingMeterProvider) Meter(name string, o ...metric.MeterOption) metric.Meter {
	p.meters++
	return p.MeterProvider.Meter(name, o...)
}

func TestSameValue(t *testing.T) {
	sdk := sdktrace.NewTracerProvider()
	other := sdktrace.NewTracerProvider()
	assert.True(t, sameValue(sdk, sdk))
	assert.False(t, sameValue(sdk, other))
	assert.True(t, sameValue(tracenoop.NewTracerProvider(), tracenoop.NewTracerProvider()))
	assert.False(t, sameValue(nil, nil), "nothing cached yet")
	type unhashable struct {
		trace.TracerProvider
		s []int
	}
	u := unhashable{}
	assert.False(t, sameValue(u, u), "values that cannot be compared are looked up again, without panicking")
}

func TestCloseUnregistersTheGauge(t *testing.T) {
	r := newRig(t, Options{})
	r.tel.ObserveBreakers(func(yield func(string, int64)) { yield("h:1", BreakerHalfOpen) })
	assert.Equal(t, []int64{BreakerHalfOpen}, gaugeValues(t, r.reader))
	require.NoError(t, r.tel.Close())
	require.NoError(t, r.tel.Close())
	assert.Empty(t, gaugeValues(t, r.reader))
	// Still usable after Close.
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://h/"))
	c.End(&http.Response{StatusCode: 200}, nil)
	r.allEnded(t)
	assert.Len(t, r.ended("read_database_account"), 1)
}
