package bench

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cosmosrt/cosmosrt/transport"
)

// discardExporter drops every span it is given.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// newTracerProvider returns an SDK tracer provider as a service would run
// it (every span sampled, a batch processor) whose exporter drops the
// spans. It is shut down when tb ends.
func newTracerProvider(tb testing.TB) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	)
	tb.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

// newMeterProvider returns an SDK meter provider with a manual reader that
// is never read. It is shut down when tb ends.
func newMeterProvider(tb testing.TB) *sdkmetric.MeterProvider {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tb.Cleanup(func() { mp.Shutdown(context.Background()) })
	return mp
}

// BenchmarkTelemetry is BenchmarkGet's read through cosmosrt with no
// OpenTelemetry provider (the otel globals, unset), with an SDK tracer
// provider and W3C propagation (a call span and an attempt span per call,
// traceparent injected), and with an SDK meter provider as well. For
// scale, lib=nethttp-otelhttp is bare net/http wrapped in otelhttp's
// transport with the same providers (one span per call).
func BenchmarkTelemetry(b *testing.B) {
	type variant struct {
		name   string
		client func(tb testing.TB, base http.RoundTripper) *http.Client
	}
	prop := propagation.TraceContext{}
	for _, v := range []variant{
		{"lib=cosmosrt/otel=none", newCosmosrt},
		{"lib=cosmosrt/otel=traces", func(b testing.TB, base http.RoundTripper) *http.Client {
			return newCosmosrtWith(b, base, transport.Options{
				Retry: cosmosrtRetry(), TracerProvider: newTracerProvider(b), Propagators: prop,
			})
		}},
		{"lib=cosmosrt/otel=traces+metrics", func(b testing.TB, base http.RoundTripper) *http.Client {
			return newCosmosrtWith(b, base, transport.Options{
				Retry: cosmosrtRetry(), TracerProvider: newTracerProvider(b),
				MeterProvider: newMeterProvider(b), Propagators: prop,
			})
		}},
		{"lib=nethttp-otelhttp/otel=traces", func(b testing.TB, base http.RoundTripper) *http.Client {
			return &http.Client{Transport: otelhttp.NewTransport(base,
				otelhttp.WithTracerProvider(newTracerProvider(b)), otelhttp.WithPropagators(prop))}
		}},
		{"lib=nethttp-otelhttp/otel=traces+metrics", func(b testing.TB, base http.RoundTripper) *http.Client {
			return &http.Client{Transport: otelhttp.NewTransport(base,
				otelhttp.WithTracerProvider(newTracerProvider(b)), otelhttp.WithMeterProvider(newMeterProvider(b)),
				otelhttp.WithPropagators(prop))}
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			srv, _ := newServer(b, okHandler())
			client := v.client(b, newBase(b))
			url := srv.URL + docPath
			getLoop(b, client, url, http.StatusOK)
		})
	}
}
