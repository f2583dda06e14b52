package instrument

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// MaxDiagnosticAttempts is how many attempts a Diagnostics keeps: the most
// recent ones. It bounds the memory of a context that is used for many
// calls.
const MaxDiagnosticAttempts = 64

// AttemptDiagnostics is what one attempt met. transport.AttemptDiagnostics
// has the same fields, documented there.
type AttemptDiagnostics struct {
	Region        string
	Start         time.Time
	Duration      time.Duration
	Status        int
	SubStatus     int
	RequestCharge float64
	ErrorType     string
	RetryReason   string
	Wait          time.Duration
}

// Diagnostics collects the attempts of the calls made with a context that
// carries it (see WithDiagnostics), whether or not anything else is
// recorded. Its zero value is ready to use. It is safe for concurrent use:
// the arms of a hedged read record to it at once.
type Diagnostics struct {
	mu      sync.Mutex       // guards the fields below and the records they point to
	records []*attemptRecord // in the order the attempts started, at most MaxDiagnosticAttempts
	charge  float64          // request units of every attempt, those dropped from records included
}

// attemptRecord is one attempt's entry in a Diagnostics. Its fields are
// guarded by d.mu.
type attemptRecord struct {
	d *Diagnostics
	AttemptDiagnostics

	// Set by the attempt stage (Attempts) when the attempt's request came
	// back from the base transport: the Call matches answers to attempts
	// with them when a hedged read has several attempts in flight.
	wired   bool
	resp    *http.Response // what the base transport returned; nil with an error
	wiredAt time.Time
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

// withoutRecord returns ctx no longer marked with an attempt's record, so
// that a request made on the attempt's behalf (an account look-up) is not
// taken for the attempt itself.
func withoutRecord(ctx context.Context) context.Context {
	if recordOf(ctx) == nil {
		return ctx
	}
	return context.WithValue(ctx, recordKey{}, (*attemptRecord)(nil))
}

// Attempts returns a copy of the attempts recorded, in the order they
// started: the last MaxDiagnosticAttempts of them.
func (d *Diagnostics) Attempts() []AttemptDiagnostics {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]AttemptDiagnostics, len(d.records))
	for i, r := range d.records {
		out[i] = r.AttemptDiagnostics
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

// start records a new attempt to region, started at.
func (d *Diagnostics) start(region string, at time.Time) *attemptRecord {
	r := &attemptRecord{d: d, AttemptDiagnostics: AttemptDiagnostics{Region: region, Start: at}}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.records) == MaxDiagnosticAttempts {
		d.records = slices.Delete(d.records, 0, 1)
	}
	d.records = append(d.records, r)
	return r
}

// wire notes what the base transport returned for the attempt, at.
func (r *attemptRecord) wire(resp *http.Response, err error, at time.Time) {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	r.wired, r.resp, r.wiredAt = true, resp, at
	switch {
	case resp != nil:
		r.Status = resp.StatusCode
		r.SubStatus, _ = wire.LookupSubStatus(resp.Header)
		r.ErrorType = ""
	case err != nil:
		r.Status, r.SubStatus = 0, 0
		r.ErrorType = errorTypeOf(err).Value.AsString()
	}
}

// startAttempt records an attempt of c to region in c's Diagnostics and
// returns ctx marked with it. Called with c.mu held.
func (c *Call) startAttempt(ctx context.Context, region string) context.Context {
	r := c.diag.start(region, c.now())
	c.pending = append(c.pending, r)
	c.lastRecord = r
	return context.WithValue(ctx, recordKey{}, r)
}

// answerAttempt notes on the attempt that resp answers (nil: an error)
// how long it took, what it met and what it cost, and the retry decided
// after it. Called with c.mu held.
func (c *Call) answerAttempt(resp *http.Response, units float64, retry bool, reason string, wait time.Duration) {
	now := c.now()
	d := c.diag
	d.mu.Lock()
	defer d.mu.Unlock()
	d.charge += units
	i := c.matchAttempt(resp)
	if i < 0 {
		return
	}
	r := c.pending[i]
	c.pending = slices.Delete(c.pending, i, i+1)
	r.Duration = now.Sub(r.Start)
	if resp != nil {
		r.Status = resp.StatusCode
		r.SubStatus, _ = wire.LookupSubStatus(resp.Header)
		r.ErrorType = ""
		r.RequestCharge = units
	}
	if retry {
		r.RetryReason, r.Wait = reason, wait
	}
}

// matchAttempt returns the index in c.pending of the attempt that resp
// (nil: an error) answers, or -1 when none is pending. Called with c.mu and
// c.diag.mu held.
//
// One attempt is in flight but in a hedged read, whose arms answer on
// their own goroutines. A response is matched exactly: the attempt stage
// saw it come back for its attempt, or its request carries the attempt's
// mark. An error is the attempt the stage saw fail first, else one refused
// before reaching it (by an open circuit, at once: the most recent).
func (c *Call) matchAttempt(resp *http.Response) int {
	switch len(c.pending) {
	case 0:
		return -1
	case 1:
		return 0
	}
	if resp != nil {
		for i, r := range c.pending {
			if r.wired && r.resp == resp {
				return i
			}
		}
		if resp.Request != nil {
			if i := slices.Index(c.pending, recordOf(resp.Request.Context())); i >= 0 {
				return i
			}
		}
	} else {
		first := -1
		for i, r := range c.pending {
			if r.wired && r.resp == nil && (first < 0 || r.wiredAt.Before(c.pending[first].wiredAt)) {
				first = i
			}
		}
		if first >= 0 {
			return first
		}
	}
	for i := len(c.pending) - 1; i >= 0; i-- {
		if !c.pending[i].wired {
			return i
		}
	}
	return 0
}

// endAttempts closes the call's attempts that were never answered (one
// whose request could not be prepared) and, when the call failed with err
// and its last attempt got neither a response nor an error of its own
// (refused by an open circuit), names that failure on it. units are the
// request units of the final response, if it was not charged before.
// Called with c.mu held.
func (c *Call) endAttempts(err error, errorType string, units float64) {
	now := c.now()
	d := c.diag
	d.mu.Lock()
	defer d.mu.Unlock()
	d.charge += units
	for _, r := range c.pending {
		r.Duration = now.Sub(r.Start)
	}
	c.pending = nil
	if r := c.lastRecord; r != nil && err != nil && r.Status == 0 && r.ErrorType == "" {
		if errorType != "" {
			r.ErrorType = errorType
		} else {
			r.ErrorType = errorTypeOf(err).Value.AsString()
		}
	}
}
