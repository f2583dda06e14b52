package instrument

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// spanAccountRefresh is the name of the span around a read of the database
// account.
const spanAccountRefresh = "cosmosrt.account.refresh"

// OnRefresh is called when a read of the database account starts; forced
// tells whether a failover forced it. It starts an INTERNAL span
// "cosmosrt.account.refresh" (the HTTP request it makes is a child of it)
// and returns the context to make that request with and a function to call
// exactly once with the outcome: it ends the span (status Error and
// error.type on failure) and counts cosmosrt.account.refreshes{forced,
// outcome="success"|"failure"}. Calls of the function after the first do
// nothing. Its signature matches the router's refresh hook.
func (t *Telemetry) OnRefresh(ctx context.Context, forced bool) (context.Context, func(err error)) {
	tr := t.tracer()
	in := t.instruments()
	count := in.refreshes.Enabled(ctx)
	if tr == nil && !count {
		return ctx, ignoreOutcome
	}
	var span trace.Span
	if tr != nil {
		ctx, span = tr.Start(ctx, spanAccountRefresh,
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(attrRefreshForced.Bool(forced)))
	}
	var done atomic.Bool
	return ctx, func(err error) {
		if !done.CompareAndSwap(false, true) {
			return
		}
		outcome := "success"
		if err != nil {
			outcome = "failure"
		}
		if count {
			in.refreshes.Add(ctx, 1, metric.WithAttributes(
				attrRefreshForced.Bool(forced), attrRefreshOutcome.String(outcome)))
		}
		if span != nil {
			if err != nil {
				span.SetAttributes(errorTypeOf(err))
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}

func ignoreOutcome(error) {}
