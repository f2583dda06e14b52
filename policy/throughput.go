package policy

// A Priority is how the service and the chain rank a call when its
// partition key range is over its request units: Low calls are throttled
// before High ones. The zero value is not a priority of its own: a call
// without one takes its group's, else High.
type Priority int8

const (
	// PriorityHigh is the service's default priority.
	PriorityHigh Priority = iota + 1
	// PriorityLow calls carry x-ms-cosmos-priority-level: Low, so that the
	// service throttles them first (best effort, when the account has
	// priority-based execution), and the chain holds them back first when
	// their range is throttled.
	PriorityLow
)

// String returns "high", "low", or "" for the zero value.
func (p Priority) String() string {
	switch p {
	case PriorityHigh:
		return "high"
	case PriorityLow:
		return "low"
	}
	return ""
}

// ThroughputOptions configures throughput control: groups of calls paced
// to a target of request units per second, and how every call behaves
// after the service throttles a range. The zero value is the documented
// default of every field: no group, and throttled ranges held back.
//
// Without any group, a 429 with sub-status 3200 (the container's
// throughput spent) tells the chain that the answering partition key range
// is over its budget in that region until the answer's retry-after hint.
// Calls of the same or a lower priority to that range and region wait for
// it, within their deadline (a call whose deadline ends first is sent at
// once, as before), and are then let through at the rate the range was
// seen to serve, rising slowly until the service throttles again: a
// greedy client settles just under what the range can serve instead of
// collecting 429s. A Low call's 429 never holds back High calls. 429s
// with other sub-statuses (3212, a throughput bucket; 3092, the
// partition's health, which partition circuits count; metadata throttling)
// hold nothing back.
type ThroughputOptions struct {
	// Groups are the throughput groups calls may join (see
	// ThroughputGroup). Names must be distinct and not empty.
	Groups []ThroughputGroup
	// QueueLimit bounds the calls of one group waiting for one range's
	// budget; a call beyond it fails at once. Default 1024; negative: no
	// bound (the calls' deadlines still bound their waits).
	QueueLimit int
	// NoHold turns off holding calls back after a range's 429/3200: each
	// call meets the service's answer and retries on its own, as the
	// retry rules say. Groups still pace their calls.
	NoHold bool
}

// A ThroughputGroup paces the calls that join it (see
// transport.RequestOptions.ThroughputGroup) to a target of request units
// per second, separately in each container they touch: a group of 400
// RU/s lets its calls spend 400 RU/s in each container. The target is
// split over the container's partition key ranges (provisioned throughput
// applies per range), so a hot range is paced on its own while the others
// run; until the container's ranges are known, and for calls that span
// ranges, the whole target applies to the container.
//
// A call's charge is known only after its answer: each attempt reserves
// the charge of the group's last call of its kind (read, write, query or
// batch) and the difference to the answer's x-ms-request-charge is
// settled afterwards (a range may run into debt, which later calls wait
// out, up to an hour of the target). A call over budget waits, within its
// deadline and behind at most ThroughputOptions.QueueLimit others; one
// that cannot be served in time (its turn, or the end of the service's
// throttling of its range, comes later than 25 ms before its deadline)
// fails at once, before it is sent, with an error of the chain's own
// (transport.ErrThroughputLimit), not a 429. The first calls of each kind
// in a container reserve a small item's charge until one is answered.
type ThroughputGroup struct {
	// Name is how calls join the group.
	Name string
	// TargetRU is the group's request units per second in each container.
	// It always works. When set, TargetShare is ignored.
	TargetRU float64
	// TargetShare is the group's share, from 0 to 1, of the container's
	// provisioned throughput (the container's own, else its database's
	// shared throughput; an autoscale container's maximum). The chain
	// reads the container's offer, which needs the account's master key
	// (Entra data-plane roles cannot read throughput); a serverless account
	// has none to share. Set ProvisionedRU to state it instead.
	TargetShare float64
	// ProvisionedRU states the provisioned RU/s TargetShare is a share of,
	// instead of reading each container's offer. 0: read the offer.
	ProvisionedRU float64
	// Priority is the priority of the group's calls. 0: PriorityHigh.
	Priority Priority
}
