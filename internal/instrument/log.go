package instrument

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// Defaults of policy.LogOptions: the thresholds are the Java SDK's
// (CosmosDiagnosticsThresholds.DEFAULT_POINT_OPERATION_LATENCY_THRESHOLD,
// DEFAULT_NON_POINT_OPERATION_LATENCY_THRESHOLD,
// DEFAULT_REQUEST_CHARGE_THRESHOLD); the rate is the chain's own.
const (
	defaultPointLatency  = time.Second
	defaultOtherLatency  = 3 * time.Second
	defaultRequestCharge = 1000
	defaultLogRate       = 5
	defaultLogBurst      = 10
)

// The messages of the entries, one per reason, the first that applies.
const (
	msgFailed = "cosmosrt: failed call"
	msgSlow   = "cosmosrt: slow call"
	msgCostly = "cosmosrt: costly call"
)

// callLog writes an entry for each call of one Telemetry that ends
// failed, slow or costly (see policy.LogOptions), at most as many a second
// as its token bucket allows. It is safe for concurrent use.
type callLog struct {
	logger       *slog.Logger
	point, other time.Duration // negative: off
	charge       float64       // negative: off
	rate, burst  float64       // rate negative: no limit
	now          func() time.Time

	mu         sync.Mutex // guards the bucket: tokens, last, suppressed
	tokens     float64
	last       time.Time // when tokens was last refilled; zero: never
	suppressed int       // entries left out since the last one written
}

// newCallLog returns the log of o through logger, reading the clock with
// now; nil when logger is nil.
func newCallLog(logger *slog.Logger, o policy.LogOptions, now func() time.Time) *callLog {
	if logger == nil {
		return nil
	}
	orDefault(&o.PointLatency, defaultPointLatency)
	orDefault(&o.OtherLatency, defaultOtherLatency)
	orDefault(&o.RequestCharge, defaultRequestCharge)
	orDefault(&o.Rate, defaultLogRate)
	orDefault(&o.Burst, defaultLogBurst)
	burst := float64(max(o.Burst, 1))
	return &callLog{
		logger: logger, point: o.PointLatency, other: o.OtherLatency, charge: o.RequestCharge,
		rate: o.Rate, burst: burst, now: now, tokens: burst,
	}
}

// orDefault sets *p to d if *p is zero.
func orDefault[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}

// on returns l when a call made with ctx might be logged, nil when it
// cannot be: no logger, or one that writes nothing at the level of a
// failed call (slog.LevelWarn, the highest the log uses). A call is
// recorded for the log only when on returns l.
func (l *callLog) on(ctx context.Context) *callLog {
	if l == nil || !l.logger.Enabled(ctx, slog.LevelWarn) {
		return nil
	}
	return l
}

// judge returns the level and message of the entry of a call of operation
// op that took took, was charged units request units and ended with a
// response of status and sub-status sub (hasResp), or with err; ok is
// false when the call is not to be logged.
func (l *callLog) judge(op string, hasResp bool, status, sub int, err error, took time.Duration, units float64) (level slog.Level, msg string, ok bool) {
	if failed(hasResp, status, sub, err) {
		return slog.LevelWarn, msgFailed, true
	}
	limit := l.other
	if isPointOperation(op) {
		limit = l.point
	}
	if limit >= 0 && took > limit {
		return slog.LevelInfo, msgSlow, true
	}
	if l.charge >= 0 && units > l.charge {
		return slog.LevelInfo, msgCostly, true
	}
	return 0, "", false
}

// failed reports whether a call failed, as the Java SDK's diagnostics
// thresholds define it: it ended with an error, or with a status of 400
// or more other than 404, 409 and 412 with no sub-status (answers an
// application expects and handles). Unlike Java's default, a 429 with
// sub-status 3200 counts as failed: the chain has spent its throttling
// retries before it returns one.
func failed(hasResp bool, status, sub int, err error) bool {
	if err != nil || !hasResp {
		return true
	}
	switch {
	case status < 400:
		return false
	case sub != 0:
		return true
	}
	switch status {
	case http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed:
		return false
	}
	return true
}

// isPointOperation reports whether op (a db.operation.name) is a point
// operation, as the SDKs' thresholds define them: a read, create, upsert,
// replace, patch or delete of one item.
func isPointOperation(op string) bool {
	switch op {
	case "read_item", "create_item", "upsert_item", "replace_item", "patch_item", "delete_item":
		return true
	}
	return false
}

// allow takes a token for an entry. When one is left it returns ok and
// the number of entries left out since the last one allowed, and counts
// from zero again; when none is, it counts this entry as left out.
func (l *callLog) allow() (suppressed int, ok bool) {
	if l.rate < 0 {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		if d := now.Sub(l.last); d > 0 {
			l.tokens = min(l.burst, l.tokens+d.Seconds()*l.rate)
			l.last = now
		}
	} else {
		l.last = now
	}
	if l.tokens < 1 {
		l.suppressed++
		return 0, false
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return suppressed, true
}

// logEntry is an entry ready to be written, made while the call's lock is
// held and written once it is released (a handler may be slow). A zero
// logEntry writes nothing.
type logEntry struct {
	l     *callLog
	ctx   context.Context
	level slog.Level
	msg   string
	attrs []slog.Attr
}

func (e *logEntry) write() {
	if e.l != nil {
		e.l.logger.LogAttrs(e.ctx, e.level, e.msg, e.attrs...)
	}
}

// entry returns the log entry of c, which ends with resp (status, sub) or
// err, if the call is to be logged and the rate allows it. Called with
// c.mu held, after the call's attempts were closed.
func (c *Call) entry(resp *http.Response, status, sub int, err error) logEntry {
	took := c.now().Sub(c.start)
	level, msg, ok := c.log.judge(c.op, resp != nil, status, sub, err, took, c.units)
	if !ok || !c.log.logger.Enabled(c.ctx, level) {
		return logEntry{}
	}
	suppressed, ok := c.log.allow()
	if !ok {
		return logEntry{}
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs, slog.String("operation", c.op))
	if c.namespace != "" {
		attrs = append(attrs, slog.String("database", c.namespace))
	}
	if c.collection != "" {
		attrs = append(attrs, slog.String("container", c.collection))
	}
	attrs = append(attrs, slog.Duration("duration", took), slog.Float64("request_charge", c.units))
	if resp != nil {
		attrs = append(attrs, slog.Int("status", status), slog.Int("sub_status", sub))
	} else if err != nil {
		attrs = append(attrs, slog.String("error_type", errorTypeOf(err).Value.AsString()),
			slog.String("error", err.Error()))
	}
	if c.tracking != "" {
		attrs = append(attrs, slog.String("tracking_id", c.tracking))
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	attrs = append(attrs, slog.Int("attempt_count", c.attempts), c.attemptsAttr())
	return logEntry{l: c.log, ctx: c.ctx, level: level, msg: msg, attrs: attrs}
}

// logRecords is what a logged call keeps of its attempts for its entry.
// Its fields are guarded by the call's lock.
type logRecords struct {
	// The call's records are in own when the caller gave no Diagnostics,
	// else in mine as well as in the caller's, which other calls share.
	own      Diagnostics
	mine     []*attemptRecord
	recorded int // records started

	// Room for the call's first record and its entry in own.
	first  attemptRecord
	ownBuf [1]*attemptRecord
}

// newRecord returns a record to start in d: the call's first record, when
// d is its own, lives in lr. A nil lr (a call not logged) allocates it.
func (lr *logRecords) newRecord(d *Diagnostics) *attemptRecord {
	if lr != nil && d == &lr.own && lr.recorded == 0 {
		return &lr.first
	}
	return new(attemptRecord)
}

// keep notes r, a record just started, for the log: a record in the
// caller's Diagnostics is kept in mine as well, the last
// maxDiagnosticAttempts of them. A nil lr keeps nothing.
func (lr *logRecords) keep(r *attemptRecord) {
	if lr == nil {
		return
	}
	lr.recorded++
	if r.d == &lr.own {
		return
	}
	if len(lr.mine) == maxDiagnosticAttempts {
		lr.mine = lr.mine[1:]
	}
	lr.mine = append(lr.mine, r)
}

// attemptsAttr returns the group "attempts" of the call's recorded
// attempts (read-backs included), each a group keyed by its number from 1.
// Called with c.mu held.
func (c *Call) attemptsAttr() slog.Attr {
	d := c.diag
	d.mu.Lock()
	defer d.mu.Unlock()
	recs := c.lr.mine
	if d == &c.lr.own {
		recs = d.records
	}
	first := c.lr.recorded - len(recs) + 1 // records older than the last maxDiagnosticAttempts are gone
	group := make([]slog.Attr, len(recs))
	for i, r := range recs {
		a := &r.attemptDiagnostics
		as := make([]slog.Attr, 0, 8)
		as = append(as, slog.String("region", a.Region), slog.Duration("duration", a.Duration))
		if a.Paced > 0 {
			as = append(as, slog.Duration("paced", a.Paced))
		}
		if a.Status != 0 {
			as = append(as, slog.Int("status", a.Status), slog.Int("sub_status", a.SubStatus),
				slog.Float64("request_charge", a.RequestCharge))
		} else if a.ErrorType != "" {
			as = append(as, slog.String("error_type", a.ErrorType))
		}
		if a.RetryReason != "" {
			as = append(as, slog.String("retry", a.RetryReason), slog.Duration("wait", a.Wait))
		}
		if a.ReadBack {
			as = append(as, slog.Bool("read_back", true))
		}
		group[i] = slog.Attr{Key: strconv.Itoa(first + i), Value: slog.GroupValue(as...)}
	}
	return slog.Attr{Key: "attempts", Value: slog.GroupValue(group...)}
}
