package instrument

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
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

// Span events of a partition circuit's change.
const (
	eventPartitionOpen  = "partition.open"
	eventPartitionClose = "partition.close"
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
