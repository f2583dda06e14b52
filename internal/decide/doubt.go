package decide

import (
	"errors"
	"net/http"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// The write doubt: its rules are stated in the package documentation.

// Tracking says how a write can settle a doubt about its own outcome.
type Tracking struct {
	// Tracked reports a create, upsert or replace whose item carries a
	// tracking id of the call's: the transport can read the item back to
	// learn whether an attempt of doubtful outcome committed.
	Tracked bool
	// Creates reports a tracked write that creates its item (a create, or
	// an upsert resent as one): the service refuses a resend (409) if an
	// earlier attempt committed.
	Creates bool
	// Upserts reports a tracked upsert: when its item is absent it can be
	// resent as a create.
	Upserts bool
	// IfMatch reports a write that carries the caller's own If-Match: the
	// service refuses a resend (412) if an earlier attempt committed.
	IfMatch bool
	// Deletes reports a delete of a document in a call that tracks its
	// writes: resent after a doubt, a 404 then ends it as done.
	Deletes bool
}

// Found is what a tracked write's read-back found.
type Found uint8

// What a read-back can find.
const (
	FoundNothing Found = iota // the read-back could not tell: it failed, or got an answer it cannot read
	FoundOurs                 // the item holds the call's tracking id: an attempt committed
	FoundAbsent               // no item (404): a hint only, a read can miss a write whose answer was lost
	FoundBase                 // the item's etag is the write's base (the caller's If-Match, or the etag its body brought): no attempt committed yet
	FoundOther                // another version of the item
)

// A Settlement is what a write in doubt does after its read-back.
type Settlement uint8

// The settlements of a doubt.
const (
	Unknown        Settlement = iota // end with the unknown outcome
	Acknowledge                      // end with the committed attempt's success
	Resend                           // resend the write as it is
	ResendAsCreate                   // resend an upsert as a create
	ResendIfMatch                    // resend with If-Match set to the base the read-back found
)

// noteDoubt records that the call's last attempt, of outcome o, may have
// committed without the call knowing, if the call can settle that.
func (c *Call) noteDoubt(o Outcome, s Situation) {
	if (s.Tracked || s.Deletes) && (o == Ambiguous || o == requestTimeout) {
		c.doubt = true
	}
}

// doubtRule completes d, decided after an attempt of outcome o with
// response resp, with what a write's doubt asks: a read-back before a
// resend or before the call ends, the unknown outcome, a delete done.
func (c *Call) doubtRule(d *Decision, o Outcome, resp *http.Response, s Situation) {
	switch {
	case !s.Write:
	case !c.doubt:
		// Nothing can settle it: a write that may have run ends unknown.
		d.Unknown = !d.Retry && (o == Ambiguous || o == canceled && s.Sent)
	case d.Retry:
		d.ReadBack = s.Tracked && !s.Creates && !s.IfMatch
	case s.Deletes:
		d.Gone = o == Final && resp != nil && resp.StatusCode == http.StatusNotFound && wire.SubStatus(resp.Header) == 0
		d.Unknown = !d.Gone && o != OK
	case o != OK:
		d.ReadBack, d.Unknown = s.Tracked, true
	}
}

// Settle says what a write in doubt does after its read-back found f:
// before a resend (resending), or as the call ends. Only the call's own
// tracking id proves that an attempt committed; a write is resent only
// where the service can refuse it if an attempt already committed: as a
// create, or with the caller's If-Match. Anything else is unknown: an item
// of another version cannot tell "ours never ran" from "ours ran and was
// overwritten". The item's etag proves its version: when it is the etag
// the write's body brought (a read-modify-write), the write has not run,
// and it is resent guarded by that etag.
func (c *Call) Settle(f Found, resending bool, t Tracking) Settlement {
	switch {
	case f == FoundOurs:
		return Acknowledge
	case !resending:
		return Unknown
	case t.Creates, t.IfMatch && f != FoundOther:
		return Resend
	case f == FoundBase:
		// The item is still the version the write was made from, whose
		// etag no later version can have: the write has not run, and a
		// resend guarded by that etag is refused if it runs meanwhile.
		return ResendIfMatch
	case t.Upserts && f == FoundAbsent:
		return ResendAsCreate
	}
	return Unknown
}

// Unable turns d, a decision to retry that cannot be carried out (the
// account a resend after a 403 needs could not be learned), into the
// decision to return the answer resp: no retry, what the answer teaches
// kept, and what the doubt rule asks of an answer that ends the call.
func (c *Call) Unable(d Decision, resp *http.Response, s Situation) Decision {
	out := Decision{Reason: d.Reason, Mark: d.Mark, LookUp: d.LookUp}
	c.doubtRule(&out, d.Reason, resp, s)
	return out
}

// MayHaveRun reports whether an attempt that failed with err may have
// reached the service: err reports that the request's headers were
// written, or, without a phase, is not of a kind only connecting produces.
// A refusal by an open circuit never left.
func MayHaveRun(err error) bool {
	var open circuitOpener
	if errors.As(err, &open) {
		return false
	}
	var p phaser
	if errors.As(err, &p) {
		return p.RequestPhase() == PhaseWritten
	}
	return !neverSent(err)
}

// InDoubt reports whether an attempt of the call may have committed
// unseen, a doubt the call can settle.
func (c *Call) InDoubt() bool { return c.doubt }
