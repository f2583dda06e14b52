package account

import (
	"context"
	"net/url"

	"github.com/cosmosrt/cosmosrt/internal/decide"
)

// A Route is one call's way through the account's endpoints: where each
// attempt goes, what an answer teaches the account, and where the next
// attempt goes after a decision. For a request that is not the account's
// (or with no Router) every attempt goes to the request's own URL and
// answers teach nothing. For the account's requests it follows the
// Router: writes to the write region (in a multi-write account, the write
// regions by preference), reads to the read regions by preference.
//
// A call uses it in this order, once per attempt:
//
//	u := rt.URL()               // where this attempt goes
//	// send to u, judge the answer, ask the policy
//	rt.Answered()               // right after the answer
//	rt.Teach(ctx, d)            // marks, background look-up
//	rt.Next(ctx, d.Route)       // before the next attempt
//
// A Route is not safe for concurrent use.
type Route struct {
	owner  *Router // the account's router if the request is the account's; else nil
	write  bool
	origin *url.URL // the caller's URL

	target   *url.URL // where the next attempt goes
	sent     *url.URL // where the last attempt went
	known    bool     // the account was known when the route was last reset
	multi    bool     // a write in a multi-write account: it may move between write regions
	eps      []*url.URL
	idx      int
	tried    int    // distinct endpoints of eps tried so far
	answered uint64 // the router's epoch when the last answer arrived
}

// NewRoute starts the route of a call to u. r may be nil (no account). If
// r owns u, the account is loaded first (joining a look-up in flight); when
// it cannot be, the call starts at u and asks again when it meets an
// answer that only the account can resolve (403.3; see Learn).
func NewRoute(ctx context.Context, r *Router, u *url.URL, write bool) Route {
	rt := Route{write: write, origin: u, target: u, sent: u}
	if r == nil || !r.Owns(u) {
		return rt
	}
	rt.owner = r
	if r.Ensure(ctx) != nil {
		return rt
	}
	rt.reset()
	return rt
}

// Owned reports whether the call is the account's: routed, signed, and
// able to learn a new write region from the account.
func (rt *Route) Owned() bool { return rt.owner != nil }

// Known reports whether the route follows a loaded account.
func (rt *Route) Known() bool { return rt.known }

// MultiWrite reports a write in a multi-write account, which must allow
// tentative writes so that any write region takes it.
func (rt *Route) MultiWrite() bool { return rt.write && rt.multi }

// OtherRegion reports whether the call can still go to an endpoint it has
// not tried: another read region, or another write region of a multi-write
// account.
func (rt *Route) OtherRegion() bool {
	return rt.known && (!rt.write || rt.multi) && rt.tried < len(rt.eps)
}

// URL returns the caller's URL moved to the endpoint of the next attempt,
// and records that the attempt goes there. It returns the caller's own URL
// when the endpoint is the caller's.
func (rt *Route) URL() *url.URL {
	rt.sent = rt.target
	if sameEndpoint(rt.target, rt.origin) {
		return rt.origin
	}
	u := *rt.origin
	u.Scheme, u.Host = rt.target.Scheme, rt.target.Host
	return &u
}

// Moved reports whether the next attempt goes to another endpoint than the
// last one did.
func (rt *Route) Moved() bool { return !sameEndpoint(rt.sent, rt.target) }

// Answered records that the last attempt's answer arrived: a look-up that
// starts later may know more than the answer did.
func (rt *Route) Answered() {
	if rt.owner != nil {
		rt.answered = rt.owner.Epoch()
	}
}

// Teach carries out what decision d says the last answer teaches the
// account: it marks the endpoint that gave it, and starts a look-up
// without waiting for it.
func (rt *Route) Teach(ctx context.Context, d decide.Decision) {
	if rt.owner == nil {
		return
	}
	if d.Mark {
		rt.owner.MarkUnavailable(rt.sent, rt.write)
	}
	if d.LookUp {
		rt.owner.StartRefresh(ctx, rt.answered)
	}
}

// Learn waits for the account when the call started without it and met an
// answer only the account can resolve (403.3, 403.1008). It reports whether
// the route now follows the account and can resend.
func (rt *Route) Learn(ctx context.Context) bool {
	if rt.known {
		return true
	}
	if rt.owner == nil {
		return false
	}
	return rt.lookUp(ctx) == nil && rt.known
}

// Next moves the route as a decision's route asks. For decide.Refresh it
// waits for an account look-up (see lookUp) unless another call already
// learned where to go. The error is returned only when ctx ended.
func (rt *Route) Next(ctx context.Context, to decide.Route) error {
	if !rt.known {
		return nil
	}
	switch to {
	case decide.NextRegion:
		if rt.write && !rt.multi {
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
		if w, ok := rt.owner.WriteEndpoint(); ok {
			rt.target = w
		}
	case decide.Refresh:
		rt.reset()
		if sameEndpoint(rt.target, rt.sent) {
			return rt.lookUp(ctx)
		}
		// Another call already learned where to go.
	}
	return nil
}

// Region names the endpoint of the next attempt for telemetry: the
// account's name for it, or its host.
func (rt *Route) Region() string {
	if rt.owner != nil {
		if a := rt.owner.Account(); a != nil {
			for _, l := range a.Read {
				if sameEndpoint(l.Endpoint, rt.target) {
					return l.Name
				}
			}
			for _, l := range a.Write {
				if sameEndpoint(l.Endpoint, rt.target) {
					return l.Name
				}
			}
		}
	}
	return rt.target.Host
}

// reset points the route at the account's current first choice.
func (rt *Route) reset() {
	if rt.owner == nil || rt.owner.Account() == nil {
		return
	}
	rt.known = true
	if rt.write {
		eps := rt.owner.WriteEndpoints()
		if len(eps) == 0 {
			return
		}
		rt.target = eps[0]
		if rt.multi = rt.owner.Account().MultipleWriteLocations; rt.multi {
			rt.eps, rt.idx, rt.tried = eps, 0, 1
		}
		return
	}
	rt.eps = rt.owner.ReadEndpoints()
	rt.idx = 0
	if len(rt.eps) > 0 {
		rt.target = rt.eps[0]
		rt.tried = 1
	}
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
	if newest := rt.owner.Epoch(); newest > 0 {
		if err := rt.owner.Refresh(ctx, newest-1); err != nil && ctx.Err() != nil {
			return err
		}
		if rt.reset(); rt.known && !sameEndpoint(rt.target, rt.sent) {
			return nil
		}
	}
	if err := rt.owner.Refresh(ctx, rt.answered); err != nil && ctx.Err() != nil {
		return err
	}
	rt.reset()
	return nil
}

func sameEndpoint(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}
