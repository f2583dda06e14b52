package decide

import "time"

// A Route says where the next attempt goes.
type Route uint8

// The routes of a retry.
const (
	sameEndpoint Route = iota // resend where the last attempt went
	NextRegion                // reads: next preferred read region; writes: next write region of a multi-write account, else the (current) write endpoint
	WriteRegion               // resend to the write region (404.1002)
	Refresh                   // mark the endpoint, force an account refresh, resend to the endpoint it names (403.3, 403.1008)
)

var routeNames = [...]string{
	sameEndpoint: "same_endpoint",
	NextRegion:   "next_region",
	WriteRegion:  "write_region",
	Refresh:      "refresh",
}

// String returns the route's short snake_case name ("same_endpoint",
// "next_region", ...), or "unknown".
func (r Route) String() string {
	if int(r) < len(routeNames) {
		return routeNames[r]
	}
	return "unknown"
}

// A Decision is what to do after one attempt.
type Decision struct {
	// Retry says whether to make another attempt. When false, the call
	// returns the last answer as it came (or the read-back's, see
	// ReadBack), and the other fields but Reason, Mark, LookUp and
	// ReadBack are zero.
	Retry bool
	// Wait is how long to wait before the next attempt. It already includes
	// jitter and is never below the server's hint. For Route Refresh it is
	// the spacing of resends to an endpoint that has not changed.
	Wait time.Duration
	// Route says where the next attempt goes.
	Route Route
	// otherRegionOnly says the retry goes only to another region; the
	// Policy makes it only when the call has one.
	otherRegionOnly bool
	// budgeted says the retry is caused by unavailability: the Policy
	// makes it only while the retry budget allows.
	budgeted bool
	// Reason is the outcome that led to this decision, for metrics and
	// spans.
	Reason Outcome

	// Mark says to mark the endpoint that gave the answer unavailable (for
	// writes if the call is a write, else for reads), so that other calls
	// avoid it until the mark expires.
	Mark bool
	// LookUp says to read the account again in the background, without
	// waiting: the write region may have moved and this call will not
	// resend to learn where.
	LookUp bool

	// ReadBack says to read the tracked item back before carrying the
	// decision out: before resending when Retry is set (then Call.Settle
	// says whether and how to resend), before returning the answer
	// otherwise (then the call ends with the committed attempt's success
	// if the item holds the call's tracking id, else as Unknown says).
	ReadBack bool
	// Unknown says that the call, a write, ends with the unknown outcome
	// (transport.ErrOutcomeUnknown) instead of its last answer: it may or
	// may not have run, and nothing settled it.
	Unknown bool
	// Gone says that the call, a delete in doubt, ends as done: the item
	// is gone.
	Gone bool
}
