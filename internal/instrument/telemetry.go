package instrument

import (
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/telemetry"
)

// Options configures a Telemetry. The zero value uses the OpenTelemetry
// globals, looked up whenever they are needed, so that an application which
// installs its providers after building the chain still gets its spans and
// metrics.
type Options struct {
	// TracerProvider creates the call, attempt and refresh spans.
	// Nil means otel.GetTracerProvider(), looked up at each use.
	TracerProvider trace.TracerProvider

	// MeterProvider creates the instruments. Nil means
	// otel.GetMeterProvider(), looked up at each use; instruments are
	// created once per provider and rebuilt when the provider changes.
	MeterProvider metric.MeterProvider

	// Propagators inject the trace context into each attempt's headers.
	// Nil means otel.GetTextMapPropagator(), looked up at each use.
	Propagators propagation.TextMapPropagator

	// NoAttemptSpans turns the per-attempt HTTP spans (and otelhttp's
	// http.client.* metrics) off: Attempts then sends each request
	// straight to its argument. Set it when the base transport is already
	// instrumented.
	// The default (false) creates one span per physical attempt.
	NoAttemptSpans bool

	// joinSpan reports whether a call should record on span, the
	// recording span its request's context already carries, instead of
	// starting a call span of its own (see StartCall). Nil means
	// azureSDKSpan: join the span of an Azure SDK client (azcore through
	// azotel), so that an azcosmos operation has one operation span. A
	// func that returns false always starts a call span.
	joinSpan func(span trace.Span) bool

	// Logger, when set, gets an entry for each call that ends failed,
	// slow or costly, as Log says (see Call.End). Nil: no entry, and
	// nothing is recorded for one.
	Logger *slog.Logger
	// Log sets the thresholds and the rate of Logger's entries.
	Log policy.LogOptions

	// now reads the clock for db.client.operation.duration, the
	// attempts' times in Diagnostics and the log's rate. Nil means
	// time.Now.
	now func() time.Time
}

// Telemetry holds the tracer, meter and propagators of one chain and the
// instruments built from them. It is safe for concurrent use.
//
// With no SDK installed (the OpenTelemetry globals are no-ops) or with no-op
// providers, its methods do no work and allocate nothing.
type Telemetry struct {
	opts Options
	log  *callLog // nil: no Logger

	trc  atomic.Pointer[tracerCache]
	inst atomic.Pointer[instruments]

	mu sync.Mutex // guards building instruments, registering the gauges, closed
	// observers feed the breaker gauge, partObservers the partition
	// circuits' gauge. The slices are replaced, never modified, so the
	// gauges' callback reads them without taking mu (it runs under the
	// SDK's lock, which mu must never wait for).
	observers     atomic.Pointer[[]func(yield func(endpoint string, state int64))]
	partObservers atomic.Pointer[[]func(yield func(region string, open int64))]
	closed        bool
}

// New returns a Telemetry for o. It does not look up the providers: that
// happens when they are first needed.
func New(o Options) *Telemetry {
	if o.now == nil {
		o.now = time.Now
	}
	return &Telemetry{opts: o, log: newCallLog(o.Logger, o.Log, o.now)}
}

// Close unregisters the gauges' callback from the meter provider.
// Spans and metrics recorded afterwards still work; the gauge is no longer
// observed. Close is idempotent and always returns nil.
func (t *Telemetry) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	if in := t.inst.Load(); in != nil {
		in.unregister()
	}
	return nil
}

// tracerCache remembers the tracer of one provider.
type tracerCache struct {
	tp trace.TracerProvider
	tr trace.Tracer // nil: the provider records nothing
}

// tracer returns the tracer to use now, or nil when no span would be
// recorded: the provider is a no-op, or it is the OpenTelemetry global that
// has no SDK behind it yet.
func (t *Telemetry) tracer() trace.Tracer {
	tp := t.opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if c := t.trc.Load(); c != nil && sameValue(c.tp, tp) {
		return c.tr
	}
	tr := tp.Tracer(telemetry.ScopeName)
	if isForwardingTracer(tr) {
		// The global's stand-in: its spans are no-ops until an SDK is
		// installed. Installing one makes otel.GetTracerProvider return the
		// SDK's provider, so the stand-in found there can be cached; one
		// given in Options may start forwarding at any time, so it is asked
		// again on each call.
		if t.opts.TracerProvider != nil {
			return nil
		}
		tr = nil
	}
	if isNoopTracer(tr) {
		tr = nil
	}
	t.trc.Store(&tracerCache{tp: tp, tr: tr})
	return tr
}

func (t *Telemetry) meterProvider() metric.MeterProvider {
	if t.opts.MeterProvider != nil {
		return t.opts.MeterProvider
	}
	return otel.GetMeterProvider()
}

func (t *Telemetry) tracerProvider() trace.TracerProvider {
	if t.opts.TracerProvider != nil {
		return t.opts.TracerProvider
	}
	return otel.GetTracerProvider()
}

func (t *Telemetry) propagators() propagation.TextMapPropagator {
	if t.opts.Propagators != nil {
		return t.opts.Propagators
	}
	return otel.GetTextMapPropagator()
}

// instruments returns the instruments of the meter provider in use now,
// building them on first use of that provider.
func (t *Telemetry) instruments() *instruments {
	mp := t.meterProvider()
	if in := t.inst.Load(); in != nil && sameValue(in.mp, mp) {
		return in
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.inst.Load()
	if old != nil && sameValue(old.mp, mp) {
		return old
	}
	in := newInstruments(mp)
	if !t.closed && (t.observers.Load() != nil || t.partObservers.Load() != nil) {
		in.register(t)
	}
	t.inst.Store(in)
	if old != nil {
		old.unregister()
	}
	return in
}

// sameValue reports whether a and b are the same provider. Values of a type
// that cannot be compared are never the same, so they are looked up afresh
// each time (correct, only slower).
func sameValue(a, b any) bool {
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) || ta == nil || !ta.Comparable() {
		return false
	}
	return a == b
}

// The OpenTelemetry trace API has no "enabled" query, so the no-op cases are
// recognised by type: the noop package's Tracer, the deprecated
// trace.NewNoopTracerProvider's tracer, and the global provider's stand-in
// tracer, which the global hands out only while no SDK is installed (once
// one is, it hands out the SDK's tracers). Should OpenTelemetry rename these
// types, the checks fail safe: spans are then started as usual.
const (
	tracePkg  = "go.opentelemetry.io/otel/trace"
	globalPkg = "go.opentelemetry.io/otel/internal/global"
)

func isNoopTracer(tr trace.Tracer) bool {
	if _, ok := tr.(tracenoop.Tracer); ok {
		return true
	}
	rt := reflect.TypeOf(tr)
	return rt != nil && rt.PkgPath() == tracePkg && rt.Name() == "noopTracer"
}

func isForwardingTracer(tr trace.Tracer) bool {
	rt := reflect.TypeOf(tr)
	if rt == nil || rt.Kind() != reflect.Pointer {
		return false
	}
	rt = rt.Elem()
	return rt.PkgPath() == globalPkg && rt.Name() == "tracer"
}
