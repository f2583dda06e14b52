package instrument

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"
)

type attemptKey struct{}

// withAttempt returns ctx marked as carrying attempt n of a call: 0 for the
// first attempt, 1 for the first resend, and so on. Attempts sets
// http.request.resend_count to n on the attempt span when n > 0. For n <= 0
// it returns ctx itself, so the first attempt costs nothing.
func withAttempt(ctx context.Context, n int) context.Context {
	if n <= 0 {
		return ctx
	}
	return context.WithValue(ctx, attemptKey{}, n)
}

// attemptOf returns the attempt number set by withAttempt, 0 if none.
func attemptOf(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// Attempts wraps next (nil: http.DefaultTransport) so that each physical
// attempt gets an otelhttp CLIENT span, a child of the span in the
// request's context, with http.request.resend_count from the second attempt
// on (see withAttempt), the trace context injected into its headers, and
// otelhttp's http.client.* metrics. url.full is recorded with every query
// value replaced by "REDACTED"; no header is recorded. The providers and
// propagators are looked up at each request, as Options says. When nothing
// would be recorded or propagated the request goes straight to next. With
// Options.NoAttemptSpans, requests always go straight to next.
//
// The returned RoundTripper is safe for concurrent use and forwards
// CloseIdleConnections to next.
func (t *Telemetry) Attempts(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &attempts{t: t, next: next}
}

type attempts struct {
	t    *Telemetry
	next http.RoundTripper

	mu  sync.Mutex // guards building cur
	cur atomic.Pointer[attemptState]
}

// attemptState is an otelhttp transport built for one set of providers.
type attemptState struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
	ot   *otelhttp.Transport

	// otelhttp's own instruments, asked whether they record anything.
	duration httpconv.ClientRequestDuration
	bodySize httpconv.ClientRequestBodySize
}

var _ http.RoundTripper = (*attempts)(nil)

// RoundTrip sends req through otelhttp, or straight to next when no span,
// metric or propagated context would come of it.
func (a *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.t.opts.NoAttemptSpans {
		return a.next.RoundTrip(req)
	}
	st := a.state()
	ctx := req.Context()
	if a.t.tracer() == nil && !st.duration.Enabled(ctx) && !st.bodySize.Enabled(ctx) &&
		!propagates(ctx, st.prop) {
		return a.next.RoundTrip(req)
	}
	return st.ot.RoundTrip(req)
}

// propagates reports whether prop could inject anything for ctx. W3C
// trace context and baggage need a span context or baggage in ctx; other
// propagators might inject from anything, so they count as propagating.
func propagates(ctx context.Context, prop propagation.TextMapPropagator) bool {
	fields := prop.Fields()
	if len(fields) == 0 {
		return false
	}
	if trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0 {
		return true
	}
	for _, f := range fields {
		switch strings.ToLower(f) {
		case "traceparent", "tracestate", "baggage":
		default:
			return true
		}
	}
	return false
}

// state returns the otelhttp transport for the providers in use now.
func (a *attempts) state() *attemptState {
	tp, mp, prop := a.t.tracerProvider(), a.t.meterProvider(), a.t.propagators()
	if st := a.cur.Load(); st != nil && sameValue(st.tp, tp) && sameValue(st.mp, mp) && sameValue(st.prop, prop) {
		return st
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.cur.Load(); st != nil && sameValue(st.tp, tp) && sameValue(st.mp, mp) && sameValue(st.prop, prop) {
		return st
	}
	st := &attemptState{tp: tp, mp: mp, prop: prop}
	st.ot = otelhttp.NewTransport(resends{next: a.next},
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithMeterProvider(mp),
		otelhttp.WithPropagators(prop))
	// The same instruments otelhttp creates (same scope, name, unit,
	// description and buckets), only to ask whether they are enabled.
	m := mp.Meter(otelhttp.ScopeName, metric.WithInstrumentationVersion(otelhttp.Version))
	var err error
	st.duration, err = httpconv.NewClientRequestDuration(m, metric.WithExplicitBucketBoundaries(
		0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	handle(err)
	st.bodySize, err = httpconv.NewClientRequestBodySize(m)
	handle(err)
	a.cur.Store(st)
	return st
}

// CloseIdleConnections forwards to next.
func (a *attempts) CloseIdleConnections() { wire.CloseIdle(a.next) }

// resends runs inside otelhttp, where the request's context carries the
// attempt span: it sets http.request.resend_count and replaces url.full by
// its redacted form.
type resends struct{ next http.RoundTripper }

func (r resends) RoundTrip(req *http.Request) (*http.Response, error) {
	if span := trace.SpanFromContext(req.Context()); span.IsRecording() {
		if n := attemptOf(req.Context()); n > 0 {
			span.SetAttributes(semconv.HTTPRequestResendCount(n))
		}
		if req.URL != nil && req.URL.RawQuery != "" {
			span.SetAttributes(semconv.URLFull(redactURL(req.URL)))
		}
	}
	return r.next.RoundTrip(req)
}

// redactURL returns u without user info and with every query value
// replaced by "REDACTED" (names are kept), so that signatures and tokens
// carried in a query ("sig=…") are never recorded.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		var b strings.Builder
		for i, kv := range strings.Split(c.RawQuery, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			k, _, hasValue := strings.Cut(kv, "=")
			b.WriteString(k)
			if hasValue {
				b.WriteString("=REDACTED")
			}
		}
		c.RawQuery = b.String()
	}
	return c.String()
}
