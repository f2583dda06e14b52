package telemetry_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/telemetry"
	"github.com/cosmosrt/cosmosrt/transport"
)

// An application installs its SDK providers through transport.Options. A
// throttled write then shows as one call span, with the account read that
// its first use caused and one span per attempt, and as the metrics under
// ScopeName.
func Example() {
	acct := cosmostest.NewAccount(cosmostest.Options{}) // West US 2 takes writes
	defer acct.Close()
	acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, Count: 1, Ops: cosmostest.WriteOps,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"5"}},
	})

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	rt, err := transport.New(transport.Options{
		Endpoint:       acct.Endpoint(),
		Key:            acct.Key(),
		TracerProvider: tp,
		MeterProvider:  mp,
	})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	resp, err := client.Post(acct.Endpoint()+"dbs/shop/colls/orders/docs", "application/json",
		strings.NewReader(`{"id":"1"}`))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	// The spans in the order they started, indented under their parents.
	ended := slices.SortedStableFunc(slices.Values(spans.Ended()), func(a, b sdktrace.ReadOnlySpan) int {
		return a.StartTime().Compare(b.StartTime())
	})
	depth := map[trace.SpanID]int{}
	shown := []attribute.Key{
		"db.response.status_code", "azure.cosmosdb.operation.contacted_regions",
		"cosmosrt.account.refresh.forced", "http.response.status_code", "http.request.resend_count",
	}
	for _, s := range ended {
		d, hasParent := depth[s.Parent().SpanID()]
		if hasParent {
			d++
		}
		depth[s.SpanContext().SpanID()] = d
		fmt.Print(strings.Repeat("  ", d), s.Name(), " ", s.SpanKind())
		for _, k := range shown {
			for _, kv := range s.Attributes() {
				if kv.Key == k {
					fmt.Print(" ", k, "=", kv.Value.Emit())
				}
			}
		}
		fmt.Println()
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	var names []string
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name == telemetry.ScopeName {
			for _, m := range sm.Metrics {
				names = append(names, m.Name)
			}
		}
	}
	slices.Sort(names)
	fmt.Println(strings.Join(names, "\n"))
	// Output:
	// create_item orders client db.response.status_code=201 azure.cosmosdb.operation.contacted_regions=["West US 2"]
	//   cosmosrt.account.refresh internal cosmosrt.account.refresh.forced=false
	//     HTTP GET client http.response.status_code=200
	//   HTTP POST client http.response.status_code=429
	//   HTTP POST client http.response.status_code=201 http.request.resend_count=1
	// azure.cosmosdb.client.operation.request_charge
	// cosmosrt.account.refreshes
	// cosmosrt.backoff.wait
	// cosmosrt.breaker.state
	// cosmosrt.retries
	// db.client.operation.duration
}
