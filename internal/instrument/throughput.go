package instrument

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

var (
	attrThroughputGroup = attribute.Key("cosmosrt.throughput.group")
	attrThroughputWait  = attribute.Key("cosmosrt.throughput.wait")
	attrThroughputRange = attribute.Key("azure.cosmosdb.partition_key_range.id")
	attrPriority        = attribute.Key("cosmosrt.priority")
)

// Paced notes that the call's next attempt waited for its range's request
// units (its throughput group, or a range the service throttled) before it
// was sent: a "throughput.wait" event on the span, and the wait on the
// attempt's diagnostics (the next Attempt takes it). group is the call's
// throughput group, "" for none; rangeID the range it waited for.
//
// It records the wait in the cosmosrt.throughput.wait histogram, by
// cosmosrt.throughput.group (the groups are the transport's, so their
// number is bounded) and cosmosrt.priority ("high" or "low").
func (c *Call) Paced(wait time.Duration, group, rangeID string, low bool) {
	if c == nil || wait <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.paced += wait
	if c.in.paced.Enabled(c.ctx) {
		prio := "high"
		if low {
			prio = "low"
		}
		c.in.paced.Record(c.ctx, wait.Seconds(), metric.WithAttributes(attrThroughputGroup.String(group), attrPriority.String(prio)))
	}
	if c.span != nil && c.span.IsRecording() {
		attrs := []attribute.KeyValue{attrThroughputWait.Float64(wait.Seconds())}
		if group != "" {
			attrs = append(attrs, attrThroughputGroup.String(group))
		}
		if rangeID != "" {
			attrs = append(attrs, attrThroughputRange.String(rangeID))
		}
		c.span.AddEvent("throughput.wait", trace.WithAttributes(attrs...))
	}
}
