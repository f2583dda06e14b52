package transport

import (
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/sony/gobreaker/v2"
)

// A Status is a snapshot of a Transport for operators: the account as the
// chain knows it and the circuits that are not closed. It is a copy the
// caller may keep. It holds no secrets.
type Status struct {
	// Account is the account's state: whether it is loaded, how the last
	// look-up went, the write and read endpoints in the order requests use
	// them with their unavailability marks, and the PreferredRegions that
	// match no region. Zero when the Transport has no Endpoint.
	Account account.Status
	// OpenCircuits lists the endpoints whose circuit is open or half-open,
	// by endpoint.
	OpenCircuits []CircuitStatus
}

// A CircuitStatus describes an endpoint's circuit that is not closed.
type CircuitStatus struct {
	// Endpoint is the endpoint as scheme://host:port.
	Endpoint string
	// HalfOpen reports a circuit letting a probe through; otherwise it is
	// open.
	HalfOpen bool
	// Until is when an open circuit lets a probe through; zero when half-open.
	Until time.Time
}

// Status returns a snapshot of the chain. It is safe for concurrent use
// and does no I/O.
func (t *Transport) Status() Status {
	var s Status
	if t.router != nil {
		s.Account = t.router.Status()
	}
	for _, c := range t.breaker.openCircuits() {
		s.OpenCircuits = append(s.OpenCircuits, CircuitStatus{
			Endpoint: c.endpoint,
			HalfOpen: c.state == gobreaker.StateHalfOpen,
			Until:    c.until,
		})
	}
	return s
}
