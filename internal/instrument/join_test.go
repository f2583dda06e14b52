package instrument

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// azcosmosScope is the scope azotel gives azcosmos's spans: azcore names a
// client's tracer after its module.
const azcosmosScope = "github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

// azcoreHTTPSpan starts a span as azcore's HTTP trace policy does through
// azotel: "HTTP POST", CLIENT, with the attributes azcore sets and the
// az.namespace azcosmos gives its tracer.
func azcoreHTTPSpan(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.Span) {
	return tp.Tracer(azcosmosScope, trace.WithInstrumentationVersion("v1.5.0")).Start(ctx, "HTTP POST",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.method", "POST"),
			attribute.String("http.url", "https://acct.documents.azure.com/dbs/shop/colls/orders/docs"),
			attribute.String("net.peer.name", "acct.documents.azure.com"),
			attribute.String("az.namespace", "Microsoft.DocumentDB")))
}

func TestCallJoinsAnAzureSDKSpan(t *testing.T) {
	r := newRig(t, Options{})
	srv := newServer(t, 1)
	rt := r.tel.Attempts(srv.Client().Transport)
	req := mustRequest(t, http.MethodPost, srv.URL+"/dbs/shop/colls/orders/docs")

	pctx, parent := azcoreHTTPSpan(context.Background(), r.tel.opts.TracerProvider)
	ctx, c := startCall(r.tel, pctx, req)
	require.NotNil(t, c)
	assert.Equal(t, parent.SpanContext(), trace.SpanFromContext(ctx).SpanContext(), "no span of the call's own")
	for n := range 2 {
		actx := c.Attempt(ctx, n, "West US", false)
		resp, err := rt.RoundTrip(req.WithContext(actx))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.Answered(context.Background(), resp, nil, n == 0, reason("unavailable"), 0)
		if n == 1 {
			c.End(resp, nil)
		}
	}
	assert.Len(t, r.spans.Ended(), 2, "the attempts ended; the joined span is its owner's to end")
	parent.End()

	spans := r.spans.Ended()
	require.Len(t, spans, 3, "azcore's span and two attempts: no call span")
	joined := spans[2]
	require.Equal(t, "HTTP POST", joined.Name())
	assert.Equal(t, azcosmosScope, joined.InstrumentationScope().Name)
	a := attrs(joined.Attributes())
	assert.Equal(t, "201", a["db.response.status_code"])
	assert.Equal(t, []string{"West US"}, a["azure.cosmosdb.operation.contacted_regions"])
	for _, k := range []string{"db.system.name", "db.operation.name", "db.namespace", "db.collection.name", "error.type"} {
		assert.NotContains(t, a, k, "the SDK's operation span names the operation; the joined span only gets the outcome")
	}
	assert.Equal(t, "Microsoft.DocumentDB", a["az.namespace"], "the SDK's attributes are kept")
	require.Len(t, joined.Events(), 1)
	assert.Equal(t, "retry", joined.Events()[0].Name)
	assert.Equal(t, codes.Unset, joined.Status().Code)
	for _, s := range spans[:2] {
		assert.Equal(t, joined.SpanContext().SpanID(), s.Parent().SpanID(), "the attempt %s is a child of the joined span", s.Name())
	}
	dp := r.metric(t, metricOperationDuration)
	assert.NotNil(t, dp.Data, "metrics are recorded as usual")
}

func TestAFailedCallOnAJoinedSpanGetsErrorTypeNotStatus(t *testing.T) {
	r := newRig(t, Options{})
	pctx, parent := azcoreHTTPSpan(context.Background(), r.tel.opts.TracerProvider)
	_, c := startCall(r.tel, pctx, mustRequest(t, http.MethodPost, "https://a.example/dbs/shop/colls/orders/docs"))
	c.Attempt(pctx, 0, "West US", false)
	c.End(nil, io.EOF)
	parent.End()
	s := r.spans.Ended()[0]
	assert.Equal(t, "eof", attrs(s.Attributes())["error.type"])
	assert.Equal(t, codes.Unset, s.Status().Code, "the span's status is its owner's")
}

func TestCallStartsItsOwnSpanUnderOtherSpans(t *testing.T) {
	cases := map[string]func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.Span){
		"an application's CLIENT span": func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.Span) {
			return tp.Tracer("example.com/shop").Start(ctx, "orders.Get", trace.WithSpanKind(trace.SpanKindClient))
		},
		"an Azure SDK INTERNAL span": func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.Span) {
			return tp.Tracer(azcosmosScope).Start(ctx, "Client.Method", trace.WithSpanKind(trace.SpanKindInternal),
				trace.WithAttributes(attribute.String("az.namespace", "Microsoft.DocumentDB")))
		},
		"another Azure service's CLIENT span": func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.Span) {
			return tp.Tracer("github.com/Azure/azure-sdk-for-go/sdk/storage/azblob").Start(ctx, "HTTP GET",
				trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attribute.String("az.namespace", "Microsoft.Storage")))
		},
		"a span that does not expose its kind and attributes": func(ctx context.Context, tp trace.TracerProvider) (context.Context, trace.Span) {
			ctx, s := azcoreHTTPSpan(ctx, tp)
			return ctx, opaque{s}
		},
	}
	for name, start := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, Options{})
			pctx, parent := start(context.Background(), r.tel.opts.TracerProvider)
			pctx = trace.ContextWithSpan(pctx, parent)
			ctx, c := startCall(r.tel, pctx, mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
			assert.NotEqual(t, parent.SpanContext().SpanID(), trace.SpanFromContext(ctx).SpanContext().SpanID())
			c.End(respWith(200), nil)
			parent.End()
			call := r.ended("read_item c")
			require.Len(t, call, 1)
			assert.Equal(t, parent.SpanContext().SpanID(), call[0].Parent().SpanID())
		})
	}
}

func TestJoinSpanOption(t *testing.T) {
	never := newRig(t, Options{joinSpan: func(trace.Span) bool { return false }})
	pctx, parent := azcoreHTTPSpan(context.Background(), never.tel.opts.TracerProvider)
	_, c := startCall(never.tel, pctx, mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	c.End(respWith(200), nil)
	parent.End()
	assert.Len(t, never.ended("read_item c"), 1, "joinSpan returning false: the call has its own span")

	always := newRig(t, Options{joinSpan: func(trace.Span) bool { return true }})
	pctx, parent = always.tel.opts.TracerProvider.Tracer("example.com/shop").Start(context.Background(), "orders.Get")
	_, c = startCall(always.tel, pctx, mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	c.End(respWith(200), nil)
	parent.End()
	require.Len(t, always.spans.Ended(), 1)
	assert.Equal(t, "orders.Get", always.spans.Ended()[0].Name())
	assert.Equal(t, "200", attrs(always.spans.Ended()[0].Attributes())["db.response.status_code"])
}

// opaque hides all but the trace.Span methods of a span.
type opaque struct{ trace.Span }

func TestAzureSDKSpan(t *testing.T) {
	r := newRig(t, Options{})
	_, s := azcoreHTTPSpan(context.Background(), r.tel.opts.TracerProvider)
	defer s.End()
	assert.True(t, azureSDKSpan(s))
	sampledOut := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	_, dropped := azcoreHTTPSpan(context.Background(), sampledOut)
	assert.False(t, azureSDKSpan(dropped), "a span that records nothing is not joined")
	assert.False(t, azureSDKSpan(trace.SpanFromContext(context.Background())))
	assert.False(t, azureSDKSpan(nil))
}
