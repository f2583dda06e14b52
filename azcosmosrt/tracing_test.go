package azcosmosrt

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// tracedRig is a rig whose azcosmos client traces through azotel and whose
// chain traces, both to one SDK TracerProvider.
func tracedRig(t *testing.T) (*rig, *tracetest.SpanRecorder) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	r := newRig(t, cosmostest.Options{}, func(o *Options) {
		o.Chain.TracerProvider = tp
		o.SDK.TracingProvider = azotel.NewTracingProvider(tp, nil)
	})
	return r, spans
}

// tree returns the ended spans under the one span named root, root first,
// parents before children, and each as its name and kind indented by its
// depth.
func tree(t *testing.T, spans []sdktrace.ReadOnlySpan, root string) ([]sdktrace.ReadOnlySpan, []string) {
	t.Helper()
	var top sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == root {
			require.Nil(t, top, "one %q span", root)
			top = s
		}
	}
	require.NotNil(t, top, "a %q span", root)
	var order []sdktrace.ReadOnlySpan
	var lines []string
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		order = append(order, s)
		lines = append(lines, strings.Repeat("  ", depth)+s.Name()+" "+s.SpanKind().String())
		for _, c := range spans {
			if c.Parent().SpanID() == s.SpanContext().SpanID() {
				walk(c, depth+1)
			}
		}
	}
	walk(top, 0)
	return order, lines
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) attribute.Value {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// With azotel, an azcosmos operation has one operation span, azcosmos's:
// the chain records on azcore's HTTP span below it, and the attempts are
// that span's children.
func TestWithAzotelAnOperationHasOneOperationSpan(t *testing.T) {
	r, spans := tracedRig(t)
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err)
	r.acct.Inject(r.acct.WriteRegion(), cosmostest.Fault{Status: http.StatusServiceUnavailable, Ops: cosmostest.ReadOps, Count: 1})
	spans.Reset()

	ctx, diag := transport.WithDiagnostics(t.Context())
	_, err = r.orders.ReadItem(ctx, pk, "1", nil)
	require.NoError(t, err)

	order, lines := tree(t, spans.Ended(), "read_item orders")
	assert.Equal(t, []string{
		"read_item orders client",
		"  HTTP GET client",
		"    HTTP GET client",
		"    HTTP GET client",
	}, lines, "azcosmos's operation, azcore's request, two attempts")
	require.Len(t, order, 4)
	httpSpan := order[1]
	assert.Equal(t, "Microsoft.DocumentDB", attr(httpSpan, "az.namespace").AsString(), "azcore's span")
	regions := attr(httpSpan, "azure.cosmosdb.operation.contacted_regions").AsStringSlice()
	assert.Len(t, regions, 2, "the chain's attributes are on azcore's span")
	assert.Equal(t, 1.0, attr(httpSpan, "azure.cosmosdb.operation.request_charge").AsFloat64())
	require.Len(t, httpSpan.Events(), 1)
	assert.Equal(t, "retry", httpSpan.Events()[0].Name)
	for _, s := range spans.Ended() {
		assert.NotEqual(t, "azure.cosmosdb", attr(s, "db.system.name").AsString(),
			"no span of the chain's own for the call (%s)", s.Name())
	}

	got := diag.Attempts()
	require.Len(t, got, 2, "the diagnostics reach the chain through azcosmos")
	assert.Equal(t, []int{503, 200}, []int{got[0].Status, got[1].Status})
	assert.Equal(t, regions, []string{got[0].Region, got[1].Region})
}
