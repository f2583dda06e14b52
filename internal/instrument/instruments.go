package instrument

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/dbconv"

	"github.com/cosmosrt/cosmosrt/telemetry"
)

// Metric names.
const (
	metricOperationDuration = "db.client.operation.duration"
	metricRequestCharge     = "azure.cosmosdb.client.operation.request_charge"
	metricRetries           = "cosmosrt.retries"
	metricBackoffWait       = "cosmosrt.backoff.wait"
	metricThroughputWait    = "cosmosrt.throughput.wait"
	metricFailovers         = "cosmosrt.failovers"
	metricRefreshes         = "cosmosrt.account.refreshes"
	metricBreakerTransition = "cosmosrt.breaker.transitions"
	metricBreakerState      = "cosmosrt.breaker.state"
	metricHedges            = "cosmosrt.hedges"
	metricPartitionChanges  = "cosmosrt.partition.transitions"
	metricPartitionOpen     = "cosmosrt.partition.open"
)

// Attribute keys of the cosmosrt.* metrics and span events.
const (
	attrRetryReason    = attribute.Key("cosmosrt.retry.reason")
	attrBackoffWait    = attribute.Key("cosmosrt.backoff.wait")
	attrRefreshForced  = attribute.Key("cosmosrt.account.refresh.forced")
	attrRefreshOutcome = attribute.Key("cosmosrt.account.refresh.outcome")
	attrBreakerFrom    = attribute.Key("cosmosrt.breaker.from")
	attrBreakerTo      = attribute.Key("cosmosrt.breaker.to")
	attrHedgeResult    = attribute.Key("cosmosrt.hedge.result")
	attrHedgeRegions   = attribute.Key("cosmosrt.hedge.regions")
	attrHedgeWinner    = attribute.Key("cosmosrt.hedge.winner")
	attrPartContainer  = attribute.Key("cosmosrt.partition.container")
	attrPartRange      = attribute.Key("cosmosrt.partition.range")
	attrPartRegion     = attribute.Key("cosmosrt.partition.region")
	attrPartOutcome    = attribute.Key("cosmosrt.partition.outcome")
)

// Values of cosmosrt.hedge.result.
const (
	hedgeStarted = "started"
	hedgeWon     = "won"
)

// Bucket boundaries: the database conventions' advice for durations (s),
// the Cosmos DB conventions' advice for request units, and waits from a
// few milliseconds (449 backoff) to the 30 s retry cap.
func durationBuckets() []float64 { return []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10} }
func chargeBuckets() []float64   { return []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000} }
func waitBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
}

// instruments are the instruments of one meter provider. Instruments of the
// API are safe for concurrent use; reg is guarded by Telemetry.mu.
type instruments struct {
	mp metric.MeterProvider

	duration    metric.Float64Histogram
	charge      metric.Float64Histogram
	retries     metric.Int64Counter
	backoff     metric.Float64Histogram
	paced       metric.Float64Histogram
	failovers   metric.Int64Counter
	hedges      metric.Int64Counter
	refreshes   metric.Int64Counter
	transitions metric.Int64Counter
	state       metric.Int64ObservableGauge
	partChanges metric.Int64Counter
	partOpen    metric.Int64ObservableGauge

	reg metric.Registration // the gauges' callback; nil until registered
}

// newInstruments creates the instruments on mp. Creation errors (which the
// API reports with a usable no-op instrument) go to the global handler.
func newInstruments(mp metric.MeterProvider) *instruments {
	m := mp.Meter(telemetry.ScopeName)
	in := &instruments{mp: mp}
	d, err := dbconv.NewClientOperationDuration(m, metric.WithExplicitBucketBoundaries(durationBuckets()...))
	handle(err)
	in.duration = d.Inst()
	in.charge, err = m.Float64Histogram(metricRequestCharge,
		metric.WithDescription("Request units consumed by the operation."),
		metric.WithUnit("{request_unit}"),
		metric.WithExplicitBucketBoundaries(chargeBuckets()...))
	handle(err)
	in.retries, err = m.Int64Counter(metricRetries,
		metric.WithDescription("Retries decided by the retry loop, by reason."),
		metric.WithUnit("{retry}"))
	handle(err)
	in.backoff, err = m.Float64Histogram(metricBackoffWait,
		metric.WithDescription("Time waited before a retry."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(waitBuckets()...))
	handle(err)
	in.paced, err = m.Float64Histogram(metricThroughputWait,
		metric.WithDescription("Time an attempt waited for its partition key range's request units, by throughput group and priority."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(waitBuckets()...))
	handle(err)
	in.failovers, err = m.Int64Counter(metricFailovers,
		metric.WithDescription("Writes redirected to a new write region after 403.3."),
		metric.WithUnit("{failover}"))
	handle(err)
	in.hedges, err = m.Int64Counter(metricHedges,
		metric.WithDescription("Hedged reads sent to another region, and those that answered first, by result."),
		metric.WithUnit("{hedge}"))
	handle(err)
	in.refreshes, err = m.Int64Counter(metricRefreshes,
		metric.WithDescription("Reads of the database account, by forced and outcome."),
		metric.WithUnit("{refresh}"))
	handle(err)
	in.transitions, err = m.Int64Counter(metricBreakerTransition,
		metric.WithDescription("Circuit breaker state changes, by endpoint."),
		metric.WithUnit("{transition}"))
	handle(err)
	in.state, err = m.Int64ObservableGauge(metricBreakerState,
		metric.WithDescription("Circuit breaker state by endpoint: 0 closed, 1 half-open, 2 open."),
		metric.WithUnit("{state}"))
	handle(err)
	in.partChanges, err = m.Int64Counter(metricPartitionChanges,
		metric.WithDescription("Partition circuits tripped, reopened after a failed test, and recovered, by region and outcome."),
		metric.WithUnit("{transition}"))
	handle(err)
	in.partOpen, err = m.Int64ObservableGauge(metricPartitionOpen,
		metric.WithDescription("Partition circuits open, by region."),
		metric.WithUnit("{circuit}"))
	handle(err)
	return in
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// callEnabled reports whether any instrument a Call records to is enabled.
func (in *instruments) callEnabled(ctx context.Context) bool {
	return in.duration.Enabled(ctx) || in.charge.Enabled(ctx) || in.retries.Enabled(ctx) ||
		in.backoff.Enabled(ctx) || in.paced.Enabled(ctx) || in.failovers.Enabled(ctx) || in.hedges.Enabled(ctx)
}

// register registers the gauges' callback. The callback reads t's
// observers without locking. Called with t.mu held.
func (in *instruments) register(t *Telemetry) {
	if in.reg != nil {
		return
	}
	state, open := in.state, in.partOpen
	reg, err := in.mp.Meter(telemetry.ScopeName).RegisterCallback(func(_ context.Context, o metric.Observer) error {
		if fs := t.observers.Load(); fs != nil {
			for _, f := range *fs {
				f(func(endpoint string, s int64) {
					o.ObserveInt64(state, s, metric.WithAttributes(endpointAttrs(endpoint)...))
				})
			}
		}
		if fs := t.partObservers.Load(); fs != nil {
			for _, f := range *fs {
				f(func(region string, n int64) {
					o.ObserveInt64(open, n, metric.WithAttributes(attrPartRegion.String(region)))
				})
			}
		}
		return nil
	}, state, open)
	handle(err)
	in.reg = reg
}

// unregister removes the gauge callback. Called with t.mu held.
func (in *instruments) unregister() {
	if in.reg != nil {
		handle(in.reg.Unregister())
		in.reg = nil
	}
}

// endpointAttrs returns server.address (and server.port when given) of an
// endpoint written as a URL ("https://host:443/") or as host[:port].
func endpointAttrs(endpoint string) []attribute.KeyValue {
	host, port := splitEndpoint(endpoint)
	if port > 0 {
		return []attribute.KeyValue{semconv.ServerAddress(host), semconv.ServerPort(port)}
	}
	return []attribute.KeyValue{semconv.ServerAddress(host)}
}
