package transport

import (
	"context"
	"net/url"

	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// route is one call's view of where its attempts go. With no router, or for
// a request outside the account, every attempt goes to the request's own
// URL. Not safe for concurrent use.
type route struct {
	router *region.Router
	write  bool
	origin *url.URL // the caller's URL

	target  *url.URL // where the next attempt goes
	reads   []*url.URL
	readIdx int
	tried   int // distinct read regions tried so far
}

// newRoute starts a call's route; owned says r owns u (see region.Router.Owns).
func newRoute(ctx context.Context, r *region.Router, owned bool, u *url.URL, write bool) route {
	rt := route{write: write, origin: u, target: u}
	if !owned {
		return rt
	}
	if err := r.Ensure(ctx); err != nil {
		// The account is unknown for now: the caller's URL is all we have.
		return rt
	}
	rt.router = r
	rt.reset()
	return rt
}

// reset points the route at the account's current first choice.
func (rt *route) reset() {
	if rt.router == nil {
		return
	}
	if rt.write {
		if w, ok := rt.router.WriteEndpoint(); ok {
			rt.target = w
		}
		return
	}
	rt.reads = rt.router.ReadEndpoints()
	rt.readIdx = 0
	if len(rt.reads) > 0 {
		rt.target = rt.reads[0]
		rt.tried = 1
	}
}

// hasOther reports whether a read can still go to a region it has not tried.
func (rt *route) hasOther() bool {
	return rt.router != nil && !rt.write && rt.tried < len(rt.reads)
}

// advance moves the route as the decision asks. For Refresh it marks the
// last endpoint, forces an account refresh (at most one look-up in flight
// for all calls) and re-reads the account; epoch is the router's epoch when
// the answer that asked for it arrived.
func (rt *route) advance(ctx context.Context, d policy.Decision, epoch uint64) error {
	if rt.router == nil {
		return nil
	}
	switch d.Route {
	case policy.NextRegion:
		if rt.write || len(rt.reads) == 0 {
			return nil
		}
		if marksRegion(d.Reason) {
			rt.router.MarkUnavailable(rt.target, false)
		}
		rt.readIdx = (rt.readIdx + 1) % len(rt.reads)
		rt.target = rt.reads[rt.readIdx]
		if rt.tried < len(rt.reads) {
			rt.tried++
		}
	case policy.WriteRegion:
		if w, ok := rt.router.WriteEndpoint(); ok {
			rt.target = w
		}
	case policy.Refresh:
		failed := rt.target
		rt.router.MarkUnavailable(failed, rt.write)
		rt.reset()
		if !sameEndpoint(rt.target, failed) {
			// Another call already learned where to go.
			return nil
		}
		if err := rt.router.Refresh(ctx, epoch); err != nil && ctx.Err() != nil {
			return err
		}
		// A failed look-up keeps the old account; the marks still steer us.
		rt.reset()
	}
	return nil
}

// regionName names the target for telemetry: the account's name for it, or its host.
func (rt *route) regionName() string {
	if rt.router != nil {
		if a := rt.router.Account(); a != nil {
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

// urlFor returns the caller's URL moved to the target endpoint.
func (rt *route) urlFor() *url.URL {
	if sameEndpoint(rt.target, rt.origin) {
		return rt.origin
	}
	u := *rt.origin
	u.Scheme, u.Host = rt.target.Scheme, rt.target.Host
	return &u
}

// marksRegion reports whether an outcome says the endpoint itself is out,
// so that other calls should avoid it too until the mark expires.
func marksRegion(o policy.Outcome) bool {
	switch o {
	case policy.Unavailable, policy.NeverSent, policy.CircuitOpen:
		return true
	}
	return false
}
