package account

import (
	"slices"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// A statusOf is a snapshot of a Router for operators: the account it has
// loaded, how its last look-up went and where requests go. It is a copy:
// the caller may keep and modify it. It holds no secrets.
//
// Its endpoint entries are of type E: EndpointStatus, or a struct type
// with the same fields, so that transport converts a statusOf of its own
// EndpointStatus to its public type in one conversion, which stops
// compiling when the two types' fields differ.
type statusOf[E ~EndpointStatus] struct {
	// Loaded reports whether an account has been loaded; the fields
	// below LastError are empty until then.
	Loaded bool
	// LastLookup is when the last look-up completed, by the router's
	// clock (RouterOptions.Now); zero if none has.
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
	// requests use them (see WriteEndpoints and readEndpoints).
	Write, Read []E
	// UnmatchedPreferred lists the RouterOptions.PreferredRegions entries
	// that name no location of the account, as given (a misspelt region
	// shows here).
	UnmatchedPreferred []string
}

// A Status is a snapshot of a Router with its own endpoint entries.
type Status = statusOf[EndpointStatus]

// An EndpointStatus describes one endpoint in a Status. Its type has no
// name of its own, so that any struct type with these fields can stand
// for it in a statusOf.
type EndpointStatus = struct {
	// Region is the location's name, e.g. "West US 2".
	Region string
	// Endpoint is the endpoint as scheme://host:port, the port made
	// explicit, as the breaker names it.
	Endpoint string
	// MarkedUntil is when its unavailability mark for the list's
	// operation (write or read) expires; zero if it is not marked.
	MarkedUntil time.Time
}

// Status returns a snapshot of the router. It is safe for concurrent use
// and does no I/O.
func (r *Router) Status() Status { return StatusAs[EndpointStatus](r) }

// StatusAs returns a snapshot of r with endpoint entries of type E. It is
// safe for concurrent use and does no I/O.
func StatusAs[E ~EndpointStatus](r *Router) statusOf[E] {
	var s statusOf[E]
	r.mu.Lock()
	if f := r.last; f != nil {
		s.LastLookup = f.end
		if f.err != nil {
			s.LastError = f.err.Error()
		}
	}
	r.mu.Unlock()
	cacheStatus(r.cache, r.now(), &s)
	return s
}

// cacheStatus fills in the account, endpoint and preference fields of s
// with the routes and marks of c valid at now.
func cacheStatus[E ~EndpointStatus](c *locationCache, now time.Time, s *statusOf[E]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rts := c.routesLocked(now)
	a := rts.account
	if a == nil {
		return
	}
	s.Loaded, s.AccountID, s.MultipleWriteLocations = true, a.ID, a.MultipleWriteLocations
	s.Write = endpointStatus[E](c, rts.writeLocs, true, now)
	s.Read = endpointStatus[E](c, rts.readLocs, false, now)
	names := make(map[string]bool)
	for _, list := range [][]Location{a.Write, a.Read} {
		for _, l := range list {
			names[strings.ToLower(l.Name)] = true
		}
	}
	for i, p := range c.preferred {
		if !names[p] {
			names[p] = true // each entry once
			s.UnmatchedPreferred = append(s.UnmatchedPreferred, c.preferredAsGiven[i])
		}
	}
}

// endpointStatus describes locs with their marks for writes (write) or
// reads at now. c.mu must be held.
func endpointStatus[E ~EndpointStatus](c *locationCache, locs []Location, write bool, now time.Time) []E {
	out := make([]E, len(locs))
	for i, l := range locs {
		id := wire.EndpointOf(l.Endpoint)
		m := c.marks[id]
		until := m.read
		if write {
			until = m.write
		}
		out[i] = E{
			Region:      l.Name,
			Endpoint:    id.String(),
			MarkedUntil: live(until, now),
		}
	}
	return out
}

// PartitionStatus is one open partition circuit, for an operator.
type PartitionStatus struct {
	Container, Range, Endpoint string
	Until                      time.Time // when a probe or a call tests the region again
	Testing                    bool      // a probe or a call is testing it now
}

// PartitionStatus lists the open partition circuits, for an operator.
func (r *Router) PartitionStatus() []PartitionStatus {
	return r.parts.status(r.nameOfHost)
}

// nameOfHost names the account's endpoint at host: its region's name, or
// host itself.
func (r *Router) nameOfHost(host string) string {
	if a := r.Account(); a != nil {
		for _, ls := range [][]Location{a.Read, a.Write} {
			for _, l := range ls {
				if l.Endpoint.Host == host {
					return l.Name
				}
			}
		}
	}
	return host
}

// OpenPartitions calls yield with each region that has open partition
// circuits and their number, for telemetry's gauge.
func (r *Router) OpenPartitions(yield func(region string, open int)) {
	r.parts.openPerHost(func(host string, n int) { yield(r.nameOfHost(host), n) })
}

// status lists the open circuits, for an operator.
func (p *partitions) status(nameOf func(host string) string) []PartitionStatus {
	if !p.on() || p.open.Load() == 0 {
		return nil
	}
	p.mu.Lock()
	var out []PartitionStatus
	for i := p.t.open.head; i != noIndex && p.t.count > 0; i = p.t.at(i).next {
		c := p.t.at(i)
		container, rangeID, host := p.t.names(c.key)
		out = append(out, PartitionStatus{Container: container, Range: rangeID, Endpoint: host,
			Until: p.timeOf(c.until), Testing: c.flags&flagTesting != 0})
	}
	p.mu.Unlock()
	for i := range out {
		if nameOf != nil {
			out[i].Endpoint = nameOf(out[i].Endpoint)
		}
	}
	slices.SortFunc(out, func(a, b PartitionStatus) int {
		if a.Container != b.Container {
			return compareStrings(a.Container, b.Container)
		}
		if a.Range != b.Range {
			return compareStrings(a.Range, b.Range)
		}
		return compareStrings(a.Endpoint, b.Endpoint)
	})
	return out
}

// openPerHost calls yield with each host that has open circuits and
// their number.
func (p *partitions) openPerHost(yield func(host string, n int)) {
	if !p.on() || p.open.Load() == 0 {
		return
	}
	type hostOpen struct {
		host string
		n    int
	}
	var hs []hostOpen
	p.mu.Lock()
	for h, n := range p.openIn {
		if n > 0 {
			hs = append(hs, hostOpen{p.t.hosts.name(uint32(h)), int(n)})
		}
	}
	p.mu.Unlock()
	for _, h := range hs {
		yield(h.host, h.n)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
