package instrument

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

const secretAuth = "type%3Dmaster%26ver%3D1.0%26sig%3DSECRETSIGNATURE"

func respWith(status int, headers ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return &http.Response{StatusCode: status, Header: h}
}

func TestCallSpan(t *testing.T) {
	r := newRig(t, Options{})
	req := mustRequest(t, http.MethodPost, "https://acct.documents.azure.com:443/dbs/shop/colls/orders/docs")
	req.Header.Set("Authorization", secretAuth)

	ctx, c := startCall(r.tel, context.Background(), req)
	require.NotNil(t, c)
	assert.True(t, trace.SpanFromContext(ctx).SpanContext().IsValid(), "the context carries the call span")
	c.Attempt(context.Background(), 0, "West US", false)
	c.Answered(context.Background(), respWith(503, "x-ms-request-charge", "1.5"), nil, false, nil, 0)
	c.Attempt(context.Background(), 0, "East US", false)
	c.End(respWith(201, "x-ms-request-charge", "6.25", "x-ms-substatus", "0"), nil)

	spans := r.ended("create_item orders")
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	assert.Equal(t, codes.Unset, s.Status().Code)
	assert.Equal(t, map[string]any{
		"db.system.name":                             "azure.cosmosdb",
		"db.operation.name":                          "create_item",
		"db.namespace":                               "shop",
		"db.collection.name":                         "orders",
		"server.address":                             "acct.documents.azure.com",
		"db.response.status_code":                    "201",
		"azure.cosmosdb.response.sub_status_code":    int64(0),
		"azure.cosmosdb.operation.request_charge":    7.75,
		"azure.cosmosdb.operation.contacted_regions": []string{"West US", "East US"},
	}, attrs(s.Attributes()))
	assertNoSecrets(t, r.spans.Ended())
	r.allEnded(t)
}

// assertNoSecrets checks that no attribute or event attribute of any span
// holds the Authorization value or a query signature: "sig=" may appear
// only as "sig=REDACTED".
func assertNoSecrets(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	check := func(span, key, v string) {
		assert.NotContains(t, v, "SECRETSIGNATURE", "%s: %s", span, key)
		assert.NotContains(t, strings.ReplaceAll(v, "sig=REDACTED", ""), "sig=", "%s: %s", span, key)
	}
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			check(s.Name(), string(kv.Key), kv.Value.Emit())
		}
		for _, e := range s.Events() {
			for _, kv := range e.Attributes {
				check(s.Name(), string(kv.Key), kv.Value.Emit())
			}
		}
		check(s.Name(), "status", s.Status().Description)
	}
}

type typedErr struct{}

func (typedErr) Error() string     { return "typed" }
func (typedErr) ErrorType() string { return "typed_failure" }

func TestCallErrorTypeOnlyOnFailure(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name string
		resp *http.Response
		err  error
		want string // "" = not failed
	}{
		{"ok", respWith(200), nil, ""},
		{"not modified", respWith(304), nil, ""},
		{"not found", respWith(404, "x-ms-substatus", "1002"), nil, "404"},
		{"throttled to the end", respWith(429), nil, "429"},
		{"named by the chain", nil, circuitOpen{}, "circuit_open"},
		{"deadline", nil, fmt.Errorf("transport: %w", context.DeadlineExceeded), "timeout"},
		{"canceled", nil, fmt.Errorf("transport: %w", context.Canceled), "canceled"},
		{"typed error", nil, fmt.Errorf("wrapped: %w", typedErr{}), "typed_failure"},
		{"network error", nil, opErr, "dial_error"},
		{"eof", nil, &url.Error{Op: "Get", URL: "https://a.example/", Err: io.EOF}, "eof"},
		{"unclassified error", nil, errors.New("boom"), "_OTHER"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Options{})
			_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
			c.End(tc.resp, tc.err)

			s := r.ended("read_item c")[0]
			spanAttrs := attrs(s.Attributes())
			dp := r.metric(t, metricOperationDuration).Data.(metricdata.Histogram[float64]).DataPoints[0]
			metricAttrs := setAttrs(dp.Attributes)
			if tc.want == "" {
				assert.NotContains(t, spanAttrs, "error.type")
				assert.NotContains(t, metricAttrs, "error.type")
				assert.Equal(t, codes.Unset, s.Status().Code)
				return
			}
			assert.Equal(t, tc.want, spanAttrs["error.type"])
			assert.Equal(t, tc.want, metricAttrs["error.type"])
			assert.Equal(t, codes.Error, s.Status().Code)
			if tc.err != nil {
				assert.Equal(t, tc.err.Error(), s.Status().Description)
			}
		})
	}
}

func TestContactedRegionsInOrderWithoutDuplicates(t *testing.T) {
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d"))
	for _, region := range []string{"West US", "East US", "West US", "", "North Europe", "East US"} {
		c.Attempt(context.Background(), 0, region, false)
	}
	c.End(respWith(200), nil)
	got := attrs(r.ended("read_database d")[0].Attributes())["azure.cosmosdb.operation.contacted_regions"]
	assert.Equal(t, []string{"West US", "East US", "North Europe"}, got)
}

func TestRequestChargeIsSummedOverAttempts(t *testing.T) {
	final := respWith(200, "x-ms-request-charge", "1.25")
	cases := []struct {
		name   string
		charge []*http.Response
		end    *http.Response
		want   any // nil: no charge attribute
	}{
		{"every attempt charged, the last too", []*http.Response{respWith(429, "x-ms-request-charge", "2.5"), respWith(503), final}, final, 3.75},
		{"the last left to End", []*http.Response{respWith(429, "x-ms-request-charge", "2.5")}, final, 3.75},
		{"malformed values ignored", []*http.Response{respWith(503, "x-ms-request-charge", "lots"), respWith(503, "x-ms-request-charge", "-3")}, final, 1.25},
		{"no charge header at all", []*http.Response{respWith(503)}, respWith(200), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Options{})
			_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
			for _, resp := range tc.charge {
				c.Answered(context.Background(), resp, nil, false, nil, 0)
			}
			c.End(tc.end, nil)
			got, ok := attrs(r.ended("read_item c")[0].Attributes())["azure.cosmosdb.operation.request_charge"]
			hist := r.metric(t, metricRequestCharge)
			if tc.want == nil {
				assert.False(t, ok)
				assert.Nil(t, hist.Data)
				return
			}
			assert.Equal(t, tc.want, got)
			dp := hist.Data.(metricdata.Histogram[float64]).DataPoints[0]
			assert.Equal(t, tc.want, dp.Sum)
		})
	}
}

func TestDurationHistogram(t *testing.T) {
	r := newRig(t, Options{})
	req := mustRequest(t, http.MethodDelete, "https://localhost:8081/dbs/d/colls/c/docs/1")
	_, c := startCall(r.tel, context.Background(), req)
	c.Attempt(context.Background(), 0, "West US", false)
	r.now = r.now.Add(30 * time.Millisecond)
	c.End(respWith(204, "x-ms-request-charge", "5"), nil)

	m := r.metric(t, metricOperationDuration)
	assert.Equal(t, "s", m.Unit)
	h := m.Data.(metricdata.Histogram[float64])
	require.Len(t, h.DataPoints, 1)
	dp := h.DataPoints[0]
	assert.Equal(t, uint64(1), dp.Count)
	assert.InDelta(t, 0.030, dp.Sum, 1e-9)
	assert.Equal(t, []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}, dp.Bounds)
	assert.Equal(t, uint64(1), dp.BucketCounts[3], "30 ms falls in (10 ms, 50 ms]")
	assert.Equal(t, map[string]any{
		"db.system.name":          "azure.cosmosdb",
		"db.operation.name":       "delete_item",
		"db.namespace":            "d",
		"db.collection.name":      "c",
		"server.address":          "localhost",
		"server.port":             int64(8081),
		"db.response.status_code": "204",
		"azure.cosmosdb.operation.contacted_regions": []string{"West US"},
	}, setAttrs(dp.Attributes))
}

func TestRetriesBackoffAndFailovers(t *testing.T) {
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodPost, "https://a.example/dbs/d/colls/c/docs"))
	c.Answered(context.Background(), nil, nil, true, reason("throttled"), 100*time.Millisecond)
	c.Answered(context.Background(), nil, nil, true, reason("throttled"), 200*time.Millisecond)
	c.Answered(context.Background(), nil, nil, true, reason("service_unavailable"), 0)
	c.Attempt(context.Background(), 1, "", true)
	c.End(respWith(201), nil)
	c.Answered(context.Background(), nil, nil, true, reason("after_end"), time.Second) // ignored

	retries := map[string]int64{}
	for _, dp := range r.metric(t, metricRetries).Data.(metricdata.Sum[int64]).DataPoints {
		a := setAttrs(dp.Attributes)
		assert.Equal(t, "create_item", a["db.operation.name"])
		retries[a["cosmosrt.retry.reason"].(string)] = dp.Value
	}
	assert.Equal(t, map[string]int64{"throttled": 2, "service_unavailable": 1}, retries)

	waits := map[string]float64{}
	for _, dp := range r.metric(t, metricBackoffWait).Data.(metricdata.Histogram[float64]).DataPoints {
		waits[setAttrs(dp.Attributes)["cosmosrt.retry.reason"].(string)] = dp.Sum
	}
	assert.InDeltaMapValues(t, map[string]float64{"throttled": 0.3, "service_unavailable": 0}, waits, 1e-9)

	failovers := r.metric(t, metricFailovers).Data.(metricdata.Sum[int64]).DataPoints
	require.Len(t, failovers, 1)
	assert.Equal(t, int64(1), failovers[0].Value)

	var events []string
	for _, e := range r.ended("create_item c")[0].Events() {
		events = append(events, e.Name+" "+fmt.Sprint(attrs(e.Attributes)["cosmosrt.retry.reason"]))
	}
	assert.Equal(t, []string{"retry throttled", "retry throttled", "retry service_unavailable", "failover <nil>"}, events)
}

func TestEndIsIdempotent(t *testing.T) {
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	c.End(respWith(200), nil)
	c.End(nil, errors.New("late"))
	c.Attempt(context.Background(), 0, "late", false)
	c.Answered(context.Background(), respWith(200, "x-ms-request-charge", "9"), nil, false, nil, 0)
	c.Attempt(context.Background(), 1, "", true)

	require.Len(t, r.spans.Ended(), 1)
	s := r.spans.Ended()[0]
	assert.NotContains(t, attrs(s.Attributes()), "error.type")
	assert.Empty(t, s.Events())
	dp := r.metric(t, metricOperationDuration).Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, dp, 1)
	assert.Equal(t, uint64(1), dp[0].Count)
	assert.Nil(t, r.metric(t, metricFailovers).Data)
}

func TestNilCallIsANoop(t *testing.T) {
	var c *Call
	assert.NotPanics(t, func() {
		c.Attempt(context.Background(), 0, "x", false)
		c.Answered(context.Background(), nil, nil, true, reason("x"), time.Second)
		c.Attempt(context.Background(), 1, "", true)
		c.Answered(context.Background(), respWith(200), nil, false, nil, 0)
		c.End(respWith(200), nil)
	})
}

func TestSpanNameTargets(t *testing.T) {
	cases := map[string]string{
		"/dbs/d/colls/c/docs/1": "read_item c",
		"/dbs/d":                "read_database d",
		"/dbs":                  "read_all_databases",
		"/":                     "read_database_account",
	}
	for path, want := range cases {
		r := newRig(t, Options{})
		_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example"+path))
		c.End(respWith(200), nil)
		assert.Len(t, r.ended(want), 1, path)
	}
}

// BenchmarkCall measures a call with nothing recorded (the OpenTelemetry
// globals without SDK) and with an SDK.
func BenchmarkCall(b *testing.B) {
	req := mustRequest(b, http.MethodGet, "https://acct.documents.azure.com/dbs/d/colls/c/docs/1")
	resp := respWith(200, "x-ms-request-charge", "1")
	run := func(b *testing.B, tel *Telemetry) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, c := startCall(tel, context.Background(), req)
			c.Attempt(context.Background(), 0, "West US", false)
			c.Answered(context.Background(), resp, nil, false, nil, 0)
			c.End(resp, nil)
			_ = ctx
		}
	}
	b.Run("globals without SDK", func(b *testing.B) { run(b, New(Options{})) })
	b.Run("SDK", func(b *testing.B) {
		r := newRig(b, Options{})
		run(b, r.tel)
	})
}

// reason is a retry reason.
type reason string

func (r reason) String() string { return string(r) }
