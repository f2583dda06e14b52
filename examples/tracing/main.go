// Command tracing shows the span tree of one call through the chain: a
// write to a simulated account that is throttled once, then meets a manual
// failover. It prints the logical call span, one span per physical attempt
// and the DatabaseAccount refresh, with the attributes an operator reads.
//
//	go run ./examples/tracing
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()

	spans := &collector{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())

	rt, err := transport.New(transport.Options{
		Endpoint:       acct.Endpoint(),
		Key:            acct.Key(),
		TracerProvider: tp,
	})
	if err != nil {
		return err
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	ctx := context.Background()

	if err := create(ctx, client, acct.Endpoint(), `{"id":"warm-up"}`); err != nil {
		return err
	}
	spans.reset()

	old := acct.WriteRegion()
	acct.Inject(old, cosmostest.Fault{
		Status: http.StatusTooManyRequests, SubStatus: 3200, Count: 1, Ops: cosmostest.WriteOps,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"25"}},
	})
	if err := acct.Failover("East US"); err != nil {
		return err
	}
	if err := create(ctx, client, acct.Endpoint(), `{"id":"order-1"}`); err != nil {
		return err
	}
	spans.print(out)
	return nil
}

func create(ctx context.Context, c *http.Client, endpoint, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"dbs/shop/colls/orders/docs", strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create: %s", resp.Status)
	}
	return nil
}

// collector is a span exporter that keeps ended spans to print them as a tree.
type collector struct {
	mu    sync.Mutex // guards spans
	spans []sdktrace.ReadOnlySpan
}

func (c *collector) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, spans...)
	return nil
}

func (c *collector) Shutdown(context.Context) error { return nil }

func (c *collector) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = nil
}

// shown are the attributes printed, in this order.
var shown = []attribute.Key{
	"db.response.status_code", "azure.cosmosdb.response.sub_status_code",
	"azure.cosmosdb.operation.contacted_regions", "azure.cosmosdb.operation.request_charge",
	"http.request.method", "server.port", "http.response.status_code", "http.request.resend_count",
	"cosmosrt.account.refresh.forced", "error.type",
}

func (c *collector) print(out io.Writer) {
	c.mu.Lock()
	spans := slices.Clone(c.spans)
	c.mu.Unlock()
	slices.SortFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID()] = true
	}
	var walk func(parent trace.SpanID, depth int)
	walk = func(parent trace.SpanID, depth int) {
		for _, s := range spans {
			p := s.Parent().SpanID()
			if (depth == 0 && ids[p]) || (depth > 0 && p != parent) {
				continue
			}
			fmt.Fprintf(out, "%s%s [%s] %s\n", strings.Repeat("  ", depth), s.Name(), s.SpanKind(), s.EndTime().Sub(s.StartTime()).Round(time.Millisecond))
			for _, k := range shown {
				for _, kv := range s.Attributes() {
					if kv.Key == k {
						fmt.Fprintf(out, "%s  %s = %s\n", strings.Repeat("  ", depth), k, kv.Value.Emit())
					}
				}
			}
			for _, e := range s.Events() {
				var attrs []string
				for _, kv := range e.Attributes {
					attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
				}
				fmt.Fprintf(out, "%s  event %s %s\n", strings.Repeat("  ", depth), e.Name, strings.Join(attrs, " "))
			}
			walk(s.SpanContext().SpanID(), depth+1)
		}
	}
	walk(trace.SpanID{}, 0)
}
