package instrument

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// maxDiagnosticAttempts is how many attempts a Diagnostics keeps: the most
// recent ones. It bounds the memory of a context that is used for many
// calls.
const maxDiagnosticAttempts = 64

// attemptDiagnostics is what one attempt met. transport.AttemptDiagnostics
// has the same fields, documented there; they are exported so that
// transport converts one type to the other.
type attemptDiagnostics struct {
	Region        string
	Start         time.Time
	Duration      time.Duration
	Status        int
	SubStatus     int
	RequestCharge float64
	ErrorType     string
	RetryReason   string
	Wait          time.Duration
	TrackingID    string
	ReadBack      bool
	Paced         time.Duration
}

// Diagnostics collects the attempts of the calls made with a context that
// carries it (see WithDiagnostics), whether or not anything else is
// recorded. Its zero value is ready to use. It is safe for concurrent use:
// the arms of a hedged read record to it at once.
type Diagnostics struct {
	mu      sync.Mutex       // guards the fields below and the records they point to
	records []*attemptRecord // in the order the attempts started, at most maxDiagnosticAttempts
	charge  float64          // request units of every attempt, those dropped from records included
}

// attemptRecord is one attempt's entry in a Diagnostics. Its fields are
// guarded by d.mu.
type attemptRecord struct {
	d *Diagnostics
	attemptDiagnostics
}

type diagnosticsKey struct{}

// recordKey marks an attempt's context with its record, for the attempt
// stage to fill in.
type recordKey struct{}

// WithDiagnostics returns ctx carrying d: the calls made with it record
// their attempts to d.
func WithDiagnostics(ctx context.Context, d *Diagnostics) context.Context {
	return context.WithValue(ctx, diagnosticsKey{}, d)
}

func diagnosticsOf(ctx context.Context) *Diagnostics {
	d, _ := ctx.Value(diagnosticsKey{}).(*Diagnostics)
	return d
}

func recordOf(ctx context.Context) *attemptRecord {
	r, _ := ctx.Value(recordKey{}).(*attemptRecord)
	return r
}

// Attempts returns a copy of the attempts recorded, in the order they
// started: the last maxDiagnosticAttempts of them.
func (d *Diagnostics) Attempts() []attemptDiagnostics {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]attemptDiagnostics, len(d.records))
	for i, r := range d.records {
		out[i] = r.attemptDiagnostics
	}
	return out
}

// RequestCharge returns the request units charged for every attempt
// recorded, those Attempts no longer lists included.
func (d *Diagnostics) RequestCharge() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.charge
}

// start records r, a new attempt to region, started at, of a call whose
// tracking id is tracking ("": none); readBack marks a tracked write's
// read-back.
func (d *Diagnostics) start(r *attemptRecord, region string, at time.Time, tracking string, readBack bool) {
	*r = attemptRecord{d: d, attemptDiagnostics: attemptDiagnostics{
		Region: region, Start: at, TrackingID: tracking, ReadBack: readBack,
	}}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.records) == maxDiagnosticAttempts {
		d.records = slices.Delete(d.records, 0, 1)
	}
	d.records = append(d.records, r)
}

// startAttempt records an attempt of c to region in c's Diagnostics and
// returns ctx marked with it. Called with c.mu held.
func (c *Call) startAttempt(ctx context.Context, region string, readBack bool) context.Context {
	r := c.lr.newRecord(c.diag)
	c.diag.start(r, region, c.now(), c.tracking, readBack)
	if !readBack {
		r.Paced, c.paced = c.paced, 0
	}
	c.pending = append(c.pending, r)
	c.lr.keep(r)
	return context.WithValue(ctx, recordKey{}, r)
}

// answerAttempt notes on r, the attempt whose answer this is (nil: the
// answer of no attempt of this call, such as a read-back, which only
// costs), how long it took, what it met and what it cost, and the retry
// decided after it. Called with c.mu held.
func (c *Call) answerAttempt(r *attemptRecord, resp *http.Response, err error, units float64, retry bool, reason string, wait time.Duration) {
	now := c.now()
	d := c.diag
	d.mu.Lock()
	defer d.mu.Unlock()
	d.charge += units
	i := slices.Index(c.pending, r)
	if r == nil || i < 0 {
		return
	}
	c.pending = slices.Delete(c.pending, i, i+1)
	r.Duration = now.Sub(r.Start)
	switch {
	case resp != nil:
		r.Status = resp.StatusCode
		r.SubStatus, _ = wire.LookupSubStatus(resp.Header)
		r.RequestCharge = units
	case err != nil:
		r.ErrorType = errorTypeOf(err).Value.AsString()
	}
	if retry {
		r.RetryReason, r.Wait = reason, wait
	}
}

// endAttempts closes the call's attempts that were never answered (one
// whose request could not be prepared), naming on them the failure err the
// call ends with, if any. units are the request units of the final
// response, if it was not charged before. Called with c.mu held.
func (c *Call) endAttempts(err error, units float64) {
	now := c.now()
	d := c.diag
	d.mu.Lock()
	defer d.mu.Unlock()
	d.charge += units
	for _, r := range c.pending {
		r.Duration = now.Sub(r.Start)
		if err != nil && r.ErrorType == "" {
			r.ErrorType = errorTypeOf(err).Value.AsString()
		}
	}
	c.pending = nil
}
