package transport

import (
	"context"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/instrument"
)

// WithDiagnostics returns a copy of ctx that makes the calls sent with it
// through a Transport record what each of their attempts met, and the
// Diagnostics to read that from, during the calls or after them. It needs
// no tracer or meter: it works with none installed, and with them it
// records the same. A call through an SDK such as azcosmos carries ctx to
// the chain as long as the SDK passes the caller's context on, as azcore
// does. A stand-alone Retry (NewRetry) records nothing.
//
//	ctx, diag := transport.WithDiagnostics(ctx)
//	resp, err := client.Do(req.WithContext(ctx))
//	for _, a := range diag.Attempts() {
//		log.Printf("%s: %d.%d %s in %s, then %s %s", a.Region, a.Status, a.SubStatus, a.ErrorType, a.Duration, a.RetryReason, a.Wait)
//	}
//	log.Printf("%.2f RU", diag.RequestCharge())
func WithDiagnostics(ctx context.Context) (context.Context, *Diagnostics) {
	d := new(Diagnostics)
	return instrument.WithDiagnostics(ctx, &d.d), d
}

// Diagnostics holds what the attempts of the calls sent with a context
// from WithDiagnostics met: every attempt of every such call, the arms of
// a hedged read included, up to the 64 most recent attempts. It holds no
// URL, header or key. It is safe for concurrent use: hedged arms record
// to it at once, and it may be read while calls are in flight.
type Diagnostics struct {
	d instrument.Diagnostics
}

// Attempts returns a copy of the attempts recorded so far, in the order
// they started: the last 64 of them. An attempt still in flight has a
// zero Duration and Status. A nil Diagnostics has none.
func (d *Diagnostics) Attempts() []AttemptDiagnostics {
	if d == nil {
		return nil
	}
	in := d.d.Attempts()
	out := make([]AttemptDiagnostics, len(in))
	for i, a := range in {
		out[i] = AttemptDiagnostics(a) // a conversion: the two types cannot drift apart
	}
	return out
}

// RequestCharge returns the request units (x-ms-request-charge) of every
// attempt recorded, summed, those Attempts no longer lists included. A nil
// Diagnostics returns 0.
func (d *Diagnostics) RequestCharge() float64 {
	if d == nil {
		return 0
	}
	return d.d.RequestCharge()
}

// AttemptDiagnostics is what one attempt of a call met. An attempt got a
// response (Status is set) or an error (ErrorType is set); one that could
// not be sent because the request could not be prepared (signed, routed)
// has neither.
type AttemptDiagnostics struct {
	// Region is where the attempt went: the region's name as the account
	// lists it, or the endpoint's host when the name is unknown (no
	// account, or a host the account does not list).
	Region string
	// Start is when the chain began the attempt.
	Start time.Time
	// Duration runs from Start until the chain had judged the answer,
	// before any wait to retry; 0 while the attempt is in flight.
	Duration time.Duration
	// Status is the response's status code; 0 when there was none.
	Status int
	// SubStatus is the response's x-ms-substatus; 0 when absent.
	SubStatus int
	// RequestCharge is the response's x-ms-request-charge, in request
	// units; 0 when absent.
	RequestCharge float64
	// ErrorType names the error of an attempt that got no response, with
	// the stable values of error.type (see package telemetry):
	// "timeout", "canceled", "connection_refused", "connection_reset",
	// "eof", "circuit_open", …; empty when it got a response.
	ErrorType string
	// RetryReason is why the chain retried after this attempt, as
	// cosmosrt.retry.reason (see package telemetry): "throttled",
	// "unavailable", "write_forbidden", …; empty when it did not.
	RetryReason string
	// Wait is the pause the chain chose before the next attempt, when it
	// retried: the server's hint or the backoff. The call's context ending
	// or the Transport closing cuts it short.
	Wait time.Duration
	// TrackingID is the tracking id of a tracked write (see
	// policy.RetryOptions.TrackWrites), on each of its attempts and on
	// the read-backs that look for it; empty for any other call.
	TrackingID string
	// ReadBack marks an attempt of the chain's own that read a tracked
	// write's item back to settle a doubt.
	ReadBack bool
	// Paced is how long the attempt waited for its partition key range's
	// request units before it was sent (see policy.ThroughputOptions):
	// its throughput group's turn, or a range the service throttled.
	Paced time.Duration
}
