package instrument

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// What the chain records of its partition circuits: an event on the span
// of the call whose answer changed a circuit, cosmosrt.partition.transitions
// {region, outcome} and the cosmosrt.partition.open gauge {region}. The
// container and the range are span attributes only: as metric attributes
// they would make a series per range.

// Outcomes of a partition circuit's change, the values of
// cosmosrt.partition.outcome.
const (
	PartitionTripped   = "tripped"   // closed to open
	PartitionReopened  = "reopened"  // its test failed
	PartitionRecovered = "recovered" // a success closed it
)

// Span events of a partition circuit's change, and the span of a probe.
const (
	eventPartitionOpen  = "partition.open"
	eventPartitionClose = "partition.close"
	spanPartitionProbe  = "cosmosrt.partition.probe"
)

// A PartitionChange is a change of one partition key range's circuit in
// one region.
type PartitionChange struct {
	Container string // "dbs/{db}/colls/{coll}"
	Range     string // the partition key range id
	Region    string // the region's name, or its endpoint's host
	Outcome   string // PartitionTripped, PartitionReopened or PartitionRecovered
}

// PartitionChanged records c, caused by an answer to the call (or probe)
// whose span ctx carries: an event "partition.open" (tripped, reopened)
// or "partition.close" (recovered) on that span, with
// cosmosrt.partition.container, .range, .region and .outcome, and one
// count of cosmosrt.partition.transitions with .region and .outcome. It is
// cheap, never waits on I/O, and may be called from any goroutine.
func (t *Telemetry) PartitionChanged(ctx context.Context, c PartitionChange) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() && t.tracer() != nil {
		name := eventPartitionOpen
		if c.Outcome == PartitionRecovered {
			name = eventPartitionClose
		}
		span.AddEvent(name, trace.WithAttributes(
			attrPartContainer.String(c.Container), attrPartRange.String(c.Range),
			attrPartRegion.String(c.Region), attrPartOutcome.String(c.Outcome)))
	}
	in := t.instruments()
	if in.partChanges.Enabled(ctx) {
		in.partChanges.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
			attrPartRegion.String(c.Region), attrPartOutcome.String(c.Outcome))))
	}
}

// ObservePartitions adds f to the sources of the cosmosrt.partition.open
// gauge: at each collection f is called and must call yield once per
// region that has open partition circuits, with their number; it runs on
// the collecting goroutine and must not block. It is registered as
// ObserveBreakers' sources are.
func (t *Telemetry) ObservePartitions(f func(yield func(region string, open int64))) {
	t.observe(&t.partObservers, f)
}

// OnProbe is called when the chain probes a partition circuit, range
// c.Range of container c.Container in region c.Region (c.Outcome unused):
// it starts an INTERNAL span "cosmosrt.partition.probe" with
// cosmosrt.partition.container, .range and .region (the probe's request
// is a child of it, and the change the probe makes is an event on it),
// and returns the context to probe with and a function to call once
// with the status the probe met (0: none) and the error that ended it:
// it ends the span with db.response.status_code, and with status Error
// (and error.type) unless the probe met the 404 it expects. Calls of the
// function after the first do nothing. Its signature matches the router's
// probe hook, but for c's type.
func (t *Telemetry) OnProbe(ctx context.Context, c PartitionChange) (context.Context, func(status int, err error)) {
	tr := t.tracer()
	if tr == nil {
		return ctx, ignoreProbe
	}
	ctx, span := tr.Start(ctx, spanPartitionProbe, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrPartContainer.String(c.Container), attrPartRange.String(c.Range), attrPartRegion.String(c.Region)))
	var done atomic.Bool
	return ctx, func(status int, err error) {
		if !done.CompareAndSwap(false, true) {
			return
		}
		if status != 0 {
			span.SetAttributes(semconv.DBResponseStatusCode(strconv.Itoa(status)))
		}
		switch {
		case err != nil:
			span.SetAttributes(errorTypeOf(err))
			span.SetStatus(codes.Error, err.Error())
		case status != http.StatusNotFound:
			span.SetAttributes(errorTypeAttr(status, nil))
			span.SetStatus(codes.Error, "")
		}
		span.End()
	}
}

func ignoreProbe(int, error) {}
