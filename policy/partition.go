package policy

import "time"

// PartitionOptions configures the partition circuits: one per partition
// key range of a container in a region, so that one range's failures
// steer that range's calls and never take down the region or the account
// (the endpoint's circuit, BreakerOptions, counts only what the endpoint
// itself does). The zero value is the documented default of every field.
//
// A range's circuit counts its answers in one region: 500, 503, 408, an
// attempt that left and got no answer, 410 other than the routing
// sub-statuses, and 429 with sub-status 3092 (system resource
// unavailable) are failures; any other answer of the service is a
// success; what never left, the caller's cancellation, 429 of the
// caller's own throughput and the routing answers (410/1002 split, 1000,
// 1007, 1008) count neither way. A circuit trips after
// ConsecutiveFailures failures in a row, or, with hedged reads, after
// HedgeOptions.DemoteAfter hedged reads in a row that another region
// answered first. A tripped range's reads go to the next preferred region
// without a failed attempt first; in a multi-write account its writes go
// to the next write region, and in an account with per-partition failover
// to the range's next region; a single write region is otherwise never
// refused (there is nowhere else to send the write), but its failures
// still steer the range's reads. After OpenTimeout (plus up to a fifth
// more, at random) one test of the region for the range runs at a time: a
// probe of the chain's own (a point read, one request unit, of an id no
// item has under a key of the range, whose 404 shows that the range
// answers) while no call waits for it, or one real call where a probe
// cannot tell (a range that failed writes, one tripped by lost hedges, a
// credential that may not read items, a container whose ranges are
// unknown). A success closes the circuit, a failure opens it again. When
// three ranges or more are tripped in one region, the region is marked
// unavailable for reads, as an endpoint that fails is.
//
// In a single-write account whose document says
// enablePerPartitionFailoverBehavior, a write of a range answered 403.3 or
// 503 goes to the range's next region (the write region, then the others
// in the order reads use them) without reading the account, and the
// range's next writes go first where one succeeded, until one succeeds in
// the write region again or five minutes pass without one; at most
// MaxRanges ranges are remembered. With ConsecutiveFailures negative this
// is off too, and a 403.3 reads the account as in any other account.
type PartitionOptions struct {
	// ConsecutiveFailures trips a range's circuit in a region after this
	// many failures in a row there. Default 10; negative: partition
	// circuits are off.
	ConsecutiveFailures int
	// OpenTimeout is how long a tripped range avoids a region before one
	// call tests it again. Default 5s; negative: the default.
	OpenTimeout time.Duration
	// MaxRanges bounds the (container, range, region) entries kept; the
	// least recently used closed ones are forgotten first. It bounds as
	// well the ranges whose region per-partition failover remembers.
	// Default 100 000.
	MaxRanges int
}
