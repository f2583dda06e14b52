package transport

import (
	"context"
	"net/url"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/decide"
)

// route is one call's view of where its attempts go. For a request that
// is not the account's (or with no account configured) every attempt goes
// to the request's own URL. For the account's requests it follows the
// router: writes to the write region (in a multi-write account, the write
// regions by preference), reads to the read regions by preference. Not
// safe for concurrent use.
type route struct {
	owner  *account.Router // the account's router if the request is the account's; else nil
	write  bool
	origin *url.URL // the caller's URL

	target *url.URL // where the next attempt goes
	sent   *url.URL // where the last attempt went
	known  bool     // the account was known when the route was last reset
	multi  bool     // a write in a multi-write account: it may move between write regions
	eps    []*url.URL
	idx    int
	tried  int // distinct endpoints of eps tried so far
}

// newRoute starts a call's route. owner is the router when the request is
// the account's (see account.Router.Owns), else nil. When the account
// cannot be loaded the call starts at the caller's URL; it asks again
// when it meets an answer that only the account can resolve (403.3).
func newRoute(ctx context.Context, owner *account.Router, u *url.URL, write bool) route {
	rt := route{owner: owner, write: write, origin: u, target: u}
	if owner == nil || owner.Ensure(ctx) != nil {
		return rt
	}
	rt.reset()
	return rt
}

// reset points the route at the account's current first choice.
func (rt *route) reset() {
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

// hasOther reports whether the call can still go to an endpoint it has not
// tried: another read region, or another write region of a multi-write
// account.
func (rt *route) hasOther() bool {
	return rt.known && (!rt.write || rt.multi) && rt.tried < len(rt.eps)
}

// canRefresh reports whether the route has an account to ask where to go
// after a 403.3 or 403.1008.
func (rt *route) canRefresh() bool { return rt.owner != nil }

// tentative reports whether the attempt is a write to a multi-write
// account, which must allow tentative writes to be taken by any write
// region.
func (rt *route) tentative() bool { return rt.write && rt.multi }

// observe teaches the account what an answer says about the endpoint that
// gave it, whether or not the call goes on: an endpoint that refused a
// write (403.3), no longer serves the account (403.1008), could not be
// reached or had its circuit open is marked, so that other calls avoid it,
// and for writes the account is looked up again, since the write region
// may have moved. A call that resends after a 403.3 waits for that look-up
// itself (advance); one that does not (resending is its only way to learn
// the result) starts it without waiting. answered is the router's
// epoch when the answer arrived.
func (rt *route) observe(ctx context.Context, o decide.Outcome, answered uint64, resending bool) {
	if rt.owner == nil {
		return
	}
	switch o {
	case decide.WriteForbidden, decide.RegionNotFound:
		rt.owner.MarkUnavailable(rt.sent, rt.write)
		if !resending {
			rt.owner.StartRefresh(ctx, answered)
		}
	case decide.NeverSent, decide.CircuitOpen:
		rt.owner.MarkUnavailable(rt.sent, rt.write)
		if rt.write && !rt.multi {
			rt.owner.StartRefresh(ctx, answered)
		}
	case decide.Unavailable:
		if !rt.write || rt.multi { // a single write region is retried in place: the service says it is safe
			rt.owner.MarkUnavailable(rt.sent, rt.write)
		}
	}
}

// advance moves the route as the decision asks. For Refresh it waits for
// an account look-up (see lookUp) unless another call already learned
// where to go. answered is the router's epoch when the answer arrived.
func (rt *route) advance(ctx context.Context, d decide.Decision, answered uint64) error {
	if !rt.known {
		return nil
	}
	switch d.Route {
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
			return rt.lookUp(ctx, answered)
		}
		// Another call already learned where to go.
	}
	return nil
}

// lookUp waits for an account look-up that can say where the last attempt,
// refused, should go, and resets the route to its account: for a call that
// started without the account (then rt.known says whether it has one
// now), or one whose account still names the refusing endpoint. It first joins
// the newest look-up (in flight, or the last completed); only if that one
// names no other endpoint does it wait for one that started after the
// answer (answered is the router's epoch then), which cannot predate the
// change. All calls share these look-ups: at most one is in flight. A
// failed look-up keeps the old account (the marks still steer the route);
// the error is returned only when ctx ended.
func (rt *route) lookUp(ctx context.Context, answered uint64) error {
	if newest := rt.owner.Epoch(); newest > 0 {
		if err := rt.owner.Refresh(ctx, newest-1); err != nil && ctx.Err() != nil {
			return err
		}
		if rt.reset(); rt.known && !sameEndpoint(rt.target, rt.sent) {
			return nil
		}
	}
	if err := rt.owner.Refresh(ctx, answered); err != nil && ctx.Err() != nil {
		return err
	}
	rt.reset()
	return nil
}

// regionName names the target for telemetry: the account's name for it, or its host.
func (rt *route) regionName() string {
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

func sameEndpoint(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

// urlFor returns the caller's URL moved to the target endpoint, for an
// attempt about to be sent there.
func (rt *route) urlFor() *url.URL {
	rt.sent = rt.target
	if sameEndpoint(rt.target, rt.origin) {
		return rt.origin
	}
	u := *rt.origin
	u.Scheme, u.Host = rt.target.Scheme, rt.target.Host
	return &u
}
