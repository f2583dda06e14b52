package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// A Route is one call's way through the account's endpoints: where each
// attempt goes, what an answer teaches the account, and where the next
// attempt goes after a decision. For a request that is not the account's
// (or with no Router) every attempt goes to the request's own URL and
// answers teach nothing. For the account's requests it follows the
// Router: writes to the write region (in a multi-write account, the write
// regions by preference), reads to the read regions by preference.
//
// A Route also holds the call's retry state under the transport's policy
// (decide.Policy), and carries out what the policy decides about the
// account. A call uses it once per attempt, in this order:
//
//	rt.Prepare(ctx, areq, &moved)                // where this attempt goes: URL, headers, signature
//	d := rt.Answer(ctx, resp, err, replayable)   // here is the answer: what to do
//	// if d.Retry: drain, wait d.Wait, then
//	failover, err := rt.Next(ctx, d)             // what next
//
// A Route is not safe for concurrent use.
type Route struct {
	owner    *Router // the account's router if the request is the account's; else nil
	write    bool
	sign     bool     // the account's credential signs each attempt
	origin   *url.URL // the caller's URL
	policy   *decide.Policy
	call     decide.Call
	deadline time.Time // the call's; zero if none

	target   *url.URL // where the next attempt goes
	sent     *url.URL // where the last attempt went
	known    bool     // the account was known when the route was last reset
	multi    bool     // a write in a multi-write account: it may move between write regions
	eps      []*url.URL
	idx      int
	tried    int    // distinct endpoints of eps tried so far
	answered uint64 // the router's epoch when the last answer arrived

	rtype, link string // the resource type and link that sign the call's attempts

	excluded []string // regions the call must never be sent to
	none     bool     // every endpoint the call may use is excluded
	pinned   bool     // an arm of a hedged read: it stays in its region

	tracking decide.Tracking  // how a write settles a doubt
	last     decide.Situation // the situation of the last answer

	container string // "dbs/d/colls/c" of a request about a container's documents; "" otherwise
	rangeID   string // the partition key range the call targets, when known before its first attempt
	pk        string // the request's partition key header, as sent
	moving    string // the range whose write moves between regions (per-partition failover, see ppaf.go); "" if none
	settled   bool   // the write's range was moved through every region: it writes as the account's writes do

	answeredRange string // the range the last answer named, else the one known before it; "" if neither
}

// ErrAllExcluded reports a call whose every possible region is excluded by
// the caller's request options.
var ErrAllExcluded = errors.New("every region this call may use is excluded")

// NewRoute starts the route of the call req, which d describes, under
// policy p. r may be nil (no account). If r owns req's URL, the account is
// loaded first (joining a look-up in flight); when it cannot be, the call
// starts at req's URL and asks again when it meets an answer that only the
// account can resolve (403.3). A write first waits for a forced look-up in
// flight (see Router.awaitForced): a write that cannot be resent would
// otherwise go where writes were just refused. The account's credential
// signs the attempts of a request that comes without an Authorization
// header.
//
// The call never goes to a region named in excluded (names as the account
// lists them, case-insensitive); a call that could go nowhere else fails
// with ErrAllExcluded. A read may be hedged: see Arms.
func NewRoute(ctx context.Context, r *Router, p *decide.Policy, req *http.Request, d *wire.Request, excluded []string) Route {
	u := req.URL
	rt := Route{write: d.Write, origin: u, target: u, sent: u, policy: p, call: p.Call(), excluded: excluded}
	rt.deadline, _ = ctx.Deadline()
	if r == nil || !r.Owns(u) {
		return rt
	}
	rt.owner = r
	rt.sign = r.cred != nil && req.Header.Get("Authorization") == ""
	rt.rtype, rt.link = d.Type, d.Link
	rt.container, rt.rangeID, rt.pk = d.ContainerLink(), d.RangeID, d.PartitionKey
	if rt.rangeID == "" && (r.parts.open.Load() > 0 || d.Write && r.moves.any()) {
		// A range is tripped somewhere, or a range's writes moved: learn
		// this call's range before its first attempt, so that it can
		// avoid the range's region, or go where the range's writes went.
		rt.rangeID, _ = r.rangeOf(rt.container, rt.pk)
	}
	if r.ensure(ctx) == nil {
		if rt.write {
			r.awaitForced(ctx)
		}
		rt.reset()
	}
	return rt
}

// AllExcluded reports whether every endpoint the call may use is excluded
// by the caller: no attempt can be made.
func (rt *Route) AllExcluded() bool { return rt.none }

// Prepare points areq, a shallow copy of the caller's request for one
// attempt, at the endpoint the attempt goes to and gives it its own
// headers when they change: the multi-write header, the signature. A URL
// moved to another endpoint is written to moved, storage the attempt owns.
// It never modifies the caller's URL or headers.
func (rt *Route) Prepare(ctx context.Context, areq *http.Request, moved *url.URL) error {
	if rt.AllExcluded() {
		return ErrAllExcluded
	}
	if rt.moveTo(moved) {
		areq.URL = moved
		areq.Host = ""
	}
	multi := rt.write && rt.multi
	if !rt.sign && !multi {
		return nil
	}
	areq.Header = areq.Header.Clone()
	if multi {
		areq.Header.Set(wire.HeaderAllowTentativeWrites, "true")
	}
	if rt.sign {
		return signAs(ctx, areq, rt.rtype, rt.link, rt.owner.cred, time.Now())
	}
	return nil
}

// CanTrack reports whether the call's write can be tracked: the request
// is the account's and the chain holds a credential that may read the
// item back, whoever signed the write.
func (rt *Route) CanTrack() bool {
	return rt.write && rt.owner != nil && rt.owner.cred != nil
}

// Track sets how the call's write settles a doubt about its outcome (see
// decide.Tracking). A tracked write needs CanTrack.
func (rt *Route) Track(t decide.Tracking) {
	rt.tracking = t
}

// AsCreate records that the call's upsert is resent as a create.
func (rt *Route) AsCreate() {
	rt.tracking.Creates, rt.tracking.Upserts = true, false
}

// Guarded records that the call's write is resent with an If-Match.
func (rt *Route) Guarded() {
	rt.tracking.IfMatch = true
}

// Settle says what the call, a write in doubt, does after its read-back
// found f: before a resend (resending) or as it ends (see decide.Settle).
// A write found committed is one that succeeded where it went.
func (rt *Route) Settle(f decide.Found, resending bool) decide.Settlement {
	st := rt.call.Settle(f, resending, rt.tracking)
	if st == decide.Acknowledge {
		rt.wroteRange(nil)
	}
	return st
}

// SignAt points req, a request of the chain's own about the call's item
// (a read-back), at the endpoint of the call's last attempt, and signs it
// with the account's credential. A read-back before a resend thus reads
// where the write met its doubt, and one as the call ends reads where its
// last answer came from (a resent create's 409, say). In a multi-write
// account a write in doubt is resent only where it met the doubt.
func (rt *Route) SignAt(ctx context.Context, req *http.Request) error {
	req.URL.Scheme, req.URL.Host, req.Host = rt.sent.Scheme, rt.sent.Host, ""
	return Sign(ctx, req, rt.owner.cred, time.Now())
}

// SentRegion names the endpoint of the call's last attempt, for telemetry.
func (rt *Route) SentRegion() string { return rt.nameOf(rt.sent) }

// Answer judges one attempt's answer and returns what to do: the policy's
// decision, with what the answer teaches the account already carried out
// (marks, a background look-up). A decision to resend after a 403.3 that
// only the account can resolve comes back with Retry false when the
// account cannot be learned: the answer is returned rather than resent
// where it was refused. replayable says whether the body can be sent
// again.
func (rt *Route) Answer(ctx context.Context, resp *http.Response, err error, replayable bool) decide.Decision {
	if rt.owner != nil {
		rt.answered = rt.owner.epoch() // a look-up that starts later may know more than the answer did
	}
	// A range tripped everywhere before this answer keeps failing with
	// nowhere better to go: its failures and retries must not drain the
	// budget every other call shares.
	tripped := rt.owner != nil && rt.trippedEverywhere(resp)
	var o decide.Outcome
	if tripped {
		o = rt.policy.JudgeTripped(resp, err)
	} else {
		o = rt.policy.Judge(resp, err)
	}
	moves := rt.owner != nil && rt.rangeMayMove(o, resp)
	s := decide.Situation{
		Write:       rt.write,
		MultiWrite:  rt.write && rt.multi,
		Replayable:  replayable,
		OtherRegion: rt.known && (!rt.write || rt.multi || moves) && rt.tried < len(rt.eps),
		Account:     rt.owner != nil,
		Deadline:    rt.deadline,
		Tracking:    rt.tracking,
		Sent:        err != nil && rt.write && decide.MayHaveRun(err),
		Ranged:      resp != nil && rt.owner != nil && rt.owner.parts.on() && len(resp.Header[wire.HeaderPartitionKeyRangeID]) > 0,
		Pinned:      rt.pinned,

		PartitionFailover: moves,
	}
	rt.recordPartition(ctx, resp, err)
	s.RangeTripped = o != decide.OK && o != decide.Final && !moves && (tripped || rt.owner != nil && rt.trippedEverywhere(resp))
	rt.last = s
	d := rt.call.Decide(o, resp, s)
	if o == decide.OK {
		rt.wroteRange(resp)
	}
	if o == decide.OK || o == decide.Final {
		return d
	}
	rt.teach(ctx, d)
	if d.Retry && d.Route == decide.Refresh && !rt.learn(ctx) {
		return rt.call.Unable(d, resp, s)
	}
	return d
}

// Next moves the route as decision d says, before the next attempt. For
// decide.Refresh it waits for an account look-up (see lookUp) unless
// another call already learned where to go. failover reports a write
// redirected to a new write region after a 403.3. The error is returned
// only when ctx ended.
func (rt *Route) Next(ctx context.Context, d decide.Decision) (failover bool, err error) {
	err = rt.move(ctx, d.Route)
	return d.Reason == decide.WriteForbidden && !sameEndpoint(rt.sent, rt.target), err
}

// moveTo records that the next attempt goes to the route's target and
// reports whether that is another endpoint than the caller's URL names;
// then it writes the caller's URL moved there to u.
func (rt *Route) moveTo(u *url.URL) bool {
	rt.sent = rt.target
	if sameEndpoint(rt.target, rt.origin) {
		return false
	}
	*u = *rt.origin
	u.Scheme, u.Host = rt.target.Scheme, rt.target.Host
	return true
}

// teach carries out what decision d says the last answer teaches the
// account: it marks the endpoint that gave it, and starts a look-up
// without waiting for it.
func (rt *Route) teach(ctx context.Context, d decide.Decision) {
	if rt.owner == nil {
		return
	}
	if d.Mark {
		rt.owner.markUnavailable(rt.sent, rt.write)
	}
	if d.LookUp {
		rt.owner.startRefresh(ctx, rt.answered)
	}
}

// learn waits for the account when the call started without it and met an
// answer only the account can resolve (403.3, 403.1008). It reports whether
// the route now follows the account and can resend.
func (rt *Route) learn(ctx context.Context) bool {
	if rt.known {
		return true
	}
	if rt.owner == nil {
		return false
	}
	return rt.lookUp(ctx) == nil && rt.known
}

// move moves the route as a decision's route asks.
func (rt *Route) move(ctx context.Context, to decide.Route) error {
	if !rt.known {
		return nil
	}
	switch to {
	case decide.NextRegion:
		if rt.write && !rt.multi && rt.moving == "" {
			rt.reset() // the write region, which a look-up may have moved
			return nil
		}
		if len(rt.eps) == 0 {
			return nil
		}
		rt.idx = (rt.idx + 1) % len(rt.eps)
		rt.target = rt.eps[rt.idx]
		if rt.tried < len(rt.eps) {
			rt.tried++
		}
	case decide.WriteRegion:
		if w, ok := rt.owner.WriteEndpoint(); ok && len(rt.allowed([]*url.URL{w})) == 1 {
			rt.target = w
			return nil
		}
		if !rt.pinned {
			return rt.move(ctx, decide.NextRegion) // the write region is excluded: the next the call may use
		}
	case decide.Refresh:
		if rt.moving != "" {
			// Every region refused the range's write: the account may
			// have moved, and the call follows it from now on.
			rt.moving, rt.settled = "", true
		}
		rt.reset()
		if sameEndpoint(rt.target, rt.sent) {
			return rt.lookUp(ctx)
		}
		// Another call already learned where to go.
	}
	return nil
}

// Region names the endpoint of the next attempt for telemetry: the
// account's name for it, or its host. It scans the account: ask it only
// when the name is recorded.
func (rt *Route) Region() string { return rt.nameOf(rt.target) }

// nameOf names ep: the account's name for it, or its host.
func (rt *Route) nameOf(ep *url.URL) string {
	if rt.owner != nil {
		if a := rt.owner.Account(); a != nil {
			for _, l := range a.Read {
				if sameEndpoint(l.Endpoint, ep) {
					return l.Name
				}
			}
			for _, l := range a.Write {
				if sameEndpoint(l.Endpoint, ep) {
					return l.Name
				}
			}
		}
	}
	return ep.Host
}

// reset points the route at the account's current first choice.
func (rt *Route) reset() {
	if rt.owner == nil || rt.owner.Account() == nil {
		return
	}
	rt.known = true
	if rt.pinned {
		return // an arm of a hedged read keeps its one region
	}
	if rt.write {
		if rt.resetRange() {
			return
		}
		eps := rt.allowed(rt.owner.writeEndpoints())
		if len(eps) == 0 {
			rt.none = len(rt.excluded) > 0
			return
		}
		if rt.multi = rt.owner.Account().MultipleWriteLocations; rt.multi {
			eps = rt.aroundTripped(eps)
			rt.eps, rt.idx, rt.tried = eps, 0, 1
		}
		rt.target = eps[0]
		return
	}
	rt.eps = rt.aroundTripped(rt.allowed(rt.owner.readEndpoints()))
	rt.idx = 0
	if len(rt.eps) == 0 {
		rt.none = len(rt.excluded) > 0
		return
	}
	rt.target = rt.eps[0]
	rt.tried = 1
}

// allowed returns eps without the endpoints of excluded regions. It
// allocates only when the call excludes regions.
func (rt *Route) allowed(eps []*url.URL) []*url.URL {
	if len(rt.excluded) == 0 {
		return eps
	}
	out := make([]*url.URL, 0, len(eps))
	for _, ep := range eps {
		name := rt.nameOf(ep)
		if !slices.ContainsFunc(rt.excluded, func(x string) bool { return strings.EqualFold(x, name) }) {
			out = append(out, ep)
		}
	}
	return out
}

// lookUp waits for an account look-up that can say where the last attempt,
// refused, should go, and resets the route to its account: for a call that
// started without the account (then rt.known says whether it has one
// now), or one whose account still names the refusing endpoint. It first
// joins the newest look-up (in flight, or the last completed); only if
// that one names no other endpoint does it wait for one that started
// after the answer, which cannot predate the change. All calls share these
// look-ups: at most one is in flight. A failed look-up keeps the old
// account (the marks still steer the route); the error is returned only
// when ctx ended.
func (rt *Route) lookUp(ctx context.Context) error {
	if newest := rt.owner.epoch(); newest > 0 {
		if err := rt.owner.refresh(ctx, newest-1); err != nil && ctx.Err() != nil {
			return err
		}
		if rt.reset(); rt.known && !sameEndpoint(rt.target, rt.sent) {
			return nil
		}
	}
	if err := rt.owner.refresh(ctx, rt.answered); err != nil && ctx.Err() != nil {
		return err
	}
	rt.reset()
	return nil
}

// sameEndpoint reports whether a and b name one endpoint (see wire.Endpoint).
func sameEndpoint(a, b *url.URL) bool {
	if a.Scheme == b.Scheme && a.Host == b.Host {
		return true // the common case, without parsing
	}
	return wire.EndpointOf(a) == wire.EndpointOf(b)
}

// Unable turns d, a decision to retry after the answer resp that the
// transport cannot carry out (the body cannot be had again), into the
// decision to end the call with that answer (see decide.Call.Unable).
func (rt *Route) Unable(d decide.Decision, resp *http.Response) decide.Decision {
	return rt.call.Unable(d, resp, rt.last)
}

// InDoubt reports whether an attempt of the call's write may have
// committed unseen, a doubt the call can settle.
func (rt *Route) InDoubt() bool { return rt.call.InDoubt() }

// Placed names where the call's last attempt went, as Pacing does, from
// what the call knows already: its range is "" unless it was known before
// the attempt. It looks nothing up.
func (rt *Route) Placed() (container, rangeID, host string) {
	return rt.container, rt.rangeID, rt.sent.Host
}

// Pacing names where the call's next attempt goes, for throughput control:
// its container ("" for a request about no container's documents), its
// partition key range when known ("" otherwise: the container's ranges are
// not loaded yet, or the call spans ranges), how many ranges the container
// has (0: not known, or not asked for by count), and the endpoint's host.
// The first call of a container starts loading its ranges; none waits for
// them.
func (rt *Route) Pacing(count bool) (container, rangeID string, ranges int, host string) {
	if rt.owner == nil || rt.container == "" {
		return "", "", 0, rt.target.Host
	}
	if rt.rangeID == "" && rt.pk != "" {
		rt.rangeID, _ = rt.owner.rangeOf(rt.container, rt.pk)
	}
	if count {
		ranges = rt.owner.RangeCount(rt.container)
	}
	return rt.container, rt.rangeID, ranges, rt.target.Host
}
