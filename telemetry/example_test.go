package telemetry_test

import (
	"context"
	"fmt"
	"net/http"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cosmosrt/cosmosrt/telemetry"
)

// A retry loop records one call span, however many attempts it makes.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tel := telemetry.New(telemetry.Options{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
	})

	req, _ := http.NewRequest(http.MethodGet, "https://contoso.documents.azure.com/dbs/shop/colls/orders/docs/42", nil)
	_, call := tel.StartCall(context.Background(), req)
	call.Attempt("West US 2")
	call.Retry("service_unavailable", 0) // the first region answered 503
	call.Attempt("East US")
	resp := &http.Response{StatusCode: 200, Header: http.Header{"X-Ms-Request-Charge": {"1"}}}
	call.End(resp, nil, "")

	s := spans.Ended()[0]
	fmt.Println(s.Name())
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case "db.response.status_code", "azure.cosmosdb.operation.contacted_regions":
			fmt.Println(kv.Key, kv.Value.Emit())
		}
	}
	// Output:
	// read_item orders
	// db.response.status_code 200
	// azure.cosmosdb.operation.contacted_regions ["West US 2","East US"]
}
