package transport

import (
	"errors"
	"fmt"
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
