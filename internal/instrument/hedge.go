package instrument

import (
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// What a call records of hedging: the regions its hedges went to and the
// one that answered first (attributes of the call's span, set by End), and
// cosmosrt.hedges{result}.

// Hedge notes that a hedged read was sent to region, beside the arms
// already running: it counts cosmosrt.hedges{started} and lists region in
// cosmosrt.hedge.regions on the span.
func (c *Call) Hedge(region string) {
	c.hedge(hedgeStarted, func() { c.hedges = append(c.hedges, region) })
}

// HedgeWon notes that the hedge to region answered first: it counts
// cosmosrt.hedges{won} and sets cosmosrt.hedge.winner on the span.
func (c *Call) HedgeWon(region string) {
	c.hedge(hedgeWon, func() { c.winner = region })
}

// hedge counts cosmosrt.hedges{result} and notes it on the span with
// note, under the Call's lock, unless the call has ended.
func (c *Call) hedge(result string, note func()) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	note()
	if c.in.hedges.Enabled(c.ctx) {
		c.in.hedges.Add(c.ctx, 1, metric.WithAttributes(attrHedgeResult.String(result), semconv.DBOperationName(c.op)))
	}
}
