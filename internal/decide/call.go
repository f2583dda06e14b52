package decide

import (
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// A Situation is what the transport knows about a call that its answers do
// not say.
type Situation struct {
	// Write is the call's kind: a write (see wire.Request.Write) or a read.
	Write bool
	// MultiWrite reports a write in an account with multiple write
	// regions: it may move between them.
	MultiWrite bool
	// Replayable reports that the request's body can be sent again.
	Replayable bool
	// OtherRegion reports that the call can still go to an endpoint it
	// has not tried.
	OtherRegion bool
	// Account reports that the call is the account's: the account can be
	// read to learn where a refused write goes.
	Account bool
	// Deadline is the call's deadline; zero if it has none.
	Deadline time.Time
	// Tracking says how the call, if it is a write, can settle a doubt
	// about its own outcome.
	Tracking
	// Sent reports that the attempt failed after its request may have
	// reached the service (see MayHaveRun), whatever its outcome: a write
	// whose caller's context ended then may have run.
	Sent bool
	// Ranged reports an answer that names the partition key range it came
	// from, when partition circuits are on: a 503 then is that range's,
	// counted by its circuit, and marks no region.
	Ranged bool
	// PartitionFailover reports a write of a known partition key range in
	// a single-write account with per-partition failover
	// (enablePerPartitionFailoverBehavior): the service may have moved
	// that range's writes to another region on its own, so a 403.3 or a
	// 503 for it moves the range's writes to the next region (Route
	// NextRegion) rather than the account's: while the call has a region
	// it has not tried (OtherRegion), a 403.3 goes there at once, marking
	// no endpoint and reading no account.
	PartitionFailover bool
	// RangeTripped reports a call whose partition key range's circuit is
	// open in every region it may use: the range keeps failing and there
	// is nowhere better to go, so its retries for unavailability, which
	// would draw on the budget every other call shares, are not made.
	RangeTripped bool
	// Pinned reports a call held to one region, as an arm of a hedged read
	// is: the other arms cover the other regions, so a retry that would
	// move elsewhere ends the call instead.
	Pinned bool
	// Stay reports a call whose every attempt goes to one endpoint, as a
	// tracked write's read-back does (it reads where the write went): a
	// retry that would move is made in place, and none is budgeted.
	Stay bool
}

// A Call is the retry state of one call under a Policy: how many retries
// of each kind it has made, how long it has waited, its backoff
// sequences, when its failover began, whether it is in doubt. Its rules
// are the package documentation's table. The zero Call is not usable; get
// one with Policy.Call and consult it after every attempt with Decide. A
// Call is not safe for concurrent use.
type Call struct {
	p *Policy

	throttleRetries int
	throttleWaited  time.Duration

	backoff449      *backoff.ExponentialBackOff // nil until the first 449
	retryWithWaited time.Duration

	backoff503         *backoff.ExponentialBackOff // nil until the first backed-off unavailability retry
	unavailableRetries int
	serverErrorRetried bool
	timeoutRetried     bool
	circuitRetries     int

	failingOver    bool
	failoverStart  time.Time
	failoverWaited time.Duration // a lower bound of the time since failoverStart, should the clock stand still

	sessionRetries int

	doubt bool // a write's attempt may have committed unseen, and the call can settle it
}

// Call starts the retry state of a call. It does not allocate: a backoff
// sequence is made at its first use.
func (p *Policy) Call() Call { return Call{p: p} }

// Decide returns what to do after an attempt whose outcome is o (from
// Judge) and whose response, if any, is resp, in situation s. Call it
// after every attempt, whatever its outcome: an answer that ends the call
// may still need a read-back (see Decision.ReadBack). Decide reads only the
// response's headers. A Decision with Retry false returns the last answer
// as it came, unless its read-back settles the call; Mark and LookUp apply
// either way. Each Decision that retries counts against the call's limits.
func (c *Call) Decide(o Outcome, resp *http.Response, s Situation) Decision {
	c.noteDoubt(o, s)
	if (o == OK || o == Final) && !c.doubt {
		return Decision{Reason: o}
	}
	write := s.Write
	if c.doubt && (o == Ambiguous || o == requestTimeout) {
		write = false // resent as a read would be: the doubt is settled by a read-back or the service's refusal
	}
	d := c.rule(write, o, resp, s.PartitionFailover && s.OtherRegion)
	if d.Retry && c.doubt && (s.MultiWrite || s.PartitionFailover && o != WriteForbidden) {
		// Settled where the write went. A 403.3 says the write cannot go
		// there any more: it moves, as after an account's failover.
		d.Route, d.otherRegionOnly = sameEndpoint, false
	}
	if d.Retry && !c.p.allowed(&d, s) {
		d = Decision{Reason: o}
	}
	d.Mark, d.LookUp = teaches(o, s, d)
	c.doubtRule(&d, o, resp, s)
	return d
}

// allowed applies what the call's own rules cannot know: the body, the
// regions left, the account, the shared budget and the deadline.
func (p *Policy) allowed(d *Decision, s Situation) bool {
	if s.Stay {
		if d.Reason == circuitOpen {
			return false // nothing would change in place
		}
		d.Route, d.otherRegionOnly, d.budgeted = sameEndpoint, false, false
	}
	switch {
	case !s.Replayable:
		return false
	case s.Pinned && d.Route != sameEndpoint && d.Route != WriteRegion:
		return false // a session retry goes to the write region, which no arm may cover
	case d.otherRegionOnly && !s.OtherRegion:
		return false
	case d.Route == Refresh && !s.Account:
		return false // no account to learn the new region from: a client above may know
	case d.budgeted && s.RangeTripped:
		return false // a tripped range must not drain the budget others share
	case d.budgeted && !p.budget.allow():
		return false
	case !s.Deadline.IsZero() && p.now().Add(d.Wait).After(s.Deadline):
		return false
	}
	return true
}

// teaches says what an answer teaches the account about the endpoint that
// gave it, whether or not the call goes on. An endpoint that refused a
// write (403.3), no longer serves the account (403.1008), could not be
// reached or had its circuit open is marked so that other calls avoid it;
// a 503 marks a read region, or a write region of a multi-write account (a
// single write region is retried in place: the service says it is safe),
// unless it names its partition key range (Situation.Ranged): one range's
// 503s steer that range's calls, through its circuit, not the region's.
// The write region may have moved after a 403.3, a 403.1008 or an
// unreachable single write region: the account is read again, in the
// background unless the call resends after a 403, in which case it waits
// for that look-up itself. A 403.3 that moves a range's write to its next
// region (Situation.PartitionFailover) teaches the account nothing: the
// range moved, not the account.
func teaches(o Outcome, s Situation, d Decision) (mark, lookUp bool) {
	resending := d.Retry
	switch o {
	case WriteForbidden, regionNotFound:
		if o == WriteForbidden && resending && s.PartitionFailover && d.Route == NextRegion {
			return false, false
		}
		return true, !resending
	case NeverSent, circuitOpen:
		return true, s.Write && !s.MultiWrite
	case unavailable:
		return (!s.Write || s.MultiWrite) && !s.Ranged, false
	}
	return false, false
}
