package decide

import (
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// A Policy is the whole retry decision of one transport: it classifies
// each answer, keeps the retry budget its calls share, and tells each call
// whether to try again, when, where, and what the answer teaches the
// account (marks, a look-up). The transport carries its decisions out and
// decides nothing itself. A Policy is safe for concurrent use; its Calls
// are not.
type Policy struct {
	opts   policy.RetryOptions // with defaults
	budget *Budget
	now    func() time.Time
	random func() float64
}

// New returns the Policy of a transport configured by o. A nil now means
// time.Now; a nil random means math/rand/v2's Float64 (see NewRetrier).
func New(o policy.RetryOptions, now func() time.Time, random func() float64) *Policy {
	o = RetryDefaults(o)
	if now == nil {
		now = time.Now
	}
	return &Policy{opts: o, budget: NewBudget(o.Budget), now: now, random: random}
}

// Options returns the options the Policy applies, with their defaults.
func (p *Policy) Options() policy.RetryOptions { return p.opts }

// Judge returns the Outcome of one attempt (see Classify) and feeds the
// retry budget with it: unavailability drains it, an answer from the
// service refills it, and errors that are nobody's fault (the caller's
// cancellation, a request refused before it was sent) leave it alone.
func (p *Policy) Judge(resp *http.Response, err error) Outcome {
	o := Classify(resp, err)
	switch {
	case Unavailability(o):
		p.budget.Failure()
	case err == nil && (o == OK || o == Final):
		p.budget.Success()
	}
	return o
}

// A Situation is what the transport knows about a call that its answers do
// not say.
type Situation struct {
	// Write is the call's kind: a write (see wire.IsWrite) or a read.
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
	// Tracked reports a write that carries a tracking id (see
	// policy.RetryOptions.TrackWrites): the transport can tell, by reading
	// the item back, whether an attempt of doubtful outcome committed, so
	// such a write may be resent after an ambiguous failure or a 408.
	Tracked bool
	// Pinned reports a call held to one region, as an arm of a hedged read
	// is: the other arms cover the other regions, so a retry that would
	// move elsewhere ends the call instead.
	Pinned bool
}

// A Call is the retry state of one call under a Policy. The zero Call is
// not usable; get one with Policy.Call. It is not safe for concurrent use.
type Call struct {
	p *Policy
	r *Retrier // made at the first answer that may call for a retry
}

// Call starts the retry state of a call. It does not allocate until the
// call meets an answer that may be retried.
func (p *Policy) Call() Call { return Call{p: p} }

// Decide returns what to do after an attempt whose outcome is o (from
// Judge) and whose response, if any, is resp, in situation s. A Decision
// with Retry false returns the last answer as it came; Mark and LookUp
// apply either way. Each Decision that retries counts against the call's
// limits.
func (c *Call) Decide(o Outcome, resp *http.Response, s Situation) Decision {
	if o == OK || o == Final {
		return Decision{Reason: o}
	}
	if c.r == nil {
		c.r = NewRetrier(c.p.opts, c.p.now, c.p.random)
	}
	write := s.Write
	if s.Tracked && (o == Ambiguous || o == RequestTimeout) {
		write = false // resent as a read would be: the read-back settles the doubt
	}
	d := c.r.Decide(write, o, resp)
	if d.Retry && !c.p.allowed(d, s) {
		d = Decision{Reason: o}
	}
	d.Mark, d.LookUp = teaches(o, s, d.Retry)
	return d
}

// allowed applies what the call's own rules cannot know: the body, the
// regions left, the account, the shared budget and the deadline.
func (p *Policy) allowed(d Decision, s Situation) bool {
	switch {
	case !s.Replayable:
		return false
	case s.Pinned && d.Route != SameEndpoint:
		return false
	case d.OtherRegionOnly && !s.OtherRegion:
		return false
	case d.Route == Refresh && !s.Account:
		return false // no account to learn the new region from: a client above may know
	case d.Budgeted && !p.budget.Allow():
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
// single write region is retried in place: the service says it is safe).
// The write region may have moved after a 403.3, a 403.1008 or an
// unreachable single write region: the account is read again, in the
// background unless the call resends after a 403, in which case it waits
// for that look-up itself.
func teaches(o Outcome, s Situation, resending bool) (mark, lookUp bool) {
	switch o {
	case WriteForbidden, RegionNotFound:
		return true, !resending
	case NeverSent, CircuitOpen:
		return true, s.Write && !s.MultiWrite
	case Unavailable:
		return !s.Write || s.MultiWrite, false
	}
	return false, false
}
