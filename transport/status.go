package transport

import (
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/policy"
)

// A Status is a snapshot of a Transport for operators: the account as the
// chain knows it and the circuits that are not closed. It is a copy the
// caller may keep and modify. It holds no secrets.
type Status struct {
	// Account is the account's state. Zero when the Transport has no
	// Endpoint.
	Account AccountStatus
	// OpenCircuits lists the endpoints whose circuit is open or half-open,
	// by endpoint.
	OpenCircuits []CircuitStatus
	// OpenPartitions lists the partition key ranges whose circuit is open
	// in a region (see policy.PartitionOptions), by container, range and
	// region.
	OpenPartitions []PartitionStatus
	// Throughput lists each throughput group's budget in each container
	// it has paced, by group and container.
	Throughput []ThroughputStatus
	// ThrottledRanges lists the partition key ranges the service
	// throttled (429/3200) lately, whose calls wait or are paced (see
	// policy.ThroughputOptions), by container, range and region.
	ThrottledRanges []ThrottledRange
}

// A ThroughputStatus is a throughput group's budget in one container.
type ThroughputStatus struct {
	Group     string
	Container string  // "dbs/{db}/colls/{coll}"
	Rate      float64 // RU/s the group paces at in the container (0 while its target is not known)
	Debt      float64 // RU reserved beyond what the rate has paid for: what the next calls wait out
	Queued    int     // calls waiting for their turn now
}

// A ThrottledRange is a partition key range the service throttled in a
// region: calls of its priority (and lower) wait until Until, then go at
// Rate.
type ThrottledRange struct {
	Container string // "dbs/{db}/colls/{coll}"
	Range     string // the partition key range id
	Region    string // the region's name, or its endpoint's host
	Priority  policy.Priority
	Until     time.Time
	Rate      float64 // RU/s the range's calls are let through at; 0 until learned
}

// A PartitionStatus is one partition key range whose circuit is open in
// one region: its calls go to other regions first until Until, when a
// probe (or, where a probe cannot tell, one call) tests the region again
// (Testing while it does; Until is then when a test that never reports is
// given up, a minute or ten open periods on: a probe itself gives up after
// 5 s).
type PartitionStatus struct {
	Container string // "dbs/{db}/colls/{coll}"
	Range     string // the partition key range id
	Region    string // the region's name, or its endpoint's host
	Until     time.Time
	Testing   bool
}

// An AccountStatus is the account as the chain knows it: whether it is
// loaded, how the last look-up of its DatabaseAccount document went, and
// where requests go.
type AccountStatus struct {
	// Loaded reports whether the account has been loaded; the fields
	// below LastError are empty until then.
	Loaded bool
	// LastLookup is when the last look-up completed; zero if none has.
	LastLookup time.Time
	// LastError is the last completed look-up's error message, empty if
	// it succeeded. It names endpoints and statuses, never Authorization
	// values or keys.
	LastError string
	// AccountID is the account's id.
	AccountID string
	// MultipleWriteLocations reports a multi-write account.
	MultipleWriteLocations bool
	// Write and Read are the write and read endpoints in the order
	// requests use them: by Options.PreferredRegions for reads (and for
	// the writes of a multi-write account), those marked unavailable
	// last.
	Write, Read []EndpointStatus
	// UnmatchedPreferred lists the Options.PreferredRegions entries that
	// name no region of the account, as given (a misspelt region shows
	// here).
	UnmatchedPreferred []string
}

// An EndpointStatus describes one endpoint of the account.
type EndpointStatus struct {
	// Region is the region's name, e.g. "West US 2".
	Region string
	// Endpoint is the endpoint as scheme://host:port, as CircuitStatus
	// names it.
	Endpoint string
	// MarkedUntil is when the endpoint's unavailability mark for the
	// list's operation (write or read) expires; zero if it is not
	// marked. A marked endpoint is tried after the others.
	MarkedUntil time.Time
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
		// A conversion, so that a field added to the router's snapshot
		// and not to AccountStatus, or the other way round, stops the
		// build.
		s.Account = AccountStatus(account.StatusAs[EndpointStatus](t.router))
	}
	s.OpenCircuits = t.breaker.openCircuits()
	if t.router != nil {
		for _, p := range t.router.PartitionStatus() {
			s.OpenPartitions = append(s.OpenPartitions, PartitionStatus{
				Container: p.Container, Range: p.Range, Region: p.Endpoint, Until: p.Until, Testing: p.Testing,
			})
		}
	}
	if th := t.retry.throttle; th != nil {
		for _, g := range th.GroupStatus() {
			s.Throughput = append(s.Throughput, ThroughputStatus(g))
		}
		for _, h := range th.HeldStatus() {
			prio := policy.PriorityHigh
			if h.Low {
				prio = policy.PriorityLow
			}
			s.ThrottledRanges = append(s.ThrottledRanges, ThrottledRange{
				Container: h.Container, Range: h.Range, Region: t.router.NameOfHost(h.Host), Priority: prio, Until: h.Until, Rate: h.Rate,
			})
		}
	}
	return s
}
