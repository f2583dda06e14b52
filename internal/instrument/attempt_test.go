package instrument

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// server answers 503 to the first fails requests, then 200, and keeps the
// traceparent header of each request.
type server struct {
	*httptest.Server
	mu          sync.Mutex
	fails       int
	traceparent []string
}

func newServer(t *testing.T, fails int) *server {
	s := &server{fails: fails}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.traceparent = append(s.traceparent, r.Header.Get("traceparent"))
		if len(s.traceparent) <= s.fails {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.traceparent...)
}

func TestAttemptSpans(t *testing.T) {
	r := newRig(t, Options{})
	srv := newServer(t, 2)
	rt := r.tel.Attempts(srv.Client().Transport)
	req := mustRequest(t, http.MethodPost, srv.URL+"/dbs/d/colls/c/docs?sig=SECRETSIGNATURE&se=2030")
	req.Header.Set("Authorization", secretAuth)

	// A retry loop as the transport runs it.
	ctx, c := startCall(r.tel, context.Background(), req)
	for n := range 5 {
		c.Attempt(context.Background(), 0, "local", false)
		resp, err := rt.RoundTrip(req.WithContext(withAttempt(ctx, n)))
		require.NoError(t, err)
		c.Answered(context.Background(), resp, nil, false, nil, 0)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 500 {
			c.End(resp, nil)
			break
		}
		c.Answered(context.Background(), nil, nil, true, reason("service_unavailable"), 0)
	}

	call := r.ended("create_item c")
	require.Len(t, call, 1)
	attempts := r.ended("HTTP POST")
	require.Len(t, attempts, 3)
	seen := srv.seen()
	require.Len(t, seen, 3)
	for i, s := range attempts {
		a := attrs(s.Attributes())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		assert.Equal(t, call[0].SpanContext().SpanID(), s.Parent().SpanID(), "attempt %d is a child of the call", i)
		assert.Equal(t, call[0].SpanContext().TraceID(), s.SpanContext().TraceID())
		assert.Contains(t, seen[i], s.SpanContext().SpanID().String(), "attempt %d carried its own span in traceparent", i)
		if i == 0 {
			assert.NotContains(t, a, "http.request.resend_count")
		} else {
			assert.Equal(t, int64(i), a["http.request.resend_count"])
		}
		assert.Equal(t, srv.URL+"/dbs/d/colls/c/docs?sig=REDACTED&se=REDACTED", a["url.full"])
	}
	assertNoSecrets(t, r.spans.Ended())
	r.allEnded(t)

	m := r.metric(t, "http.client.request.duration")
	require.NotNil(t, m.Data, "otelhttp's metrics use the Telemetry's meter provider")
	var count uint64
	for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		count += dp.Count
		assert.Contains(t, dp.Bounds, 0.075, "otelhttp's own buckets are kept")
	}
	assert.Equal(t, uint64(3), count)
}

func TestAttemptSpanOnTransportError(t *testing.T) {
	r := newRig(t, Options{})
	rt := r.tel.Attempts(errTransport{})
	ctx, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d"))
	_, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "https://a.example/dbs/d").WithContext(ctx))
	require.Error(t, err)
	c.End(nil, err)

	attempt := r.ended("HTTP GET")
	require.Len(t, attempt, 1)
	assert.Equal(t, codes.Error, attempt[0].Status().Code)
	r.allEnded(t)
}

type errTransport struct{}

func (errTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

func TestNoAttemptSpansSendsStraightToNext(t *testing.T) {
	r := newRig(t, Options{NoAttemptSpans: true})
	next := &staticTransport{resp: &http.Response{StatusCode: 200, Body: http.NoBody}}
	ctx, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d"))
	req := mustRequest(t, http.MethodGet, "https://a.example/dbs/d").WithContext(ctx)
	resp, err := r.tel.Attempts(next).RoundTrip(req)
	require.NoError(t, err)
	c.End(resp, nil)
	assert.Same(t, req, next.last, "the request went to next as it came")
	assert.Len(t, r.spans.Ended(), 1, "the call span alone: no attempt span")
}

func TestAttemptsForwardCloseIdleConnections(t *testing.T) {
	next := &closer{}
	New(Options{}).Attempts(next).(interface{ CloseIdleConnections() }).CloseIdleConnections()
	assert.Equal(t, 1, next.closed)
}

type closer struct {
	staticTransport
	closed int
}

func (c *closer) CloseIdleConnections() { c.closed++ }

func TestAttemptsPropagateWithoutTracing(t *testing.T) {
	// No tracer or meter, but propagators: the caller's trace context still
	// reaches the server.
	tel := New(Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider(),
		Propagators: propagation.TraceContext{}})
	srv := newServer(t, 0)
	rt := tel.Attempts(srv.Client().Transport)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true})
	for _, ctx := range []context.Context{context.Background(), trace.ContextWithRemoteSpanContext(context.Background(), sc)} {
		resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, srv.URL+"/").WithContext(ctx))
		require.NoError(t, err)
		resp.Body.Close()
	}
	seen := srv.seen()
	assert.Empty(t, seen[0], "nothing to propagate")
	assert.Contains(t, seen[1], sc.TraceID().String())
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://h/p":                        "https://h/p",
		"https://h/p?sig=abc%2Bdef&se=1&x":   "https://h/p?sig=REDACTED&se=REDACTED&x",
		"https://user:pw@h:8081/p?token=t#f": "https://h:8081/p?token=REDACTED",
	}
	for in, want := range cases {
		u, err := url.Parse(in)
		require.NoError(t, err)
		assert.Equal(t, want, redactURL(u), in)
	}
}

func TestWithAttempt(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, ctx, withAttempt(ctx, 0), "the first attempt leaves the context alone")
	assert.Equal(t, 0, attemptOf(ctx))
	assert.Equal(t, 3, attemptOf(withAttempt(ctx, 3)))
}
