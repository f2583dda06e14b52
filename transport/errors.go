package transport

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrCircuitOpen is wrapped by the error a Breaker returns, without touching
// the network, for an endpoint whose circuit is open.
var ErrCircuitOpen = errors.New("transport: circuit open")

// ErrClosed is returned by a call made after Transport.Close, and ends a
// call that was waiting to resend when Close was called.
var ErrClosed error = closedError{}

// closedError is the type of ErrClosed.
type closedError struct{}

func (closedError) Error() string { return "transport: closed" }

// ErrorType names the end for telemetry and diagnostics (error.type
// "closed").
func (closedError) ErrorType() string { return "closed" }

// ErrAllExcluded is returned, before anything is sent, by a call whose
// every region is excluded by its RequestOptions.ExcludedRegions.
var ErrAllExcluded = errors.New("transport: every region this call may use is excluded (RequestOptions.ExcludedRegions)")

// ErrTimeLimit is wrapped by the error of a call that ran out of the time
// limit the chain gives a call whose context has no deadline
// (policy.RetryOptions.ReadTimeLimit, WriteTimeLimit). The error is a
// *TimeLimitError, or an *OutcomeUnknownError for a write that may have
// run; neither is context.DeadlineExceeded to errors.Is.
var ErrTimeLimit = errors.New("transport: the call's time limit ran out")

// TimeLimitError is the error of a call that ran out of its time limit
// (see ErrTimeLimit). What the limit cut short is kept in Cause, out of
// the chain errors.Is and errors.As walk: it is a context error that a
// client above would take for its own deadline, or a failure it would
// resend.
type TimeLimitError struct {
	// Limit is the call's time limit.
	Limit time.Duration

	cause error
}

func (e *TimeLimitError) Error() string {
	return fmt.Sprintf("transport: the call's time limit (%s) ran out: %v", e.Limit, e.cause)
}

// Is reports whether target is ErrTimeLimit.
func (e *TimeLimitError) Is(target error) bool { return target == ErrTimeLimit }

// Cause returns what the limit cut short.
func (e *TimeLimitError) Cause() error { return e.cause }

// NonRetriable marks the error as final for azcore's retry policy.
func (e *TimeLimitError) NonRetriable() {}

// ErrorType names the end for telemetry and diagnostics (error.type
// "time_limit").
func (e *TimeLimitError) ErrorType() string { return "time_limit" }

// errNotReplayable is returned by replayBody.next, whose caller says what
// it was for ("transport: request body for attempt 2: …").
var errNotReplayable = errors.New("cannot be replayed")

// CircuitOpenError is the error of a call refused by an open circuit. It
// wraps ErrCircuitOpen.
type CircuitOpenError struct {
	Endpoint string    // host[:port] whose circuit is open
	Until    time.Time // when the circuit lets a probe through; zero if unknown (half-open and busy)
}

func (e *CircuitOpenError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("transport: circuit open for %s (half-open, probe in flight)", e.Endpoint)
	}
	return fmt.Sprintf("transport: circuit open for %s until %s", e.Endpoint, e.Until.UTC().Format(time.RFC3339Nano))
}

func (e *CircuitOpenError) Unwrap() error { return ErrCircuitOpen }

// CircuitOpen marks the error as a refusal by an open circuit: nothing was
// sent, so the retry rules may send a read elsewhere at once.
func (e *CircuitOpenError) CircuitOpen() {}

// ErrorType names the refusal for telemetry and diagnostics (error.type
// "circuit_open").
func (e *CircuitOpenError) ErrorType() string { return "circuit_open" }

// ErrOutcomeUnknown is wrapped by the error of a write the chain gave up on
// while it may or may not have run: an attempt failed after the request
// may have reached the service (and the write is not tracked), or a
// tracked write met a doubt that no read-back could settle. The error is
// an *OutcomeUnknownError. Such a write must not be resent blindly: read
// the item to learn what happened.
var ErrOutcomeUnknown = errors.New("transport: outcome unknown")

// OutcomeUnknownError is the error of a write that may or may not have
// run. errors.Is(err, ErrOutcomeUnknown) holds, and so does errors.Is(err,
// context.Canceled or context.DeadlineExceeded) when the caller's own
// context had ended. The failure that caused the doubt is kept in Cause,
// not in the chain errors.Is and errors.As walk: a client above the chain
// (azcosmos resends network errors, EOFs and timeouts it deems unsent)
// must not resend a write the chain judged.
type OutcomeUnknownError struct {
	// Reason says why the outcome is unknown, e.g. "the connection failed
	// after the request was sent" or "the item holds another version".
	Reason string
	// Status and SubStatus are the last answer's, when the last attempt
	// got one; 0 otherwise.
	Status, SubStatus int
	// Attempts counts the attempts of the write (read-backs excluded).
	Attempts int
	// TrackingID is the tracking id the write carried; "" if untracked.
	TrackingID string

	cause error // the last attempt's error, if any
	also  error // what errors.Is also matches: the caller's context's error once ended, or ErrClosed
}

func (e *OutcomeUnknownError) Error() string {
	var b strings.Builder
	b.WriteString("transport: the write may or may not have run: ")
	b.WriteString(e.Reason)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (last status %d", e.Status)
		if e.SubStatus != 0 {
			fmt.Fprintf(&b, ".%d", e.SubStatus)
		}
		b.WriteString(")")
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Is reports whether target is ErrOutcomeUnknown, the caller's context's
// error when it had ended, or ErrClosed when Close ended the call.
func (e *OutcomeUnknownError) Is(target error) bool {
	return target == ErrOutcomeUnknown || e.also != nil && target == e.also
}

// Cause returns the error of the write's last attempt, or nil when it got
// an answer.
func (e *OutcomeUnknownError) Cause() error { return e.cause }

// NonRetriable marks the error as final for azcore's retry policy.
func (e *OutcomeUnknownError) NonRetriable() {}

// ErrorType names the end for telemetry and diagnostics (error.type
// "outcome_unknown").
func (e *OutcomeUnknownError) ErrorType() string { return "outcome_unknown" }

// AttemptError is the error of a call that ended because its last attempt
// failed without an answer, when the chain retried it as far as its rules
// allow (or not at all, for a write that was never sent and may not be
// resent, such as one whose body cannot be replayed). The attempt's own
// error is kept in Cause, not in the chain errors.Is and errors.As walk,
// so that a client above the chain does not retry what the chain already
// did; errors.Is(err, context.Canceled or context.DeadlineExceeded) holds
// when the caller's own context had ended.
type AttemptError struct {
	// Attempts counts the call's attempts.
	Attempts int
	// Sent reports that the last attempt may have reached the service.
	Sent bool

	cause error
	also  error  // what errors.Is also matches: the caller's context's error once ended
	name  string // error.type of the cause
}

func (e *AttemptError) Error() string {
	return "transport: attempt failed: " + e.cause.Error()
}

// Is reports whether target is the caller's context's error when it had
// ended.
func (e *AttemptError) Is(target error) bool { return e.also != nil && target == e.also }

// Cause returns the error of the last attempt.
func (e *AttemptError) Cause() error { return e.cause }

// NonRetriable marks the error as final for azcore's retry policy.
func (e *AttemptError) NonRetriable() {}

// ErrorType names the cause for telemetry and diagnostics, as the
// attempt's own error would be named.
func (e *AttemptError) ErrorType() string { return e.name }
