package instrument

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Call records one logical call: one RoundTrip of the outer chain, however
// many attempts it takes. It is safe for concurrent use: the arms of a
// hedged read record to one Call. A nil *Call is valid and records
// nothing; StartCall returns nil when nothing would be recorded.
type Call struct {
	in     *instruments
	ctx    context.Context
	span   trace.Span   // nil: tracing is off
	joined bool         // span is the caller's (an Azure SDK span), not the call's own
	diag   *Diagnostics // the caller's (WithDiagnostics), else lr.own when logged, else nil
	log    *callLog     // nil: the call is not logged
	now    func() time.Time
	start  time.Time

	op, namespace, collection, host string
	port                            int

	mu          sync.Mutex // guards the fields below
	regions     []string
	hedges      []string // regions a hedge went to, in order
	winner      string   // the hedge's region that answered first, if one did
	units       float64
	charged     bool
	lastCharged *http.Response
	ended       bool
	attempts    int              // attempts started, for describe
	tracking    string           // the tracking id of a tracked write
	pending     []*attemptRecord // attempts in diag not answered yet
	paced       time.Duration    // the next attempt's wait for its range's request units (Paced)

	lr *logRecords // a logged call's records; nil: not logged

	// Room for the first of each, so that a call of one attempt needs no
	// more: its record's entry in pending, its region.
	pendingBuf [1]*attemptRecord
	regionBuf  [1]string
}

// loggedCall is a Call and its logRecords in one allocation.
type loggedCall struct {
	Call
	records logRecords
}

// StartCall starts recording the call req, which d describes. It starts a CLIENT span named
// "{db.operation.name} {target}" (target: the container, else the
// database, else the operation alone) with db.system.name=azure.cosmosdb,
// db.operation.name, db.namespace, db.collection.name, server.address and
// server.port (when not 443), and notes the start time for
// db.client.operation.duration. The returned context carries the span: send
// the attempts with it so that their spans are its children.
//
// When ctx already carries a span that stands for the call (Options.joinSpan;
// by default an Azure SDK client's span, see azureSDKSpan), StartCall starts
// no span: the call records its outcome (End) and its events on that span,
// which it never renames, ends or sets the status of, and the attempt spans
// are that span's children. Metrics are recorded as usual.
//
// When ctx carries a Diagnostics (WithDiagnostics), the call records each
// attempt to it, with or without a tracer or meter. With a Logger whose
// handler is enabled at slog.LevelWarn, the call records its attempts as
// well, for the entry End may write (see Options.Logger). When neither a
// span, a metric, diagnostics nor a log entry would be recorded it returns
// ctx and a nil *Call, without allocating.
func (t *Telemetry) StartCall(ctx context.Context, req *http.Request, d *wire.Request) (context.Context, *Call) {
	tr := t.tracer()
	in := t.instruments()
	diag := diagnosticsOf(ctx)
	log := t.log.on(ctx)
	if tr == nil && diag == nil && log == nil && !in.callEnabled(ctx) {
		return ctx, nil
	}
	var c *Call
	if log != nil {
		lc := new(loggedCall)
		c = &lc.Call
		c.lr = &lc.records
		if diag == nil {
			diag = &c.lr.own
			diag.records = c.lr.ownBuf[:0]
		}
	} else {
		c = new(Call)
	}
	c.in, c.now, c.diag, c.log = in, t.opts.now, diag, log
	c.pending, c.regions = c.pendingBuf[:0], c.regionBuf[:0]
	c.op, c.namespace, c.collection = operation(d, req.Header)
	if req.URL != nil {
		c.host, c.port = splitHostPort(req.URL.Host)
	}
	if parent := trace.SpanFromContext(ctx); tr != nil && t.joins(parent) {
		c.span, c.joined = parent, true
	} else if tr != nil {
		attrs := make([]attribute.KeyValue, 0, 6)
		attrs = append(attrs, semconv.DBSystemNameAzureCosmosDB, semconv.DBOperationName(c.op))
		attrs = c.appendTarget(attrs)
		ctx, c.span = tr.Start(ctx, c.spanName(),
			trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	}
	c.ctx = ctx
	c.start = c.now()
	return ctx, c
}

func (c *Call) spanName() string {
	switch {
	case c.collection != "":
		return c.op + " " + c.collection
	case c.namespace != "":
		return c.op + " " + c.namespace
	}
	return c.op
}

// appendTarget appends db.namespace, db.collection.name, server.address and
// server.port, those that are known.
func (c *Call) appendTarget(attrs []attribute.KeyValue) []attribute.KeyValue {
	if c.namespace != "" {
		attrs = append(attrs, semconv.DBNamespace(c.namespace))
	}
	if c.collection != "" {
		attrs = append(attrs, semconv.DBCollectionName(c.collection))
	}
	if c.host != "" {
		attrs = append(attrs, semconv.ServerAddress(c.host))
	}
	if c.port != 0 && c.port != 443 {
		attrs = append(attrs, semconv.ServerPort(c.port))
	}
	return attrs
}

// Attempt notes that attempt n (0 for the first) is about to go to region
// (a region name, or a host when the name is unknown) and returns the
// attempt's context, which carries n for the attempt spans'
// http.request.resend_count. failover says the
// attempt is a write redirected to a new write region after a 403.3: it
// counts cosmosrt.failovers and adds a "failover" event to the span. The
// regions make up azure.cosmosdb.operation.contacted_regions, in
// first-contact order, without duplicates. With a Diagnostics, the
// attempt starts there and the returned context is marked with it: pass
// that context to Answered with the attempt's answer. A nil Call
// (nothing is recorded, attempt spans included) returns ctx as it is.
func (c *Call) Attempt(ctx context.Context, n int, region string, failover bool) context.Context {
	if c == nil {
		return ctx
	}
	ctx = withAttempt(ctx, n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ctx
	}
	c.attempts++
	if failover {
		c.failover()
	}
	if region != "" && !slices.Contains(c.regions, region) {
		c.regions = append(c.regions, region)
	}
	if c.diag != nil {
		ctx = c.startAttempt(ctx, region, false)
	}
	return ctx
}

// Track notes the tracking id of the call, a tracked write: its attempts
// and read-backs record it in the Diagnostics.
func (c *Call) Track(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tracking = id
}

// ReadBack is Attempt for a read-back of the call's tracked item to region:
// a request of the chain's own, recorded in the Diagnostics as a read-back
// and traced as a child of the call, that is not one of the call's
// attempts. Pass the returned context to Answered with its answer.
func (c *Call) ReadBack(ctx context.Context, region string) context.Context {
	if c == nil {
		return ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.diag == nil {
		return ctx
	}
	return c.startAttempt(ctx, region, true)
}

// Answered notes the answer of the attempt whose context (from Attempt)
// is ctx: resp, or err when there is none. It adds the request units of
// resp (its x-ms-request-charge header) to the call's total and, when
// retry is set, notes the retry decided for reason, to be sent after wait:
// it counts cosmosrt.retries{reason}, records wait in cosmosrt.backoff.wait
// and adds a "retry" event to the span. With a Diagnostics, it ends that
// attempt there: its duration runs from Attempt to Answered. A ctx that
// carries no attempt of the call (a request the chain makes for the call,
// such as a read-back) only adds its charge.
func (c *Call) Answered(ctx context.Context, resp *http.Response, err error, retry bool, reason fmt.Stringer, wait time.Duration) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	units := c.charge(resp)
	why := ""
	if retry {
		why = reason.String()
		c.retry(why, wait)
	}
	if c.diag != nil {
		c.answerAttempt(recordOf(ctx), resp, err, units, retry, why, wait)
	}
}

func (c *Call) retry(reason string, wait time.Duration) {
	retries, backoff := c.in.retries.Enabled(c.ctx), c.in.backoff.Enabled(c.ctx)
	if retries || backoff {
		opt := metric.WithAttributes(attrRetryReason.String(reason), semconv.DBOperationName(c.op))
		if retries {
			c.in.retries.Add(c.ctx, 1, opt)
		}
		if backoff {
			c.in.backoff.Record(c.ctx, wait.Seconds(), opt)
		}
	}
	if c.span != nil && c.span.IsRecording() {
		c.span.AddEvent("retry", trace.WithAttributes(
			attrRetryReason.String(reason), attrBackoffWait.Float64(wait.Seconds())))
	}
}

func (c *Call) failover() {
	if c.in.failovers.Enabled(c.ctx) {
		c.in.failovers.Add(c.ctx, 1, metric.WithAttributes(semconv.DBOperationName(c.op)))
	}
	if c.span != nil && c.span.IsRecording() {
		c.span.AddEvent("failover")
	}
}

// charge adds the request units of one attempt's response to the call's
// total and returns them. End adds its own resp unless it was the last one
// charged, so charging the final response twice is harmless.
func (c *Call) charge(resp *http.Response) float64 {
	if resp == nil {
		return 0
	}
	c.lastCharged = resp
	v := resp.Header.Get(wire.HeaderRequestCharge)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 {
		return 0
	}
	c.units += f
	c.charged = true
	return f
}

// End finishes the call with the response or error that the chain
// returns. It sets db.response.status_code,
// azure.cosmosdb.response.sub_status_code,
// azure.cosmosdb.operation.request_charge and
// azure.cosmosdb.operation.contacted_regions, records
// db.client.operation.duration and the request charge histogram, and ends
// the span. A call failed when it ends with an error or a status of 400 or
// more; then error.type is set (the status code, else a stable name for
// the error's class: "timeout", "canceled", the name the error gives
// itself such as "circuit_open" or "closed", "eof", "connection_reset", …
// or "_OTHER"; see errorTypeOf) and the span status is Error. On a span the
// call joined (see StartCall) End sets the attributes of the outcome only
// (not db.system.name, db.operation.name or the target, which the span's
// owner states), never the span status, and does not end the span. Only
// the first End counts. It returns err named with the call's attempts and
// their regions (see describe), the error the chain returns.
//
// With a Logger, End then writes the call's entry if it failed, was slow
// or costly (see Options.Logger), once the call's lock is released.
func (c *Call) End(resp *http.Response, err error) error {
	err = c.describe(err)
	e := c.end(resp, err)
	e.write()
	return err
}

func (c *Call) end(resp *http.Response, err error) (e logEntry) {
	if c == nil {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return e
	}
	units := 0.0
	if resp != c.lastCharged {
		units = c.charge(resp)
	}
	c.ended = true
	if c.diag != nil {
		c.endAttempts(err, units)
	}
	status, sub, hasSub := 0, 0, false
	if resp != nil {
		status = resp.StatusCode
		sub, hasSub = wire.LookupSubStatus(resp.Header)
	}
	if c.log != nil {
		e = c.entry(resp, status, sub, err)
	}
	dur, charge := c.in.duration.Enabled(c.ctx), c.charged && c.in.charge.Enabled(c.ctx)
	if c.span == nil && !dur && !charge {
		return e // only recorded for diagnostics or the log
	}

	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs, semconv.DBSystemNameAzureCosmosDB, semconv.DBOperationName(c.op))
	attrs = c.appendTarget(attrs)
	base := len(attrs) // the span has these since StartCall
	if resp != nil {
		attrs = append(attrs, semconv.DBResponseStatusCode(strconv.Itoa(status)))
		if hasSub {
			attrs = append(attrs, semconv.AzureCosmosDBResponseSubStatusCode(sub))
		}
	}
	if len(c.regions) > 0 {
		attrs = append(attrs, semconv.AzureCosmosDBOperationContactedRegions(c.regions...))
	}
	if len(c.hedges) > 0 {
		attrs = append(attrs, attrHedgeRegions.StringSlice(c.hedges))
	}
	if c.winner != "" {
		attrs = append(attrs, attrHedgeWinner.String(c.winner))
	}
	failed := err != nil || status >= 400 || resp == nil
	if failed {
		attrs = append(attrs, errorTypeAttr(status, err))
	}
	metricAttrs := len(attrs) // the charge is a span attribute only
	if c.charged {
		attrs = append(attrs, semconv.AzureCosmosDBOperationRequestCharge(c.units))
	}

	if c.span != nil && c.joined {
		c.span.SetAttributes(attrs[base:]...)
	} else if c.span != nil {
		c.span.SetAttributes(attrs[base:]...)
		if failed {
			desc := ""
			if err != nil {
				desc = err.Error()
			}
			c.span.SetStatus(codes.Error, desc)
		}
		c.span.End()
	}

	if dur || charge {
		opt := metric.WithAttributeSet(attribute.NewSet(attrs[:metricAttrs]...))
		if dur {
			c.in.duration.Record(c.ctx, c.now().Sub(c.start).Seconds(), opt)
		}
		if charge {
			c.in.charge.Record(c.ctx, c.units, opt)
		}
	}
	return e
}

// errorTypeAttr returns error.type for a failed call: the status code,
// else the error's class (errorTypeOf).
func errorTypeAttr(status int, err error) attribute.KeyValue {
	switch {
	case status >= 400:
		return semconv.ErrorTypeKey.String(strconv.Itoa(status))
	case err != nil:
		return errorTypeOf(err)
	}
	return semconv.ErrorTypeOther
}
